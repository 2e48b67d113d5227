package shelly

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

func logins(r *rig) int {
	n := 0
	for _, q := range r.sim.Requests() {
		if q.Login {
			n++
		}
	}
	return n
}

func TestIntegratorTokenIsStoredAndReused(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	if n := logins(r); n != 1 {
		t.Fatalf("%d token requests for one start, want 1", n)
	}
	r.restart(r.sim.IntegratorConfig("test", "backoff_base: 20ms", "verify_interval: 1ms"))
	r.waitDevices(6)
	r.rec.WaitFor(t, 5*time.Second, "both servers connected", func() bool { return len(r.sim.Connections()) == 2 })
	if n := logins(r); n != 1 {
		t.Errorf("a restart fetched a new token (%d requests); the stored one is still valid", n)
	}
}

func TestIntegratorRefreshesTheTokenBeforeItExpires(t *testing.T) {
	r := newItgRig(t, shellysim.Options{TokenTTL: 3 * time.Second})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	time.Sleep(5 * time.Second)
	// Lifetime 3 s (exp in whole seconds: 2–3 s left when fetched): renewed
	// at three quarters of what is left, never at or after the expiry and
	// never much sooner.
	var at []time.Time
	for _, q := range r.sim.Requests() {
		if q.Login {
			at = append(at, q.Time)
		}
	}
	if len(at) < 2 {
		t.Fatalf("%d token requests in 5 s with a 3 s token", len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 1200*time.Millisecond || gap >= 3*time.Second {
			t.Errorf("token fetch %d came %s after the previous one, want 1.5–2.3 s (before the expiry)", i, gap)
		}
	}
	// Sockets stay up across renewals, and nothing ever presented an expired token.
	for _, q := range r.sim.Requests() {
		if strings.HasPrefix(q.Op, "ws connect") && q.Status != 101 {
			t.Errorf("%s answered %d", q.Op, q.Status)
		}
	}
	if r.count("ws connect") != 2 {
		t.Errorf("%d socket connects, want one per server", r.count("ws connect"))
	}
}

func TestIntegratorRefusedTokenMeansOneNewLoginAndNoLeak(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	r.sim.ExpireTokens()
	r.sim.DropStreams()
	r.rec.WaitFor(t, 10*time.Second, "both servers reconnected", func() bool { return len(r.sim.Connections()) == 2 })
	if n := logins(r); n != 2 {
		t.Errorf("%d logins, want 2 (start + one after the refusal)", n)
	}
	text := r.logs.String()
	for _, st := range r.rec.Statuses() {
		text += st.LastError + st.Info["consent_url"]
	}
	for _, tok := range append(r.sim.IssuedTokens(), r.sim.Token()) {
		if strings.Contains(text, tok) || strings.Contains(text, tok[:20]) {
			t.Fatalf("a token appears in the logs or statuses")
		}
	}
	if !strings.Contains(text, "Unauthorized") {
		t.Errorf("the refused handshake was not reported")
	}
}

func TestIntegratorNoGrantsStillChecksCredentialsOnce(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.start()
	r.rec.WaitFor(t, 5*time.Second, "a connected status", func() bool {
		st := r.rec.Statuses()
		return len(st) > 0 && st[len(st)-1].State == vendors.StateConnected
	})
	time.Sleep(200 * time.Millisecond)
	if n := logins(r); n != 1 {
		t.Errorf("%d logins without devices, want 1", n)
	}
	if len(r.sim.Connections()) != 0 {
		t.Error("sockets opened without any granted device")
	}
}

func TestIntegratorCommandsRoundTrip(t *testing.T) {
	r := newItgRig(t, shellysim.Options{CoverSpeed: 200})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	pm := r.deviceByCode("SNSW-001P16EU")
	cover := r.deviceByCode("SNSW-102P16EU")
	rgbw := r.deviceByCode("SHRGBW2")
	plug := r.deviceByCode("SHPLG-S")

	// Commands in parallel: each response finds its caller by trid.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	wg.Add(4)
	go func() { defer wg.Done(); errs[0] = r.exec(pm.ID, "switch_0", true) }()
	go func() {
		defer wg.Done()
		errs[1] = r.exec(cover.ID, "cover_0", vendors.CoverCommand{Position: intp(30)})
	}()
	go func() {
		defer wg.Done()
		on := true
		errs[2] = r.exec(rgbw.ID, "light_0", vendors.LightCommand{On: &on, Brightness: intp(128), Color: &vendors.Color{R: 10, G: 20, B: 30, W: intp(5)}})
	}()
	go func() { defer wg.Done(); errs[3] = r.exec(plug.ID, "switch_0", false) }()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("command %d: %v", i, err)
		}
	}
	r.rec.WaitValue(t, 5*time.Second, pm.ID, "switch_0", "ON")
	r.rec.WaitValue(t, 5*time.Second, plug.ID, "switch_0", "OFF")
	r.rec.WaitValue(t, 5*time.Second, cover.ID, "position_0", 30)
	r.rec.WaitValue(t, 5*time.Second, cover.ID, "cover_0", "stopped")
	l := r.sim.Status(rgbw.ID)["lights"].([]any)[0].(map[string]any)
	if l["ison"] != true || l["gain"] != 50.0 || l["red"] != 10.0 || l["white"] != 5.0 {
		t.Errorf("RGBW2 after the light command: %v", l)
	}
	r.rec.WaitFor(t, 5*time.Second, "the light state", func() bool {
		v, _ := r.rec.Value(rgbw.ID, "light_0")
		ls, ok := v.(vendors.LightState)
		return ok && ls.State == "ON" && ls.Brightness != nil && *ls.Brightness == 128 && ls.Color != nil && ls.Color.G == 20
	})
	if err := r.exec(cover.ID, "cover_0", vendors.CoverCommand{Action: vendors.CoverActionOpen}); err != nil {
		t.Fatal(err)
	}
	r.rec.WaitValue(t, 5*time.Second, cover.ID, "cover_0", "stopped")
	r.rec.WaitValue(t, 5*time.Second, cover.ID, "position_0", 100)
}

