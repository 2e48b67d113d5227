package ewelink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// TestDemo runs the adapter against StartDemo: every family shows up with
// its platforms, values drift, and the demo's commands work.
func TestDemo(t *testing.T) {
	cfg, stop, err := ewelinksim.StartDemo(60, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	r := start(t, cfg+"backoff_min: 50ms\n", t.TempDir())
	devs := r.waitDevices(t, 60)
	r.waitConnected(t)
	platforms := map[vendors.Platform]int{}
	classes := map[string]bool{}
	for id, d := range devs {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if d.Via != "" {
			if _, ok := devs[d.Via]; !ok {
				t.Errorf("%s is via %s, which is not listed", id, d.Via)
			}
		}
		for _, e := range d.Entities {
			platforms[e.Platform]++
			classes[e.DeviceClass] = true
		}
	}
	for _, p := range []vendors.Platform{vendors.Switch, vendors.Light, vendors.Cover, vendors.Fan, vendors.Sensor, vendors.BinarySensor, vendors.Event, vendors.Button, vendors.Select, vendors.Number} {
		if platforms[p] == 0 {
			t.Errorf("no %s in the demo", p)
		}
	}
	for _, c := range []string{"power", "voltage", "current", "energy", "temperature", "humidity", "battery", "signal_strength", "motion", "door", "moisture", "smoke", "occupancy", "curtain", "shutter", "garage", "outlet"} {
		if !classes[c] {
			t.Errorf("no device class %s in the demo", c)
		}
	}

	// Values drift on their own (every 3 s).
	before, _ := r.rec.Value("1000a00005", "power")
	r.rec.WaitFor(t, 10*time.Second, "the POW's power to drift", func() bool {
		v, _ := r.rec.Value("1000a00005", "power")
		return v != before
	})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	exec := func(id, key string, v any) {
		t.Helper()
		if err := r.a.Execute(ctx, vendors.Command{DeviceID: id, Key: key, Value: v}); err != nil {
			t.Errorf("%s/%s: %v", id, key, err)
		}
	}
	on := true
	exec("1000a00002", "switch_2", true)
	r.rec.WaitValue(t, 5*time.Second, "1000a00002", "switch_2", "ON")
	exec("1000a00012", "light", vendors.LightCommand{On: &on, Color: &vendors.Color{R: 255}, Brightness: ptr(200)})
	r.rec.WaitFor(t, 5*time.Second, "the B05 to turn red", func() bool {
		v, _ := r.rec.Value("1000a00012", "light")
		ls, ok := v.(vendors.LightState)
		return ok && ls.Color != nil && ls.Color.R == 255 && ls.Color.G == 0 && ls.Brightness != nil && *ls.Brightness > 190
	})
	exec("a48000000a", "light", vendors.LightCommand{ColorTemp: ptr(3000), Brightness: ptr(64)})
	r.rec.WaitValue(t, 5*time.Second, "a48000000a", "light", vendors.LightState{State: "ON", Brightness: ptr(64)})
	exec("1000a00013", "cover", vendors.CoverCommand{Position: ptr(90)})
	r.rec.WaitValue(t, 10*time.Second, "1000a00013", "position", vendortest.Near{Value: 90, Tolerance: 0.5})
	r.rec.WaitValue(t, 5*time.Second, "1000a00013", "cover", vendors.CoverOpen)
	exec("1000a00015", "fan", vendors.FanCommand{Percentage: ptr(100)})
	r.rec.WaitValue(t, 5*time.Second, "1000a00015", "fan_speed", 100)
	exec("1000a00016", "rf_2", nil)

	// A relist finds the same unknown uiids and does not log them again.
	if err := r.a.Refresh(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(r.logs.String(), `"uiid":9901`); n != 1 {
		t.Errorf("unknown uiid 9901 logged %d times, want once", n)
	}
}
