package ewelink

import (
	"encoding/json"
	"reflect"
	"runtime"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
)

// wakeAll has every device report its whole params, as a fleet does over
// time, and returns what each device showed then.
func wakeAll(a *Adapter, devs []ewelinksim.Device) (map[string]map[string]any, map[string][]vendors.Entity) {
	for _, d := range devs {
		raw, _ := json.Marshal(d.Params)
		p, _ := decodeParams(raw)
		a.applyReport(d.ID, p, true)
	}
	vals, ents := map[string]map[string]any{}, map[string][]vendors.Entity{}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, t := range a.things {
		vals[id], ents[id] = t.values(), t.device.Entities
	}
	return vals, ents
}

func TestQuietDevicesRestAndReadTheSame(t *testing.T) {
	devs := ewelinksim.Fixtures()
	a := idleAdapter(t)
	a.sink = nopSink{}
	a.applyList(thingList(devs))
	wantVals, wantEnts := wakeAll(a, devs)

	// a command's optimistic merge puts Go values in the params
	var cmdID string
	for id, th := range a.things {
		if _, ok := th.params()["switch"]; ok {
			cmdID = id
			th.params().merge(params{"switch": "off", "pulseWidth": 1500})
			break
		}
	}
	if cmdID == "" {
		t.Fatal("no single-channel switch among the fixtures")
	}
	a.mu.Lock()
	wantVals[cmdID] = a.things[cmdID].values()
	a.mu.Unlock()

	if n := a.restQuiet(); n != 0 {
		t.Fatalf("first pass rested %d devices that had just reported", n)
	}
	if n := a.restQuiet(); n != len(a.things) {
		t.Fatalf("second pass rested %d of %d quiet devices", n, len(a.things))
	}
	a.mu.Lock()
	for id, th := range a.things {
		if th.cur != nil || th.rest == nil {
			t.Fatalf("%s: params not resting", id)
		}
		if got := th.values(); !reflect.DeepEqual(got, wantVals[id]) {
			t.Errorf("%s: values after rest\n got %v\nwant %v", id, got, wantVals[id])
		}
		if th.build() || !reflect.DeepEqual(th.device.Entities, wantEnts[id]) {
			t.Errorf("%s: entities changed after rest", id)
		}
	}
	a.mu.Unlock()

	// a device that reports again is read from its rested params
	a.applyReport(cmdID, params{"switch": "on"}, true)
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, _ := a.things[cmdID].params()["switch"].(string); v != "on" {
		t.Errorf("report after rest: switch %v", a.things[cmdID].params()["switch"])
	}
	if _, ok := a.things[cmdID].params()["pulseWidth"]; !ok {
		t.Error("report after rest lost the params it did not carry")
	}
}

// BenchmarkWokenFleetMemory reports the live heap per device once every
// device of the fixture mix has reported, and after the quiet ones rested.
func BenchmarkWokenFleetMemory(b *testing.B) {
	devs := ewelinksim.Scaled(1000)
	var woken, rested float64
	for b.Loop() {
		a := idleAdapter(b)
		a.sink = nopSink{}
		before := liveHeap()
		a.applyList(thingList(devs))
		wakeAll(a, devs)
		woken = (liveHeap() - before) / float64(len(devs))
		a.restQuiet()
		a.restQuiet()
		rested = (liveHeap() - before) / float64(len(devs))
		runtime.KeepAlive(a)
	}
	b.ReportMetric(woken, "B/device-woken")
	b.ReportMetric(rested, "B/device-rested")
}
