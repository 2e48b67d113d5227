package shelly

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
)

func gets(r *rig) int { return r.count("POST /v2/devices/api/get") }

func TestCloudRoundCostsCeilNOver10Requests(t *testing.T) {
	for _, n := range []int{6, 10, 25} {
		r := newCloudRig(t, shellysim.Options{Devices: n})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := r.adapter.(vendors.Refresher).Refresh(ctx, ""); err != nil {
			t.Fatalf("%d devices: refresh: %v", n, err)
		}
		cancel()
		want := (n + 9) / 10
		if got := gets(r); got != want {
			t.Errorf("%d devices: a round cost %d requests, want ⌈N/10⌉ = %d", n, got, want)
		}
		if v := r.sim.Violations(); v != 0 {
			t.Errorf("%d devices: %d violations (rate or more than 10 ids)", n, v)
		}
	}
}

// TestCloudPacingAgainstTheLimit measures the request rate the adapter
// keeps against the simulator's 1 request/s; docs/vendors/shelly.md quotes
// its log line.
func TestCloudPacingAgainstTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10 s")
	}
	r := newCloudRig(t, shellysim.Options{Devices: 35}, "poll_interval: 1s")
	r.start()
	pm := r.deviceByCode("SNSW-001P16EU")
	time.Sleep(3 * time.Second)
	for i := 0; i < 3; i++ {
		if err := r.exec(pm.ID, "switch_0", i%2 == 0); err != nil {
			t.Errorf("command: %v", err)
		}
	}
	time.Sleep(4 * time.Second)
	reqs := r.sim.Requests()
	if len(reqs) < 2 {
		t.Fatal("too few requests")
	}
	minGap := time.Hour
	for i := 1; i < len(reqs); i++ {
		if g := reqs[i].Time.Sub(reqs[i-1].Time); g < minGap {
			minGap = g
		}
	}
	span := reqs[len(reqs)-1].Time.Sub(reqs[0].Time)
	rate := float64(len(reqs)-1) / span.Seconds()
	t.Logf("observed: %d requests in %s = %.3f req/s, smallest gap %s, simulator limit 1 req/s, violations %d",
		len(reqs), span.Round(time.Millisecond), rate, minGap.Round(time.Millisecond), r.sim.Violations())
	if minGap < time.Second || r.sim.Violations() != 0 || rate > 1 {
		t.Errorf("the limit was broken: gap %s, rate %.3f, violations %d", minGap, rate, r.sim.Violations())
	}
}

func TestCloudCommandsGoBeforePolls(t *testing.T) {
	r := newCloudRig(t, shellysim.Options{Devices: 40}, "poll_interval: 1s")
	r.start()
	time.Sleep(1500 * time.Millisecond) // polls are queued back to back now
	pm := r.deviceByCode("SNSW-001P16EU")
	start := time.Now()
	if err := r.exec(pm.ID, "switch_0", true); err != nil {
		t.Fatal(err)
	}
	between := 0
	for _, q := range r.sim.Requests() {
		if q.Time.Before(start) {
			continue
		}
		if strings.HasSuffix(q.Op, "set/switch") {
			break
		}
		between++
	}
	// At most the poll that already held the turn goes first.
	if between > 1 {
		t.Errorf("%d polls went before the waiting command", between)
	}
	r.rec.WaitValue(t, 10*time.Second, pm.ID, "switch_0", "ON")
}

func TestCloudSeveralChannelsShareOneGroupRequest(t *testing.T) {
	r := newCloudRig(t, shellysim.Options{Devices: 12}, "poll_interval: 1h")
	r.start()
	r.waitDevices(12)
	var relays []string
	for _, d := range r.sim.Devices() {
		if d.Code == "SNSW-001P16EU" || d.Code == "SHPLG-S" {
			relays = append(relays, d.ID)
		}
	}
	// The round just used the turn, so the commands wait together.
	var wg sync.WaitGroup
	errs := make([]error, len(relays))
	for i, id := range relays {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = r.exec(id, "switch_0", true) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", relays[i], err)
		}
	}
	if n := r.count("POST /v2/devices/api/set/groups"); n != 1 || r.count("POST /v2/devices/api/set/switch") != 0 {
		t.Errorf("%d set/groups and %d set/switch for %d identical commands, want one group", n, r.count("POST /v2/devices/api/set/switch"), len(relays))
	}
	for _, id := range relays {
		r.rec.WaitValue(t, 10*time.Second, id, "switch_0", "ON")
	}
}

