package shelly

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// fixtureClasses is what Home Assistant must see for each demo fixture.
var fixtureClasses = map[string]map[string]string{
	"SNSW-001P16EU": {"switch_0": "switch", "power_0": "power", "energy_0": "energy"},
	"SNSW-102P16EU": {"cover_0": "shutter", "power_0": "power", "energy_0": "energy"},
	"SHRGBW2":       {"light_0": "", "power_0": "power"},
	"SNSN-0013A":    {"temperature_0": "temperature", "humidity_0": "humidity", "battery_0": "battery"},
	"SPEM-003CEBEU": {"power_a_0": "power", "power_total_0": "power", "energy_total_0": "energy"},
	"SHPLG-S":       {"switch_0": "outlet", "power_0": "power", "energy_0": "energy"},
}

func checkDemoInventory(t *testing.T, rec *vendortest.Recorder, codes map[string]string) {
	t.Helper()
	rec.WaitFor(t, 30*time.Second, "every fixture with its entities", func() bool {
		devs := rec.Devices()
		if len(devs) != len(codes) {
			return false
		}
		for id, code := range codes {
			d, ok := devs[id]
			if !ok {
				return false
			}
			for key := range fixtureClasses[code] {
				if _, ok := d.Entity(key); !ok {
					return false
				}
			}
		}
		return true
	})
	for id, d := range rec.Devices() {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		for key, class := range fixtureClasses[codes[id]] {
			if e, _ := d.Entity(key); e.DeviceClass != class {
				t.Errorf("%s/%s class %q, want %q", codes[id], key, e.DeviceClass, class)
			}
		}
	}
}

func TestStartDemoIntegratorReachesALateBridge(t *testing.T) {
	var mu sync.Mutex
	var routes []vendors.Route
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		rs := routes
		mu.Unlock()
		for _, rt := range rs {
			if rt.Path == r.URL.Path {
				rt.Handler.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, "bridge starting", http.StatusServiceUnavailable)
	}))
	defer bridge.Close()
	cfg, stop, err := shellysim.StartDemo(0, bridge.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	time.Sleep(300 * time.Millisecond) // the sim's first callbacks hit a bridge not ready yet
	r := &rig{t: t, storeD: t.TempDir(), srv: bridge}
	r.build(cfg)
	mu.Lock()
	routes = r.routes
	mu.Unlock()
	r.start()
	codes := map[string]string{}
	// Device ids of the demo are the fixtures' (seed 0).
	sim := newSim(t, shellysim.Options{})
	for _, d := range sim.Devices() {
		codes[d.ID] = d.Code
	}
	defer func() {
		if t.Failed() {
			t.Logf("devices %d: %v", len(r.rec.Devices()), r.rec.Devices())
			t.Log(r.logs.String())
		}
	}()
	checkDemoInventory(t, r.rec, codes)
	// Values drift on their own.
	em := ""
	for id, c := range codes {
		if c == "SPEM-003CEBEU" {
			em = id
		}
	}
	r.rec.WaitFor(t, 10*time.Second, "the first meter reading", func() bool { _, ok := r.rec.Value(em, "power_a_0"); return ok })
	first, _ := r.rec.Value(em, "power_a_0")
	r.rec.WaitFor(t, 10*time.Second, "a drifting meter", func() bool { v, _ := r.rec.Value(em, "power_a_0"); return v != first })
}

func TestStartDemoCloud(t *testing.T) {
	cfg, stop, err := shellysim.StartDemoCloud(8)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	r := &rig{t: t, storeD: t.TempDir()}
	r.build(cfg)
	r.start()
	r.rec.WaitFor(t, 15*time.Second, "eight devices", func() bool { return len(r.rec.Devices()) == 8 })
	for id, d := range r.rec.Devices() {
		if err := d.Validate(); err != nil || len(d.Entities) == 0 {
			t.Errorf("%s: %v (%d entities)", id, err, len(d.Entities))
		}
	}
}

func TestSimBurstReachesTheSink(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.start()
	r.waitDevices(6)
	r.rec.WaitFor(t, 5*time.Second, "both servers", func() bool { return len(r.sim.Connections()) == 2 })
	time.Sleep(200 * time.Millisecond) // let the connect-time verify round finish
	n, err := r.sim.Burst(6, 600)
	if err != nil || n != 600 {
		t.Fatalf("burst: %d %v", n, err)
	}
	pm := r.deviceByCode("SNSW-001P16EU") // first device: frames 0, 6, …, 594
	plug := r.deviceByCode("SHPLG-S")     // sixth: frames 5, 11, …, 599
	r.rec.WaitValue(t, 10*time.Second, pm.ID, "power_0", 59.4)
	r.rec.WaitValue(t, 10*time.Second, plug.ID, "power_0", 59.9)
}