func TestIntegratorOfflineDevices(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	pm := r.deviceByCode("SNSW-001P16EU")
	r.sim.SetOnline(pm.ID, false)
	r.rec.WaitFor(t, 5*time.Second, "offline", func() bool { on, known := r.rec.Online(pm.ID); return known && !on })
	before := r.count("ws Shelly:CommandRequest")
	if err := r.exec(pm.ID, "switch_0", true); vendors.Code(err) != vendors.CodeOffline {
		t.Errorf("command to an offline device: %v", err)
	}
	if r.count("ws Shelly:CommandRequest") != before {
		t.Error("a command to an offline device reached the cloud")
	}
	r.sim.SetOnline(pm.ID, true)
	r.rec.WaitFor(t, 5*time.Second, "online", func() bool { on, _ := r.rec.Online(pm.ID); return on })
	if err := r.exec(pm.ID, "switch_0", true); err != nil {
		t.Errorf("command after coming back: %v", err)
	}
}

func TestIntegratorReadOnlyGrants(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	pm := r.deviceByCode("SNSW-001P16EU")
	plug := r.deviceByCode("SHPLG-S")

	// The owner takes control rights away and the consent callback says so.
	r.sim.SetAccess(pm.ID, "00")
	r.consent("add", pm.ID)
	r.rec.WaitFor(t, 5*time.Second, "a read-only switch", func() bool {
		d := r.rec.Devices()[pm.ID]
		e, ok := d.Entity("switch_0")
		return ok && !e.Writable && e.Platform == vendors.BinarySensor
	})
	before := len(r.sim.Requests())
	if err := r.exec(pm.ID, "switch_0", true); vendors.Code(err) != vendors.CodeReadOnly {
		t.Errorf("command on a read-only grant: %v", err)
	}
	if len(r.sim.Requests()) != before {
		t.Error("a read-only command reached the cloud")
	}

	// The cloud refuses a device whose rights changed without a callback yet.
	r.sim.SetAccess(plug.ID, "00")
	if err := r.exec(plug.ID, "switch_0", false); vendors.Code(err) != vendors.CodeForbidden {
		t.Errorf("command refused by the cloud: %v (code %s), want FORBIDDEN", err, vendors.Code(err))
	}
}