func TestCloudValidatesLocallyBeforeAnyCall(t *testing.T) {
	r := newCloudRig(t, shellysim.Options{}, "poll_interval: 1h")
	c := r.adapter.(*cloud)
	pm := r.deviceByCode("SNSW-001P16EU")
	ctx := context.Background()
	for body, code := range map[string]string{
		`{"id":"` + pm.ID + `","on":true,"toggle_after":-1}`: vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `"}`:                             vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","on":true,"channel":1.5}`:     vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","on":true,"extra":1}`:         vendors.CodeInvalidValue,
		`{"id":"aabbccddeeff","on":true}`:                    vendors.CodeUnknownDevice,
	} {
		if _, err := c.Request(ctx, "set/switch", json.RawMessage(body)); vendors.Code(err) != code {
			t.Errorf("set/switch %s: %v, want %s", body, err, code)
		}
	}
	for body, code := range map[string]string{
		`{"id":"` + pm.ID + `","position":40,"relative":10}`:       vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","position":40,"duration":3}`:        vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","position":"half"}`:                 vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","position":101}`:                    vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `","relative":-101}`:                   vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `","slatPosition":5,"slatRelative":5}`: vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `"}`:                                   vendors.CodeInvalidValue,
	} {
		if _, err := c.Request(ctx, "set/cover", json.RawMessage(body)); vendors.Code(err) != code {
			t.Errorf("set/cover %s: %v, want %s", body, err, code)
		}
	}
	for body, code := range map[string]string{
		`{"id":"` + pm.ID + `","temperature":3000,"red":10}`:    vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","mode":"white","gain":10}`:       vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","mode":"color","brightness":10}`: vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","mode":"disco"}`:                 vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","temperature":2600}`:             vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `","brightness":101}`:               vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `","red":256}`:                      vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `","red":1.5}`:                      vendors.CodeInvalidValue,
		`{"id":"` + pm.ID + `","gain":-1}`:                      vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `","effect":7}`:                     vendors.CodeOutOfRange,
		`{"id":"` + pm.ID + `"}`:                                vendors.CodeInvalidValue,
	} {
		if _, err := c.Request(ctx, "set/light", json.RawMessage(body)); vendors.Code(err) != code {
			t.Errorf("set/light %s: %v, want %s", body, err, code)
		}
	}
	for body, code := range map[string]string{
		`{}`: vendors.CodeInvalidValue,
		`{"switch":{"ids":[],"command":{"on":true}}}`:                          vendors.CodeInvalidValue,
		`{"switch":{"ids":["` + pm.ID + `_x"],"command":{"on":true}}}`:         vendors.CodeInvalidValue,
		`{"light":{"ids":["` + pm.ID + `_0"],"command":{"temperature":2400}}}`: vendors.CodeOutOfRange,
		`{"switch":{"ids":["aabbccddeeff_0"],"command":{"on":true}}}`:          vendors.CodeUnknownDevice,
	} {
		if _, err := c.Request(ctx, "set/groups", json.RawMessage(body)); vendors.Code(err) != code {
			t.Errorf("set/groups %s: %v, want %s", body, err, code)
		}
	}
	if _, err := c.Request(ctx, "set/fan", json.RawMessage(`{}`)); vendors.Code(err) != vendors.CodeNotSupported {
		t.Errorf("unknown action: %v", err)
	}
	// The groups light range is the API's own (2500 K), the single one 2700 K.
	var g groupReq
	_ = json.Unmarshal([]byte(`{"light":{"ids":["`+pm.ID+`_0"],"command":{"temperature":2500}}}`), &g)
	if err := g.validate(); err != nil {
		t.Errorf("2500 K refused for groups: %v", err)
	}
	if n := len(r.sim.Requests()); n != 0 {
		t.Errorf("%d requests reached the cloud for invalid commands", n)
	}
}

