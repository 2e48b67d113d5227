package expeed_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
)

func waitOnline(t *testing.T, r *runner, id string, want bool) {
	t.Helper()
	r.rec.WaitFor(t, 5*time.Second, id+" availability", func() bool {
		on, known := r.rec.Online(id)
		return known && on == want
	})
}

// A cloud whose pushes use 1 = online (the query API's encoding, not the
// push table's): three pushes contradicted by the status query flip the
// mapping; availability follows the query throughout.
func TestOnlineEncodingCalibrates(t *testing.T) {
	h := newHarness(t, expeedsim.Options{PushOnlineValue: 1}, "")
	defer h.Close()
	config := strings.Replace(h.Config(), "push_status_online_value: 1\n", "", 1) // keep the default, 0
	r := mustStart(t, h, config, buildOpt{})
	r.ready(10 * time.Second)
	if v := r.lastStatus().Info["push_status_online_value"]; v != "0" {
		t.Fatalf("starting mapping %q", v)
	}
	queries := func() int { return countOps(h.sim.Requests(), "device_status") }
	online := true
	for i := 0; i < 3; i++ {
		online = !online
		q := queries()
		h.sim.SetOnline("AQ0001", online)
		r.rec.WaitFor(t, 5*time.Second, "the calibration query", func() bool { return queries() > q })
		waitOnline(t, r, "AQ0001", online)
	}
	r.rec.WaitFor(t, 5*time.Second, "the flipped mapping in the status", func() bool {
		return r.lastStatus().Info["push_status_online_value"] == "1"
	})
	if !strings.Contains(r.logs.String(), "push online encoding flipped") {
		t.Error("the flip was not logged")
	}
	// Now a push alone gives the right availability; one agreeing query settles it.
	q := queries()
	h.sim.SetOnline("AQ0001", !online)
	waitOnline(t, r, "AQ0001", !online)
	r.rec.WaitFor(t, 5*time.Second, "the confirming query", func() bool { return queries() > q })
	time.Sleep(50 * time.Millisecond)
	q = queries()
	h.sim.SetOnline("AQ0001", online)
	waitOnline(t, r, "AQ0001", online)
	time.Sleep(100 * time.Millisecond)
	if n := queries() - q; n != 0 {
		t.Errorf("%d status queries after the encoding was settled", n)
	}
}

// With the documented encoding (0 = online) the first query agrees and
// calibration stops; with calibration off no query is made.
func TestOnlineEncodingConfigured(t *testing.T) {
	h := newHarness(t, expeedsim.Options{PushOnlineValue: 1}, "push_calibrate: false\n")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	q := countOps(h.sim.Requests(), "device_status")
	h.sim.SetOnline("PL0001", false)
	waitOnline(t, r, "PL0001", false)
	h.sim.SetOnline("PL0001", true)
	waitOnline(t, r, "PL0001", true)
	time.Sleep(100 * time.Millisecond)
	if n := countOps(h.sim.Requests(), "device_status") - q; n != 0 {
		t.Errorf("%d status queries with push_calibrate: false", n)
	}
	if r.lastStatus().Info["push_status_online_value"] != "1" {
		t.Errorf("status info %v", r.lastStatus().Info)
	}
}

// Devices that push are not polled; quiet ones are, every safety_poll.
func TestSafetyPollOnlyQuietDevices(t *testing.T) {
	// safety_poll is 20 push intervals long, so a loaded machine delaying a
	// few pushes does not make the pushing device look quiet.
	h := newHarness(t, expeedsim.Options{}, "safety_poll: 1s\n")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	raw := 100.0
	h.sim.SetValue("TH0001", "temp", raw)
	r.rec.WaitValue(t, 5*time.Second, "TH0001", "temp", raw/10)
	start := len(h.sim.Requests())
	deadline := time.Now().Add(3500 * time.Millisecond)
	for time.Now().Before(deadline) {
		raw++
		h.sim.SetValue("TH0001", "temp", raw)
		time.Sleep(50 * time.Millisecond)
	}
	perDevice := map[string]int{}
	for _, q := range h.sim.Requests()[start:] {
		if strings.Contains(q.Op, "currentDatapoints") {
			perDevice[q.Device]++
		}
	}
	if perDevice["TH0001"] != 0 {
		t.Errorf("the pushing thermostat was polled %d times", perDevice["TH0001"])
	}
	if perDevice["PL0001"] < 2 || perDevice["AQ0001"] < 2 {
		t.Errorf("quiet devices polled %v times in 3.5 s with safety_poll 1s", perDevice)
	}
}