func TestIntegratorFollowsWrongHost(t *testing.T) {
	r := newItgRig(t, shellysim.Options{Hosts: []string{"localhost"}})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	plug := r.deviceByCode("SHPLG-S")
	r.sim.MoveDevice(plug.ID, "127.0.0.1")
	if err := r.exec(plug.ID, "switch_0", false); err != nil {
		t.Fatalf("command after the device moved: %v", err)
	}
	r.rec.WaitValue(t, 5*time.Second, plug.ID, "switch_0", "OFF")
	wrongHost := 0
	for _, q := range r.sim.Requests() {
		if strings.HasPrefix(q.Op, "ws Shelly:CommandRequest") && q.Status == 421 {
			wrongHost++
		}
	}
	if wrongHost != 1 {
		t.Errorf("%d commands answered WRONG_HOST, want exactly the first", wrongHost)
	}
	conns := r.sim.Connections()
	if conns["localhost"] != 1 || conns["127.0.0.1"] != 1 {
		t.Errorf("connections %v, want one per server", conns)
	}
	grants, _ := (&grantStore{store: r.adapter.(*integrator).env.Store}).all()
	if grants[plug.ID].Host != "127.0.0.1" {
		t.Errorf("the new server was not stored: %+v", grants[plug.ID])
	}
	// State keeps flowing from the new server.
	on, _ := r.sim.Toggle(plug.ID)
	r.rec.WaitValue(t, 5*time.Second, plug.ID, "switch_0", onOff(on))

	// A device that moved while the bridge was away is found by DeviceVerify.
	pm := r.deviceByCode("SNSW-001P16EU")
	r.stop()
	r.sim.MoveDevice(pm.ID, "127.0.0.1")
	r.build(r.sim.IntegratorConfig("test", "backoff_base: 20ms", "verify_interval: 1ms"))
	r.start()
	r.rec.WaitFor(t, 5*time.Second, "the moved device's status", func() bool {
		_, ok := r.rec.Value(pm.ID, "switch_0")
		return ok
	})
	if v := r.sim.Violations(); v != 0 {
		t.Errorf("%d violations (two sockets to one server?)", v)
	}
}

func TestIntegratorIDsAndEvents(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	devs := r.waitDevices(6)
	for _, d := range r.sim.Devices() {
		if _, ok := devs[d.ID]; !ok {
			t.Errorf("device %s (wire %s) not in the inventory under its hex id", d.ID, d.Wire)
		}
	}
	plug := r.deviceByCode("SHPLG-S")
	if plug.Wire == plug.ID {
		t.Fatal("the simulator should send Gen1 ids as decimal")
	}
	r.sim.SetName(plug.ID, "Espresso")
	r.rec.WaitFor(t, 5*time.Second, "the new name", func() bool { return r.rec.Devices()[plug.ID].Name == "Espresso" })

	// Garbage and unknown events are ignored, the stream goes on.
	for _, f := range []string{`not json`, `{"event":"Shelly:Unknown","deviceId":"x"}`, `{"event":"Shelly:StatusOnChange","deviceId":"` + plug.Wire + `","status":"oops"}`,
		`{"event":"Shelly:Online","deviceId":"` + plug.Wire + `"}`, `{"event":"Error","message":"boom"}`, `[1,2]`} {
		r.sim.InjectFrame(plug.Host, []byte(f))
	}
	on, _ := r.sim.Toggle(plug.ID)
	r.rec.WaitValue(t, 5*time.Second, plug.ID, "switch_0", onOff(on))
	if on, known := r.rec.Online(plug.ID); !known || !on {
		t.Error("an Online frame without a flag changed availability")
	}
	if !strings.Contains(r.logs.String(), "unknown event ignored") {
		t.Error("unknown event not logged at debug")
	}
}

