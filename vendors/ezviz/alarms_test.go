package ezviz_test

import (
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

func eventsOf(rec *vendortest.Recorder, id, key string) []vendortest.RecordedEvent {
	var out []vendortest.RecordedEvent
	for _, e := range rec.Events() {
		if e.Device == id && e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

// TestMotionOnThenOff: a motion alarm turns motion ON, and it goes OFF
// motion_hold after the newest motion alarm.
func TestMotionOnThenOff(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{config: map[string]string{"motion_hold": "3s"}})
	r.inventory()
	r.waitValue(ezvizsim.IndoorPTZ, "motion", vendors.Off)
	r.sim.TriggerAlarm(ezvizsim.IndoorPTZ, 1, ezvizsim.AlarmMotion)
	r.waitValue(ezvizsim.IndoorPTZ, "motion", vendors.On)
	on := time.Now()
	r.waitValue(ezvizsim.IndoorPTZ, "motion", vendors.Off)
	if held := time.Since(on); held < time.Second {
		t.Errorf("motion went off after %s; motion_hold is 3s", held)
	}
	// NVR channels: the alarm's channelNo picks the device.
	r.sim.TriggerAlarm(ezvizsim.NVR, 2, ezvizsim.AlarmNVRMove)
	r.waitValue(ezvizsim.NVR+"_2", "motion", vendors.On)
	if v, _ := r.rec.Value(ezvizsim.NVR+"_1", "motion"); v == vendors.On {
		t.Error("channel 1 reported motion of channel 2")
	}
}

// TestEventsOncePerAlarm: each new alarmId fires one event on the right
// entity, repeated polls and restarts never fire it again, and alarms from
// before the first start are not replayed.
func TestEventsOncePerAlarm(t *testing.T) {
	t.Parallel()
	sim := newSim(t, ezvizsim.Options{})
	sim.TriggerAlarmAt(ezvizsim.Doorbell, 1, ezvizsim.AlarmDoorbell, time.Now().Add(-30*time.Second))
	dir := t.TempDir()
	r := startRig(t, sim, rigOpt{storeDir: dir})
	r.inventory()
	id := sim.TriggerAlarm(ezvizsim.Doorbell, 1, ezvizsim.AlarmDoorbell)
	sim.TriggerAlarm(ezvizsim.AlarmHub, 0, ezvizsim.AlarmContact)
	sim.TriggerAlarm(ezvizsim.AlarmHub, 0, ezvizsim.AlarmWater)
	r.rec.WaitFor(t, 5*time.Second, "events", func() bool {
		return len(eventsOf(r.rec, ezvizsim.AlarmHub, "water")) == 1 && len(eventsOf(r.rec, ezvizsim.Doorbell, "doorbell")) >= 1
	})
	time.Sleep(600 * time.Millisecond) // several more polls
	rings := eventsOf(r.rec, ezvizsim.Doorbell, "doorbell")
	if len(rings) != 1 {
		t.Fatalf("%d doorbell events, want 1 (the old ring must not replay, the new one fire once)", len(rings))
	}
	if rings[0].Type != "ring" || rings[0].Attrs["alarm_id"] != id {
		t.Errorf("doorbell event %+v", rings[0])
	}
	if n := len(eventsOf(r.rec, ezvizsim.AlarmHub, "contact")); n != 1 {
		t.Errorf("%d contact events, want 1", n)
	}
	r.stop()

	again := startRig(t, sim, rigOpt{storeDir: dir})
	again.inventory()
	sim.TriggerAlarm(ezvizsim.AlarmHub, 0, ezvizsim.AlarmSmoke)
	again.rec.WaitFor(t, 5*time.Second, "smoke event", func() bool { return len(eventsOf(again.rec, ezvizsim.AlarmHub, "smoke")) == 1 })
	time.Sleep(400 * time.Millisecond)
	for _, e := range again.rec.Events() {
		if e.Key != "smoke" {
			t.Errorf("restart replayed %s/%s", e.Device, e.Key)
		}
	}
}

// TestLateAlarmStillFires: an alarm that reaches the list after newer ones
// (cloud lag) is still delivered once.
func TestLateAlarmStillFires(t *testing.T) {
	t.Parallel()
	start := time.Now()
	r := newRig(t, rigOpt{})
	r.inventory()
	time.Sleep(100 * time.Millisecond)
	r.sim.TriggerAlarm(ezvizsim.AlarmHub, 0, ezvizsim.AlarmGas)
	r.rec.WaitFor(t, 5*time.Second, "gas", func() bool { return len(eventsOf(r.rec, ezvizsim.AlarmHub, "gas")) == 1 })
	// Timestamped before the gas alarm, but listed only now.
	r.sim.TriggerAlarmAt(ezvizsim.AlarmHub, 0, ezvizsim.AlarmContact, start.Add(time.Since(start)/4+50*time.Millisecond))
	r.rec.WaitFor(t, 5*time.Second, "late contact", func() bool { return len(eventsOf(r.rec, ezvizsim.AlarmHub, "contact")) == 1 })
}
