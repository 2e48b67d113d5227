package ewelinksim

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The frame PushPower writes says what encoding/json would write.
func TestPowerFrame(t *testing.T) {
	d := &device{Device: Device{ID: "1000a00006"}}
	for _, c := range []struct {
		owner string
		power any
	}{
		{"user-abc", "57.30"}, {"user-abc", "-0.25"}, {`owner "x" é`, "0.00"}, {"user-abc", 5730}, {"user-def", 0},
	} {
		got := d.powerFrame(c.owner, c.power, 1764690000000)
		want, _ := json.Marshal(powerReport{Action: "update", DeviceID: d.ID, APIKey: c.owner, UserAgent: "device",
			Params: powerParams{c.power}, From: "device", DSeq: 1764690000000})
		var g, w map[string]any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		_ = json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("powerFrame wrote %s, encoding/json %s", got, want)
		}
	}
}
