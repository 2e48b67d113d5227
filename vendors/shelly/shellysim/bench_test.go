package shellysim

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The frame PushPower writes says what encoding/json would write.
func TestPowerFrame(t *testing.T) {
	d := &device{}
	for _, c := range []struct {
		id, comp string
		watts    float64
	}{
		{"b48a0a1cd978", "switch:0", 57.3}, {"b48a0a1cd978", "switch:0", 0}, {"b48a0a1cd978", "cover:0", -1.5},
		{"198269811755384", "switch:0", 1234.5678}, {`id "quoted" é`, "switch:0", 1e-7}, {"b48a0a1cd978", "switch:0", 3e21},
	} {
		got := d.powerFrame(c.id, c.comp, c.watts)
		want, _ := json.Marshal(powerChange{Event: "Shelly:StatusOnChange", DeviceID: c.id, Status: map[string]apower{c.comp: {c.watts}}})
		var g, w powerChange
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("powerFrame wrote %s, encoding/json %s", got, want)
		}
	}
}
