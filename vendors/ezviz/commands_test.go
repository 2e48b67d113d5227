package ezviz_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

// TestArmingAndPrivacy: switches and the hub's modes reach the cloud and
// come back as state; "already in that state" (60021/60022) is success.
func TestArmingAndPrivacy(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{})
	r.inventory()
	r.waitValue(ezvizsim.IndoorPTZ, "privacy", vendors.Off)
	if err := r.exec(ezvizsim.IndoorPTZ, "privacy", true); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.sim.State(ezvizsim.IndoorPTZ); st.Privacy[1] != 1 {
		t.Errorf("simulator privacy %d after ON", st.Privacy[1])
	}
	r.waitValue(ezvizsim.IndoorPTZ, "privacy", vendors.On)
	if err := r.exec(ezvizsim.IndoorPTZ, "privacy", true); err != nil {
		t.Errorf("privacy ON again (60022): %v", err)
	}
	for _, c := range []struct {
		cmd   string
		mode  int
		state string
	}{{"ARM_AWAY", 16, "armed_away"}, {"ARM_HOME", 0, "armed_home"}, {"DISARM", 8, "disarmed"}} {
		if err := r.exec(ezvizsim.AlarmHub, "alarm", c.cmd); err != nil {
			t.Fatalf("%s: %v", c.cmd, err)
		}
		if st, _ := r.sim.State(ezvizsim.AlarmHub); st.Defence != c.mode {
			t.Errorf("%s: hub defence %d, want %d", c.cmd, st.Defence, c.mode)
		}
		r.waitValue(ezvizsim.AlarmHub, "alarm", c.state)
	}
	if err := r.exec(ezvizsim.AlarmHub, "alarm", "DISARM"); err != nil {
		t.Errorf("DISARM again (60021): %v", err)
	}
	if err := r.exec(ezvizsim.Outdoor, "motion_detection", true); err != nil {
		t.Fatal(err)
	}
	r.waitValue(ezvizsim.Outdoor, "motion_detection", vendors.On)
	if err := r.exec(ezvizsim.Outdoor, "alarm_sound", "mute"); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.sim.State(ezvizsim.Outdoor); st.AlarmSound != 2 {
		t.Errorf("alarm sound %d, want 2 (mute)", st.AlarmSound)
	}
	// A change in the app is seen by the next poll once the command settled.
	time.Sleep(3100 * time.Millisecond)
	r.sim.SetPrivacy(ezvizsim.IndoorPTZ, 1, false)
	r.waitValue(ezvizsim.IndoorPTZ, "privacy", vendors.Off)
}

// TestCommandErrors: local refusals make no call; cloud codes map to result codes.
func TestCommandErrors(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{config: map[string]string{"poll_interval": "1h", "status_interval": "1h", "settings_interval": "1h"}})
	r.inventory()
	before := len(r.sim.Requests())
	for _, c := range []struct {
		id, key string
		v       any
		code    string
	}{
		{"NOPE", "privacy", true, vendors.CodeUnknownDevice},
		{ezvizsim.IndoorPTZ, "nope", true, vendors.CodeUnknownKey},
		{ezvizsim.IndoorPTZ, "battery", 1.0, vendors.CodeUnknownKey},
		{ezvizsim.IndoorPTZ, "motion", true, vendors.CodeReadOnly},
		{ezvizsim.IndoorPTZ, "privacy", "ON", vendors.CodeInvalidValue},
		{ezvizsim.IndoorPTZ, "alarm_sound", "loud", vendors.CodeInvalidValue},
		{ezvizsim.AlarmHub, "alarm", "ARM_VACATION", vendors.CodeInvalidValue},
	} {
		if err := r.exec(c.id, c.key, c.v); vendors.Code(err) != c.code {
			t.Errorf("%s/%s=%v: %v (code %s), want %s", c.id, c.key, c.v, err, vendors.Code(err), c.code)
		}
	}
	if n := len(r.sim.Requests()) - before; n != 0 {
		t.Errorf("local refusals made %d calls", n)
	}
	// The adapter still believes the camera online; the cloud says 20007.
	r.sim.SetOnline(ezvizsim.Outdoor, false)
	if err := r.exec(ezvizsim.Outdoor, "ir_light", true); vendors.Code(err) != vendors.CodeOffline {
		t.Errorf("20007: %v (code %s), want DEVICE_OFFLINE", err, vendors.Code(err))
	}
	r.sim.SetOnline(ezvizsim.Outdoor, true)
	// Rate limit: 10029 becomes a RateLimitError, and user calls during the
	// pause fail at once without a request.
	r.sim.ThrottleNext(0, 1)
	err := r.exec(ezvizsim.Outdoor, "ir_light", true)
	var rl *vendors.RateLimitError
	if !errors.As(err, &rl) || vendors.Code(err) != vendors.CodeRateLimited || rl.RetryAfter < time.Second {
		for _, q := range r.sim.Requests() {
			t.Logf("%s %s %d %s", q.Time.Format("05.000"), q.Op, q.Status, q.Serial)
		}
		t.Logf("%+v", r.rec.Statuses())
		t.Fatalf("10029: %v, want RATE_LIMITED with the 1s pause", err)
	}
	before = len(r.sim.Requests())
	if err := r.exec(ezvizsim.Outdoor, "ir_light", true); !errors.As(err, &rl) {
		t.Errorf("during the pause: %v", err)
	}
	if n := len(r.sim.Requests()) - before; n != 0 {
		t.Errorf("%d calls during the rate-limit pause", n)
	}
	time.Sleep(rl.RetryAfter)
	if err := r.exec(ezvizsim.Outdoor, "ir_light", true); err != nil {
		t.Errorf("after the pause: %v", err)
	}
}