func TestIntegratorRefreshAndUnknownDevice(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	ref := r.adapter.(vendors.Refresher)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ref.Refresh(ctx, r.sim.Devices()[0].ID); err != nil {
		t.Errorf("refresh: %v", err)
	}
	if err := ref.Refresh(ctx, "no-such"); vendors.Code(err) != vendors.CodeUnknownDevice {
		t.Errorf("refresh of an unknown device: %v", err)
	}
	before := len(r.sim.Requests())
	err := r.exec("aabbccddeeff", "switch_0", true)
	if !errors.Is(err, vendors.ErrUnknownDevice) || len(r.sim.Requests()) != before {
		t.Errorf("unknown device: %v, %d requests", err, len(r.sim.Requests())-before)
	}
}

func TestIntegratorServerWithoutDevicesIsClosedAndReopenedCleanly(t *testing.T) {
	r := newItgRig(t, shellysim.Options{Hosts: []string{"localhost"}})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	for i := 0; i < 3; i++ {
		r.consent("remove")
		r.rec.WaitFor(t, 5*time.Second, "an empty inventory", func() bool { return len(r.rec.Devices()) == 0 })
		r.consent("add")
		r.waitDevices(6)
	}
	r.rec.WaitFor(t, 5*time.Second, "one socket", func() bool { return r.sim.Connections()["localhost"] == 1 })
	if v := r.sim.Violations(); v != 0 {
		t.Errorf("%d violations: two sockets to one server", v)
	}
}

func TestIntegratorCommandWithoutAnswerTimesOut(t *testing.T) {
	r := newItgRig(t, shellysim.Options{}, "command_timeout: 300ms")
	r.consent("add")
	r.start()
	r.waitDevices(6)
	pm := r.deviceByCode("SNSW-001P16EU")
	r.sim.MuteCommands(1)
	start := time.Now()
	err := r.exec(pm.ID, "switch_0", true)
	if vendors.Code(err) != vendors.CodeTimeout {
		t.Fatalf("unanswered command: %v (code %s)", err, vendors.Code(err))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("timeout took %s, configured 300ms", took)
	}
	// The next command still finds its own answer.
	if err := r.exec(pm.ID, "switch_0", true); err != nil {
		t.Errorf("command after a lost one: %v", err)
	}
}

// inventorySizes records the size of every inventory the adapter sends.
type inventorySizes struct {
	*vendortest.Recorder
	mu    sync.Mutex
	sizes []int
}

func (s *inventorySizes) Inventory(devs []vendors.Device) {
	s.mu.Lock()
	s.sizes = append(s.sizes, len(devs))
	s.mu.Unlock()
	s.Recorder.Inventory(devs)
}

// TestIntegratorFirstInventoryWholeAndVerifiesPaced: the devices of both
// servers reach the bridge in one first inventory, although each server
// verifies its devices one by one, paced by verify_interval (the
// reference suggests ≤ 5/s; the simulator's log shows the gaps per server).
func TestIntegratorFirstInventoryWholeAndVerifiesPaced(t *testing.T) {
	const interval = 200 * time.Millisecond
	r := newItgRig(t, shellysim.Options{}, "verify_interval: 200ms")
	r.consent("add")
	sink := &inventorySizes{Recorder: r.rec}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.adapter.Run(ctx, sink) }()
	defer func() { cancel(); <-done }()
	r.waitDevices(6)

	sink.mu.Lock()
	sizes := append([]int(nil), sink.sizes...)
	sink.mu.Unlock()
	if len(sizes) == 0 || sizes[0] != 6 {
		t.Errorf("inventory sizes %v: the first should hold all 6 granted devices", sizes)
	}
	last := map[string]time.Time{}
	verifies := 0
	for _, q := range r.sim.Requests() {
		if q.Op != "ws Integrator:ActionRequest DeviceVerify" {
			continue
		}
		verifies++
		if prev, ok := last[q.Host]; ok && q.Time.Sub(prev) < interval-50*time.Millisecond {
			t.Errorf("%s: DeviceVerify %s after the previous one; verify_interval is %s", q.Host, q.Time.Sub(prev), interval)
		}
		last[q.Host] = q.Time
	}
	if verifies < 6 || len(last) != 2 {
		t.Errorf("%d verifies on %d servers, want ≥ 6 on 2", verifies, len(last))
	}
	if n := r.sim.Violations(); n != 0 {
		t.Errorf("%d violations (a second socket to one server?)", n)
	}
}
