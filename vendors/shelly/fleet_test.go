package shelly

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// The delta fast path must leave exactly what a full rebuild leaves: the
// same entities, values, targets and changed values, for deltas it takes and
// falls back on alike.
func TestStatusDeltaMatchesFullRebuild(t *testing.T) {
	// pm1:0 collides with switch:0 on power_0, voltage_0…: the delta
	// marks the keys other components hold. Without it there is no
	// collision, and pm1:0's first delta is a new component.
	t.Run("collisions", func(t *testing.T) { checkDeltas(t, true, nil) })
	t.Run("no collision", func(t *testing.T) { checkDeltas(t, false, map[int]bool{2: false}) })
}

func checkDeltas(t *testing.T, withPM1 bool, fastOverride map[int]bool) {
	fast, ref := deltaFleets(t, withPM1)
	steps := []struct {
		delta string
		fast  bool
	}{
		{`{"switch:0":{"apower":57.3,"current":0.25}}`, true},
		{`{"switch:0":{"apower":57.3}}`, true}, // nothing changed
		{`{"pm1:0":{"apower":6.5,"voltage":230}}`, true},
		{`{"switch:1":{"output":true},"switch:2":{"apower":1.5}}`, true},
		{`{"input:2":{"state":false}}`, true},
		{`{"switch:3":{"errors":["overpower"]}}`, true},
		{`{"switch:0":{"pf":0.93}}`, false},                // a new entity
		{`{"switch:0":{"apower":"n/a"}}`, false},           // the problem sensors go
		{`{"switch:1":{"temperature":{"tC":null}}}`, true}, // the value goes, the entity stays
		{`{"switch:0":{"output":"maybe"}}`, true},          // ditto for the switch
		{`{"sys":{"restart_required":true}}`, false},
		{`{"switch:4":{"output":true}}`, false}, // a new component
		{`{"switch:4":{"output":false}}`, true},
		{`{"input:0":5}`, false},
		{`{"switch:1":{"apower":3}}`, true},
	}
	for i, s := range steps {
		var delta map[string]any
		if err := json.Unmarshal([]byte(s.delta), &delta); err != nil {
			t.Fatal(err)
		}
		took := applyBoth(t, fast, ref, delta)
		if want, ok := fastOverride[i]; ok {
			s.fast = want
		}
		if took != s.fast {
			t.Errorf("step %d %s: fast path taken %v, want %v", i, s.delta, took, s.fast)
		}
		if i == 0 && fast.devs[deltaDev].view.Collided != withPM1 {
			t.Fatalf("collided %v, want %v", fast.devs[deltaDev].view.Collided, withPM1)
		}
	}
}

const deltaDev = "b48a0a1cd978"

// deltaFleets are two fleets holding the same Pro 4PM-like device.
func deltaFleets(t testing.TB, withPM1 bool) (fast, ref *fleet) {
	var full struct {
		Status map[string]any `json:"status"`
	}
	if err := json.Unmarshal([]byte(benchFullStatus), &full); err != nil {
		t.Fatal(err)
	}
	if withPM1 {
		full.Status["pm1:0"] = map[string]any{"id": 0.0, "apower": 5.0, "voltage": 229.0}
	}
	fullJSON, _ := json.Marshal(full.Status)
	fast, ref = newFleet(zerolog.Nop()), newFleet(zerolog.Nop())
	for _, f := range []*fleet{fast, ref} {
		var st map[string]any
		_ = json.Unmarshal(fullJSON, &st)
		f.ensure(deltaDev, func(m *meta) { m.Code = "SPSW-104PE16EU" })
		f.applyStatus(deltaDev, st, true, "")
	}
	return fast, ref
}

// applyBoth applies a delta to fast as the adapter does (the fast path
// first) and to ref by a full rebuild, and requires the same outcome. It
// reports whether the fast path took the delta.
func applyBoth(t testing.TB, fast, ref *fleet, delta map[string]any) (took bool) {
	t.Helper()
	fast.mu.Lock()
	// frozen or not, the status must hold the same (decoded compares it)
	before := cloneValue(fast.devs[deltaDev].statusTree(), 0)
	vals, took := fast.applyDelta(fast.devs[deltaDev], cloneValue(delta, 0).(map[string]any))
	if !took && !reflect.DeepEqual(fast.devs[deltaDev].statusTree(), before) {
		t.Fatalf("delta %v: refused, but the status changed", delta)
	}
	fast.mu.Unlock()
	inv := false
	if !took {
		vals, inv, _ = fast.applyStatus(deltaDev, cloneValue(delta, 0).(map[string]any), false, "")
	}
	ref.mu.Lock()
	rd := ref.devs[deltaDev]
	rd.prev, rd.undiffed = rd.view.Values, true // forces the full rebuild
	ref.mu.Unlock()
	rvals, rinv, _ := ref.applyStatus(deltaDev, cloneValue(delta, 0).(map[string]any), false, "")
	if !reflect.DeepEqual(vals, rvals) || inv != rinv {
		t.Fatalf("delta %v: values %v inv %v, full rebuild %v inv %v", delta, vals, inv, rvals, rinv)
	}
	fd := fast.devs[deltaDev]
	if !reflect.DeepEqual(fd.view, rd.view) || !reflect.DeepEqual(fd.statusTree(), rd.statusTree()) || fd.prev != nil || rd.prev != nil {
		t.Fatalf("delta %v: device differs from a full rebuild\nfast %+v\nfull %+v", delta, fd.view, rd.view)
	}
	return took
}