// TestPTZ: a press is start, ~ptz_step, stop; concurrent presses never
// overlap (the simulator counts a start before a stop as a violation).
func TestPTZ(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{})
	r.inventory()
	var wg sync.WaitGroup
	for _, key := range []string{"ptz_left", "ptz_left", "ptz_up", "preset_2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.exec(ezvizsim.IndoorPTZ, key, nil); err != nil {
				t.Errorf("%s: %v", key, err)
			}
		}()
	}
	wg.Wait()
	starts, stops := r.requests("/ptz/start"), r.requests("/ptz/stop")
	if len(starts) != 3 || len(stops) != 3 {
		t.Fatalf("%d starts, %d stops; want 3 each", len(starts), len(stops))
	}
	for i := range starts {
		if gap := stops[i].Time.Sub(starts[i].Time); gap < 90*time.Millisecond {
			t.Errorf("press %d stopped after %s; ptz_step is 100ms", i, gap)
		}
	}
	if st, _ := r.sim.State(ezvizsim.IndoorPTZ); st.PTZActiveAny {
		t.Error("a PTZ movement was left running")
	}
	// No PTZ on the outdoor camera: no buttons, so the key is unknown.
	if err := r.exec(ezvizsim.Outdoor, "ptz_left", nil); vendors.Code(err) != vendors.CodeUnknownKey {
		t.Errorf("PTZ on a fixed camera: %v", err)
	}
}

// TestFirmwareUpdate: install starts the upgrade, progress is reported, and
// the entity ends with the new version installed.
func TestFirmwareUpdate(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{sim: ezvizsim.Options{UpgradeStep: 80 * time.Millisecond}})
	r.inventory()
	r.waitValue(ezvizsim.Outdoor, "firmware", vendors.UpdateState{InstalledVersion: "V5.2.7 build 220601", LatestVersion: "V5.3.2 build 230901"})
	if err := r.exec(ezvizsim.Outdoor, "firmware", nil); err != nil {
		t.Fatal(err)
	}
	sawProgress := false
	r.rec.WaitFor(t, 10*time.Second, "upgrade done", func() bool {
		v, _ := r.rec.Value(ezvizsim.Outdoor, "firmware")
		u, _ := v.(vendors.UpdateState)
		if u.InProgress && u.Percentage != nil && *u.Percentage > 0 && *u.Percentage < 100 {
			sawProgress = true
		}
		return !u.InProgress && u.InstalledVersion == "V5.3.2 build 230901"
	})
	if !sawProgress {
		t.Error("no progress between 0 and 100 was reported")
	}
	// Already the latest: not an error.
	if err := r.exec(ezvizsim.IndoorPTZ, "firmware", nil); err != nil {
		t.Errorf("install when up to date: %v", err)
	}
}