// REST calls keep to requests_per_second.
func TestRequestsArePaced(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "requests_per_second: 20\nburst: 1\n")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	if err := r.a.(vendors.Refresher).Refresh(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	reqs := h.sim.Requests()
	if len(reqs) < 12 {
		t.Fatalf("only %d requests", len(reqs))
	}
	// At 20/s with a burst of 1, j-i requests after request i need at least
	// (j-i-1)·50ms; one more interval of slack absorbs a request that was
	// granted on time but reached the simulator late.
	const interval = 50 * time.Millisecond
	for i := range reqs {
		for j := i + 2; j < len(reqs); j++ {
			if span := reqs[j].Time.Sub(reqs[i].Time); span < time.Duration(j-i-2)*interval {
				t.Fatalf("requests %d..%d came within %s; 20/s needs at least %s", i, j, span, time.Duration(j-i-1)*interval)
			}
		}
	}
	if span := reqs[len(reqs)-1].Time.Sub(reqs[0].Time); span < time.Duration(len(reqs)-2)*interval {
		t.Fatalf("%d requests in %s", len(reqs), span)
	}
}

// History pages with the cursor, is bounded, and never becomes live state.
func TestHistory(t *testing.T) {
	h := newHarness(t, expeedsim.Options{HistorySeed: 500}, "history_max_pages: 4\n")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	r.connected(5 * time.Second)
	req := r.a.(vendors.Requester)
	ctx := context.Background()
	before, _ := r.rec.Value("TH0001", "temp")
	statuses := len(r.rec.Statuses())

	res, err := req.Request(ctx, "history", json.RawMessage(`{"device":"expeed/TH0001","datapoints":["temp"],"limit":50,"max_pages":3,"order":"oldest"}`))
	if err != nil {
		t.Fatal(err)
	}
	hr := res.(*expeed.HistoryResult)
	if hr.Pages != 3 || len(hr.Records) != 150 || hr.Complete || hr.Cursor == "" {
		t.Fatalf("pages %d records %d complete %v cursor %q", hr.Pages, len(hr.Records), hr.Complete, hr.Cursor)
	}
	var last time.Time
	for _, rec := range hr.Records {
		at, err := time.Parse(time.RFC3339Nano, rec.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		if !at.After(last) {
			t.Fatalf("records not oldest first or repeated at %s", rec.Timestamp)
		}
		last = at
		if _, ok := rec.Values["temp"]; !ok || len(rec.Raw) != 1 {
			t.Fatalf("record %+v: want temp only", rec)
		}
	}
	// Continue from the cursor to the end.
	more, err := req.Request(ctx, "history", json.RawMessage(`{"device":"TH0001","datapoints":"temp","limit":200,"order":"oldest","cursor":"`+hr.Cursor+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	mr := more.(*expeed.HistoryResult)
	if !mr.Complete || mr.Cursor != "" || len(mr.Records) == 0 {
		t.Fatalf("continuation: pages %d records %d complete %v", mr.Pages, len(mr.Records), mr.Complete)
	}
	if first, _ := time.Parse(time.RFC3339Nano, mr.Records[0].Timestamp); !first.After(last) {
		t.Error("the continuation repeats records")
	}
	// A time window, newest first.
	end := time.Now().Add(-10 * time.Minute).UTC()
	win, err := req.Request(ctx, "history", json.RawMessage(`{"device":"PL0001","start":"`+end.Add(-30*time.Minute).Format(time.RFC3339)+`","end":"`+end.Format(time.RFC3339)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	wr := win.(*expeed.HistoryResult)
	if len(wr.Records) < 25 || len(wr.Records) > 31 || !wr.Complete {
		t.Fatalf("30-minute window gave %d records (complete %v)", len(wr.Records), wr.Complete)
	}
	if v, _ := r.rec.Value("TH0001", "temp"); v != before || len(r.rec.Statuses()) != statuses {
		t.Errorf("history changed the live state: temp %v → %v", before, v)
	}

	// Bad requests fail before any call.
	n := len(h.sim.Requests())
	for params, code := range map[string]string{
		`{"device":"TH0001","start":"2024-01-01T00-00-00-000"}`: vendors.CodeInvalidValue,
		`{"device":"TH0001","limit":6001}`:                      vendors.CodeInvalidValue,
		`{"device":"TH0001","max_pages":5}`:                     vendors.CodeInvalidValue,
		`{"device":"TH0001","order":"sideways"}`:                vendors.CodeInvalidValue,
		`{"device":"TH0001","bogus":1}`:                         vendors.CodeInvalidValue,
		`{}`:                                                    vendors.CodeInvalidValue,
		`{"device":"nope"}`:                                     vendors.CodeUnknownDevice,
	} {
		if _, err := req.Request(ctx, "history", json.RawMessage(params)); vendors.Code(err) != code {
			t.Errorf("%s: got %v, want %s", params, err, code)
		}
	}
	if _, err := req.Request(ctx, "nope", nil); vendors.Code(err) != vendors.CodeNotSupported {
		t.Errorf("unknown action: %v", err)
	}
	if len(h.sim.Requests()) != n {
		t.Error("bad history requests reached the cloud")
	}
}

// A device that pushes without being configured is logged, or with
// learn_devices added (read-only, guessed entities) and remembered.
func TestUnknownDevices(t *testing.T) {
	devs := expeedsim.Fixtures(1)
	devs = append(devs, expeedsim.Device{ID: "XX0009", Key: "kx-0123456789", SN: "SNXX9", Points: []expeedsim.Point{
		{Name: "temperature", Value: 201, Min: -100, Max: 1000},
		{Name: "Relay", Value: 1, Min: 0, Max: 1, Writable: true},
		{Name: "co2", Value: 600, Min: 0, Max: 5000},
	}})
	h := newHarness(t, expeedsim.Options{Devices: devs}, "")
	defer h.Close()
	config := withoutDevice(h.Config(), "XX0009")

	r := mustStart(t, h, config, buildOpt{})
	r.ready(10 * time.Second)
	h.sim.SetValue("XX0009", "co2", 700)
	r.rec.WaitFor(t, 5*time.Second, "the log line", func() bool {
		return strings.Contains(r.logs.String(), "push from a device not in the config")
	})
	if _, ok := r.rec.Devices()["XX0009"]; ok {
		t.Fatal("an unknown device was added without learn_devices")
	}
	r.stop()

	dir := t.TempDir()
	learn := config + "learn_devices: true\n"
	r2 := mustStart(t, h, learn, buildOpt{dir: dir})
	r2.ready(10 * time.Second)
	h.sim.SetValues("XX0009", map[string]float64{"temperature": 215, "Relay": 0, "co2": 650})
	r2.rec.WaitValue(t, 5*time.Second, "XX0009", "co2", 650.0)
	d := r2.rec.Devices()["XX0009"]
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string]vendors.Entity{
		"temperature": {Platform: vendors.Sensor, DeviceClass: "temperature", Unit: "°C"},
		"relay":       {Platform: vendors.BinarySensor, DeviceClass: "power"},
		"co2":         {Platform: vendors.Sensor, DeviceClass: "carbon_dioxide", Unit: "ppm"},
	}
	for k, w := range want {
		e, ok := d.Entity(k)
		if !ok || e.Platform != w.Platform || e.DeviceClass != w.DeviceClass || e.Unit != w.Unit || e.Writable {
			t.Errorf("learnt entity %s: %+v", k, e)
		}
	}
	if v, _ := r2.rec.Value("XX0009", "relay"); v != vendors.Off {
		t.Errorf("relay %v", v)
	}
	if err := r2.exec(vendors.Command{DeviceID: "XX0009", Key: "relay", Value: true}); vendors.Code(err) != vendors.CodeReadOnly {
		t.Errorf("learnt entities must be read-only: %v", err)
	}
	r2.stop()

	r3 := mustStart(t, h, learn, buildOpt{dir: dir})
	r3.ready(10 * time.Second)
	if _, ok := r3.rec.Devices()["XX0009"]; !ok {
		t.Fatal("the learnt device was forgotten across a restart")
	}
	// The learnt device_key lets the adapter read it like a configured one
	// (learnt datapoints have no scale).
	r3.rec.WaitValue(t, 5*time.Second, "XX0009", "temperature", 215.0)
	noSecrets(t, "logs", r2.logs.String()+r3.logs.String(), append(h.Secrets(), "kx-0123456789"))
}

// withoutDevice removes one device's block from an account config.
func withoutDevice(config, id string) string {
	var out []string
	skip := false
	for _, line := range strings.Split(config, "\n") {
		if strings.HasPrefix(line, "  - device_id:") {
			skip = strings.Contains(line, `"`+id+`"`)
		} else if !strings.HasPrefix(line, "    ") {
			skip = false
		}
		if !skip {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
