package expeed_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
)

// A command returns once the msg_type 3 push for its message_id arrived, and
// the new value is reported.
func TestCommandResultArrivesByPush(t *testing.T) {
	h := newHarness(t, expeedsim.Options{SettingDelay: 100 * time.Millisecond}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	pushesBefore := len(h.sim.Pushes())
	if err := r.exec(vendors.Command{DeviceID: "TH0001", Key: "settemp", Value: 21.26}); err != nil {
		t.Fatal(err)
	}
	// 21.26 rounds to the 0.5 step: 21.5 °C, raw 215.
	if v, _ := h.sim.Value("TH0001", "settemp"); v != 215 {
		t.Fatalf("raw setpoint %v, want 215", v)
	}
	if v, _ := r.rec.Value("TH0001", "settemp"); v != 21.5 {
		t.Fatalf("reported setpoint %v, want 21.5", v)
	}
	// The simulator logs a push once it has read the answer, a moment
	// after the adapter took it.
	sawResult := r.rec.Await(2*time.Second, func() bool {
		for _, p := range h.sim.Pushes()[pushesBefore:] {
			if p.MsgType == 3 && p.Status == 200 {
				return true
			}
		}
		return false
	})
	if !sawResult {
		t.Fatal("no setting result was pushed")
	}
}

// Refusals that need no cloud: unknown device or datapoint, read-only,
// out of range, wrong type, device known off line.
func TestCommandsRefusedLocally(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	h.sim.SetOnline("PL0001", false)
	r.rec.WaitFor(t, 5*time.Second, "PL0001 off line", func() bool {
		on, known := r.rec.Online("PL0001")
		return known && !on
	})
	time.Sleep(100 * time.Millisecond) // let the calibration query pass
	cases := []struct {
		cmd  vendors.Command
		code string
	}{
		{vendors.Command{DeviceID: "nope", Key: "switch", Value: true}, vendors.CodeUnknownDevice},
		{vendors.Command{DeviceID: "TH0001", Key: "nope", Value: true}, vendors.CodeUnknownKey},
		{vendors.Command{DeviceID: "TH0001", Key: "temp", Value: 20.0}, vendors.CodeReadOnly},
		{vendors.Command{DeviceID: "TH0001", Key: "settemp", Value: 35.5}, vendors.CodeOutOfRange},
		{vendors.Command{DeviceID: "TH0001", Key: "settemp", Value: 4.0}, vendors.CodeOutOfRange},
		{vendors.Command{DeviceID: "TH0001", Key: "settemp", Value: "warm"}, vendors.CodeInvalidValue},
		{vendors.Command{DeviceID: "TH0001", Key: "switch", Value: 1.0}, vendors.CodeInvalidValue},
		{vendors.Command{DeviceID: "PL0001", Key: "switch", Value: true}, vendors.CodeOffline},
	}
	for _, c := range cases {
		before := len(h.sim.Requests())
		err := r.exec(c.cmd)
		if got := vendors.Code(err); got != c.code {
			t.Errorf("%+v: got %s (%v), want %s", c.cmd, got, err, c.code)
		}
		if n := len(h.sim.Requests()) - before; n != 0 {
			t.Errorf("%+v: %d cloud calls for a local refusal", c.cmd, n)
		}
	}
}

// set_result 1 is DEVICE_REJECTED; no result within command_timeout is
// TIMEOUT and triggers a re-read; code 3 from device_setting is DEVICE_OFFLINE.
func TestCommandFailures(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "command_timeout: 1s\n")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)

	h.sim.RejectNextSettings(1)
	err := r.exec(vendors.Command{DeviceID: "PL0001", Key: "switch", Value: false})
	if vendors.Code(err) != expeed.CodeRejected {
		t.Fatalf("rejected setting: %v", err)
	}
	if v, _ := h.sim.Value("PL0001", "switch"); v != 1 {
		t.Fatal("a rejected setting changed the device")
	}

	h.sim.DropNextResults(1)
	reads := countOps(h.sim.Requests(), "currentDatapoints")
	err = r.exec(vendors.Command{DeviceID: "PL0001", Key: "switch", Value: false})
	if vendors.Code(err) != vendors.CodeTimeout || !strings.Contains(err.Error(), "no setting result") {
		t.Fatalf("lost result: %v", err)
	}
	r.rec.WaitFor(t, 5*time.Second, "a re-read after the timeout", func() bool {
		return countOps(h.sim.Requests(), "currentDatapoints") > reads
	})

	// The device drops off line without the push reaching the bridge.
	h.sim.SetPushURL("http://127.0.0.1:1/unreachable")
	h.sim.SetOnline("TH0001", false)
	err = r.exec(vendors.Command{DeviceID: "TH0001", Key: "switch", Value: false})
	if vendors.Code(err) != vendors.CodeOffline {
		t.Fatalf("setting on an off-line device: %v", err)
	}
	if on, _ := r.rec.Online("TH0001"); on {
		t.Error("the device stays on line after the cloud said it is not")
	}
}

// With setting_body: wrapped the body is {"data": {...}}; a cloud that wants
// the other form answers code 5, reported as INVALID_VALUE with a hint.
func TestSettingBodyForms(t *testing.T) {
	h := newHarness(t, expeedsim.Options{SettingBody: "wrapped"}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	if err := r.exec(vendors.Command{DeviceID: "PL0001", Key: "switch", Value: false}); err != nil {
		t.Fatal(err)
	}
	r.stop()
	flat := strings.Replace(h.Config(), "setting_body: wrapped\n", "", 1)
	r2 := mustStart(t, h, flat, buildOpt{})
	r2.ready(10 * time.Second)
	err := r2.exec(vendors.Command{DeviceID: "PL0001", Key: "switch", Value: true})
	if vendors.Code(err) != vendors.CodeInvalidValue {
		t.Fatalf("flat body to a wrapped cloud: %v", err)
	}
	if !strings.Contains(r2.logs.String(), "setting_body: wrapped") {
		t.Error("no hint about setting_body in the logs")
	}
}