func TestCloudEntityCommandsCheckedLocally(t *testing.T) {
	r := newCloudRig(t, shellysim.Options{}, "poll_interval: 1h")
	r.start()
	r.waitDevices(6)
	rgbw := r.deviceByCode("SHRGBW2")
	cover := r.deviceByCode("SNSW-102P16EU")
	before := len(r.sim.Requests())
	on := true
	for name, c := range map[string]struct {
		id, key string
		v       any
		code    string
	}{
		"colour temp on an RGBW light": {rgbw.ID, "light_0", vendors.LightCommand{On: &on, ColorTemp: intp(3000)}, vendors.CodeNotSupported},
		"unknown effect":               {rgbw.ID, "light_0", vendors.LightCommand{Effect: "Disco"}, vendors.CodeInvalidValue},
		"tilt without slats":           {cover.ID, "cover_0", vendors.CoverCommand{Tilt: intp(10)}, vendors.CodeNotSupported},
		"position out of range":        {cover.ID, "cover_0", vendors.CoverCommand{Position: intp(120)}, vendors.CodeOutOfRange},
		"sensor":                       {cover.ID, "power_0", 1.0, vendors.CodeReadOnly},
		"unknown key":                  {cover.ID, "nope", true, vendors.CodeUnknownKey},
	} {
		if err := r.exec(c.id, c.key, c.v); vendors.Code(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
	if n := len(r.sim.Requests()) - before; n != 0 {
		t.Errorf("%d requests for commands refused locally", n)
	}
	if err := r.exec(rgbw.ID, "light_0", vendors.LightCommand{Effect: "Flash"}); err != nil {
		t.Errorf("effect: %v", err)
	}
	if l := r.sim.Status(rgbw.ID)["lights"].([]any)[0].(map[string]any); l["effect"] != 3.0 || l["ison"] != true {
		t.Errorf("after the effect: %v", l)
	}
}

func TestCloudErrorStringsBecomeResultCodes(t *testing.T) {
	r := newCloudRig(t, shellysim.Options{}, "poll_interval: 1h")
	r.start()
	r.waitDevices(6)
	pm := r.deviceByCode("SNSW-001P16EU")
	plug := r.deviceByCode("SHPLG-S")
	c := r.adapter.(*cloud)
	ctx := context.Background()

	// Offline at the cloud, not yet known here: the cloud's DEVICE_OFFLINE.
	r.sim.SetOnline(pm.ID, false)
	if err := r.exec(pm.ID, "switch_0", true); vendors.Code(err) != vendors.CodeOffline {
		t.Errorf("offline device: %v", err)
	}
	// A relay asked to move like a cover.
	if _, err := c.Request(ctx, "set/cover", json.RawMessage(`{"id":"`+plug.ID+`","position":"open"}`)); vendors.Code(err) != "DEVICE_INVALID_MODE" {
		t.Errorf("cover command on a relay: %v (%s)", err, vendors.Code(err))
	}
	// A group with one offline member reports failedCommands.
	out, err := c.Request(ctx, "set/groups", json.RawMessage(`{"switch":{"ids":["`+pm.ID+`_0","`+plug.ID+`_0"],"command":{"on":false}}}`))
	if err == nil || !strings.Contains(err.Error(), pm.ID+"_0=DEVICE_OFFLINE") {
		t.Errorf("group with an offline device: %v", err)
	}
	if m, _ := out.(map[string]any); m == nil || m["failedCommands"] == nil {
		t.Errorf("group result %v", out)
	}
	if v := r.sim.Violations(); v != 0 {
		t.Errorf("%d violations", v)
	}
}

func TestCloudThrottledAs401Recovers(t *testing.T) {
	r := newCloudRig(t, shellysim.Options{ThrottleStatus: 401}, "poll_interval: 1s")
	r.start()
	r.waitDevices(6)
	r.sim.ThrottleNext(0, 1)
	plug := r.deviceByCode("SHPLG-S")
	on, _ := r.sim.Toggle(plug.ID)
	r.rec.WaitValue(t, 10*time.Second, plug.ID, "switch_0", onOff(on))
	select {
	case err := <-r.done:
		t.Fatalf("Run ended after one 401: %v", err)
	default:
	}
}

func TestCloudUnknownConfiguredDeviceIsReportedOnce(t *testing.T) {
	sim := newSim(t, shellysim.Options{})
	r := &rig{t: t, sim: sim, storeD: t.TempDir()}
	r.build(strings.Replace(sim.CloudConfig("test", "poll_interval: 1200ms", "backoff_base: 20ms"), "devices:\n", "devices:\n  - 00aabbccddee\n", 1))
	r.start()
	r.waitDevices(6)
	time.Sleep(3 * time.Second)
	if n := strings.Count(r.logs.String(), "does not return this configured device"); n != 1 {
		t.Errorf("missing device reported %d times", n)
	}
	if _, ok := r.rec.Devices()["00aabbccddee"]; ok {
		t.Error("a device the cloud never returned is in the inventory")
	}
}

func TestCloudAuthKeyStaysOutOfErrors(t *testing.T) {
	sim := newSim(t, shellysim.Options{})
	r := &rig{t: t, sim: sim, storeD: t.TempDir()}
	cfg := strings.Replace(sim.CloudConfig("test", "backoff_base: 20ms", "request_timeout: 1s"), sim.URL(), "http://127.0.0.1:1", 1)
	r.build(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.adapter.(vendors.Refresher).Refresh(ctx, "")
	if err == nil {
		t.Fatal("a refresh against a closed port succeeded")
	}
	if strings.Contains(err.Error(), sim.AuthKey()) || strings.Contains(err.Error(), "auth_key=") {
		t.Errorf("the error carries the key: %v", err)
	}
}

func TestGateHoldsEveryRequestAfterAThrottledAnswer(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		first := len(arrivals) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	g := accountGate(srv.URL, "k-gate-test", 100*time.Millisecond)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
			if _, _, err := g.exchange(context.Background(), srv.Client(), req, time.Second); err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	if len(arrivals) != 3 {
		t.Fatalf("%d requests", len(arrivals))
	}
	if gap := arrivals[1].Sub(arrivals[0]); gap < time.Second {
		t.Errorf("a request went %s after a 429 asking for 1 s", gap)
	}
	if gap := arrivals[2].Sub(arrivals[1]); gap < 100*time.Millisecond {
		t.Errorf("requests %s apart, the interval is 100ms", gap)
	}
}