// A delta of readings (mapReadings) keeps, changes and drops values as a
// full rebuild does: an illumination outside the known levels has no value.
func TestReadingsDeltaMatchesFullRebuild(t *testing.T) {
	fast, ref := deltaFleets(t, false)
	for i, s := range []struct {
		delta string
		fast  bool
	}{
		{`{"illuminance:0":{"id":0,"lux":12.5,"illumination":"dark"}}`, false}, // a new component
		{`{"illuminance:0":{"lux":30,"illumination":"bright"}}`, true},
		{`{"illuminance:0":{"illumination":"glowing"}}`, true}, // the value goes
		{`{"illuminance:0":{"lux":31}}`, true},
		{`{"illuminance:0":{"illumination":"dark"}}`, true}, // and comes back
	} {
		var delta map[string]any
		if err := json.Unmarshal([]byte(s.delta), &delta); err != nil {
			t.Fatal(err)
		}
		if took := applyBoth(t, fast, ref, delta); took != s.fast {
			t.Errorf("step %d %s: fast path taken %v, want %v", i, s.delta, took, s.fast)
		}
	}
}

// FuzzStatusDelta: whatever two deltas say, the fast path leaves what a
// full rebuild leaves.
func FuzzStatusDelta(f *testing.F) {
	f.Add(true, []byte(`{"pm1:0":{"apower":6.5,"voltage":230}}`), []byte(`{"switch:0":{"apower":1}}`))
	f.Add(false, []byte(`{"switch:0":{"apower":57.3,"current":0.25}}`), []byte(`{"switch:0":{"pf":0.9}}`))
	f.Add(false, []byte(`{"switch:3":{"errors":["overpower"]}}`), []byte(`{"cover:0":{"current_pos":150}}`))
	f.Add(true, []byte(`{"switch:1":{"temperature":{"tC":null}}}`), []byte(`{"input:0":5}`))
	f.Add(false, []byte(`{"illuminance:0":{"id":0,"lux":12.5,"illumination":"dark"}}`), []byte(`{"illuminance:0":{"illumination":"glowing"}}`))
	f.Fuzz(func(t *testing.T, withPM1 bool, d1, d2 []byte) {
		fast, ref := deltaFleets(t, withPM1)
		for _, d := range [][]byte{d1, d2} {
			var delta map[string]any
			if json.Unmarshal(d, &delta) != nil || len(delta) == 0 {
				continue
			}
			applyBoth(t, fast, ref, delta)
		}
	})
}

// After a rebuild of the view (a settings change here), only the values
// that changed since they were last handed on go out again.
func TestRebuildHandsOnOnlyChanges(t *testing.T) {
	f, _ := deltaFleets(t, false)
	if _, _, ok := f.applySettings(deltaDev, map[string]any{"name": "Hall"}); !ok {
		t.Fatal("settings not applied")
	}
	st, _ := object([]byte(`{"switch:0":{"apower":33.3}}`))
	vals, _, ok := f.applyStatus(deltaDev, st, false, "")
	if !ok || !reflect.DeepEqual(vals, map[string]any{"power_0": 33.3}) {
		t.Fatalf("values after the rebuild: %v, want only power_0", vals)
	}
	// and nothing at all when nothing changed
	st, _ = object([]byte(`{"switch:0":{"apower":33.3}}`))
	if _, _, ok := f.applySettings(deltaDev, map[string]any{"name": "Hall 2"}); !ok {
		t.Fatal("settings not applied")
	}
	if vals, _, _ := f.applyStatus(deltaDev, st, false, ""); len(vals) != 0 {
		t.Fatalf("values with nothing changed: %v", vals)
	}
}

// The persisted shapes (the device snapshot) read back as the statuses
// they were, resting or not, and give a restarted fleet the same entities
// until the first full status.
func TestSnapshotRestoresShapes(t *testing.T) {
	fast, _ := deltaFleets(t, false) // deltaDev at rest after its full status
	other := "b48a0a1cd979"
	fast.ensure(other, func(m *meta) { m.Code = "SPSW-104PE16EU"; m.ChanNames = map[string]string{"switch:0": "Lamp"} })
	st, _ := object([]byte(`{"switch:0":{"id":0,"output":true,"apower":12.5},"sys":{"mac":"B48A0A1CD979"}}`))
	fast.applyStatus(other, st, true, "")
	d, _ := object([]byte(`{"switch:0":{"apower":13}}`))
	fast.applyStatus(other, d, false, "") // awake, its switch:0 decoded
	if fast.devs[deltaDev].rest == nil || fast.devs[other].rest != nil {
		t.Fatal("want one resting status and one awake")
	}
	store := (&vendorkit.FileStore{Dir: t.TempDir()}).Scoped("shelly-test")
	fast.dirty = true
	if err := fast.save(store); err != nil {
		t.Fatal(err)
	}
	back := newFleet(zerolog.Nop())
	if err := back.restore(store, map[string]bool{deltaDev: true, other: true}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{deltaDev, other} {
		want, got := fast.devs[id], back.devs[id]
		if got == nil {
			t.Fatalf("%s not restored", id)
		}
		if !reflect.DeepEqual(wholeStatus(got.base), want.statusTree()) {
			t.Errorf("%s: restored status %v, want %v", id, wholeStatus(got.base), want.statusTree())
		}
		if !reflect.DeepEqual(got.view.Entities, want.view.Entities) || !reflect.DeepEqual(got.meta, want.meta) {
			t.Errorf("%s: restored entities or meta differ", id)
		}
	}
	// a first delta does not shrink the restored device
	d, _ = object([]byte(`{"switch:0":{"apower":14}}`))
	back.applyStatus(other, d, false, "")
	if n, want := len(back.devs[other].view.Entities), len(fast.devs[other].view.Entities); n != want {
		t.Errorf("after a delta the restored device has %d entities, want %d", n, want)
	}
}
