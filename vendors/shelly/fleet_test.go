package shelly

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/rs/zerolog"
)

// The delta fast path must leave exactly what a full rebuild leaves: the
// same entities, values, targets and changed values, for deltas it takes and
// falls back on alike.
func TestStatusDeltaMatchesFullRebuild(t *testing.T) {
	const id = "b48a0a1cd978"
	var full struct {
		Status map[string]any `json:"status"`
	}
	if err := json.Unmarshal([]byte(benchFullStatus), &full); err != nil {
		t.Fatal(err)
	}
	// pm1:0 collides with switch:0 on power_0, voltage_0…
	full.Status["pm1:0"] = map[string]any{"id": 0.0, "apower": 5.0, "voltage": 229.0}
	fullJSON, _ := json.Marshal(full.Status)
	decode := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	fast, ref := newFleet(zerolog.Nop()), newFleet(zerolog.Nop())
	for _, f := range []*fleet{fast, ref} {
		f.ensure(id, func(m *meta) { m.Code = "SPSW-104PE16EU" })
		f.applyStatus(id, decode(string(fullJSON)), true, "")
	}
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
		fast.mu.Lock()
		vals, took := fast.applyDelta(fast.devs[id], decode(s.delta))
		fast.mu.Unlock()
		inv := false
		if !took {
			vals, inv, _ = fast.applyStatus(id, decode(s.delta), false, "")
		}
		if took != s.fast {
			t.Errorf("step %d %s: fast path taken %v, want %v", i, s.delta, took, s.fast)
		}
		ref.mu.Lock()
		ref.devs[id].undiffed = true // forces the full rebuild
		ref.mu.Unlock()
		rvals, rinv, _ := ref.applyStatus(id, decode(s.delta), false, "")
		if !reflect.DeepEqual(vals, rvals) || inv != rinv {
			t.Errorf("step %d %s: values %v inv %v, full rebuild %v inv %v", i, s.delta, vals, inv, rvals, rinv)
		}
		fd, rd := fast.devs[id], ref.devs[id]
		if !reflect.DeepEqual(fd.view, rd.view) || !reflect.DeepEqual(fd.status, rd.status) || !reflect.DeepEqual(fd.sent, rd.sent) {
			t.Fatalf("step %d %s: device differs from a full rebuild\nfast %+v\nfull %+v", i, s.delta, fd.view, rd.view)
		}
	}
}
