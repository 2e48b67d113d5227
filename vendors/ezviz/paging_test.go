package ezviz_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

// TestPaging: device lists and alarm lists longer than EZVIZ's page size
// (50) are read completely, with pageSize never above 50 (the simulator
// counts a larger one as a violation).
func TestPaging(t *testing.T) {
	t.Parallel()
	var devs []*ezvizsim.Device
	for i := 0; i < 11; i++ {
		suffix := ""
		if i > 0 {
			suffix = strconv.Itoa(i)
		}
		devs = append(devs, ezvizsim.Fixtures(suffix)...)
	}
	sim := newSim(t, ezvizsim.Options{Devices: devs, MaxPerSecond: 100})
	r := startRig(t, sim, rigOpt{config: map[string]string{"rate_limit": "90"}})
	r.rec.WaitFor(t, 30*time.Second, "77 devices", func() bool { return len(r.rec.Devices()) == 77 })
	for i := 0; i < 120; i++ {
		sim.TriggerAlarm(ezvizsim.Doorbell+"3", 1, ezvizsim.AlarmDoorbell)
	}
	r.rec.WaitFor(t, 15*time.Second, "120 rings", func() bool { return len(eventsOf(r.rec, ezvizsim.Doorbell+"3", "doorbell")) >= 120 })
	time.Sleep(500 * time.Millisecond)
	if n := len(eventsOf(r.rec, ezvizsim.Doorbell+"3", "doorbell")); n != 120 {
		t.Errorf("%d ring events for 120 alarms", n)
	}
	for _, path := range []string{"/api/lapp/device/list", "/api/lapp/alarm/list"} {
		second := false
		for _, q := range r.requests(path) {
			second = second || q.Page == 1
		}
		if !second {
			t.Errorf("%s: no second page was read", path)
		}
	}
}
