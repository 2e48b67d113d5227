package bridge

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// TestAppendMatchesEncodingJSON: the hand-written encoder produces what
// encoding/json would (same bytes for scalars, valid JSON always).
func TestAppendMatchesEncodingJSON(t *testing.T) {
	floats := []float64{0, 1, -1, 0.1, 12.5, 1e-7, 123456789, 1e21, 1e20, -3.25e-9, math.MaxFloat64, math.SmallestNonzeroFloat64, 230.04}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Errorf("%g: %s, want %s", f, got, want)
		}
	}
	strs := []string{"", "plain", `quo"te`, `back\slash`, "new\nline\ttab\r", "\x00\x1f", "ünïcødé °C", "bad \xff utf8", "\u2028\u2029", "<html>&"}
	for _, s := range strs {
		var back string
		got := appendString(nil, s)
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: invalid JSON %s", s, got)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decodes to %q, want %q", s, back, wantBack)
		}
	}
	if got := string(appendFloat(nil, math.NaN())); got != "null" {
		t.Errorf("NaN: %s", got)
	}
}

func TestAppendState(t *testing.T) {
	d := &device{}
	bri := 10
	for k, v := range map[string]any{
		"switch": "ON", "power": 12, "door": true, "light": &vendors.LightState{State: "ON", Brightness: &bri},
		"none": nil, "last_seen": "adapter's own", "temp": float32(21.5), "nan": math.NaN(),
	} {
		d.set(k, normalize(v))
	}
	ts := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano()
	got := string(appendState(nil, d.values, ts))
	want := `{"door":true,"light":{"state":"ON","brightness":10},"nan":null,"none":null,"power":12,"switch":"ON","temp":21.5,"last_seen":"2025-03-04T05:06:07Z"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := string(appendState(nil, nil, 0)); got != "{}" {
		t.Errorf("empty: %s", got)
	}
}

func TestSetDetectsChanges(t *testing.T) {
	d := &device{}
	bri := 10
	steps := []struct {
		k       string
		v       any
		changed bool
	}{
		{"power", 5, true}, {"power", 5.0, false}, {"power", int64(5), false}, {"power", 6, true},
		{"light", &vendors.LightState{State: "ON", Brightness: &bri}, true},
		{"light", vendors.LightState{State: "ON", Brightness: vendors.IntPtr(10)}, false},
		{"light", vendors.LightState{State: "OFF"}, true},
		{"a", "x", true}, {"a", "x", false}, {"a", nil, true}, {"a", nil, false},
	}
	for i, s := range steps {
		if got := d.set(s.k, normalize(s.v)); got != s.changed {
			t.Errorf("step %d %s=%v: changed %v", i, s.k, s.v, got)
		}
	}
	keys := make([]string, len(d.values))
	for i, e := range d.values {
		keys[i] = e.key
	}
	if strings.Join(keys, ",") != "a,light,power" {
		t.Errorf("keys %v", keys)
	}
}

func TestCleanID(t *testing.T) {
	for in, want := range map[string]string{"abc-DEF_1": "abc-DEF_1", "a/b c": "a_b_c", "ü": "__"} {
		if got := cleanID(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = cleanID("10012345ab") }); n != 0 {
		t.Errorf("cleanID allocates %v times on a clean id", n)
	}
}

// deviceEntry and entityEntry are bridge/devices as structs, for
// encoding/json to write the reference appendDeviceList must match.
type deviceEntry struct {
	ID           string        `json:"id"`
	Vendor       string        `json:"vendor"`
	VendorID     string        `json:"vendor_id"`
	Account      string        `json:"account"`
	Name         string        `json:"name"`
	Manufacturer string        `json:"manufacturer"`
	Model        string        `json:"model"`
	SWVersion    string        `json:"sw_version"`
	Online       bool          `json:"online"`
	Entities     []entityEntry `json:"entities"`
}

type entityEntry struct {
	Key         string `json:"key"`
	Platform    string `json:"platform"`
	DeviceClass string `json:"device_class,omitempty"`
	Unit        string `json:"unit,omitempty"`
	Writable    bool   `json:"writable"`
}

func TestDeviceListMatchesEncodingJSON(t *testing.T) {
	odd := &vendors.Device{ID: `id"1`, Manufacturer: "<Shelly & co>", Model: "bad \xff utf8", SWVersion: "1.0\u2028",
		Entities: []vendors.Entity{
			{Key: "power", Platform: vendors.Sensor, DeviceClass: "power", Unit: "W"},
			{Key: "switch", Platform: vendors.Switch, Writable: true},
		}}
	bare := &vendors.Device{ID: "x"}
	for _, list := range [][]listEntry{
		nil,
		{{id: "shelly/a", vendor: "shelly", account: "home", name: "Küche \"links\"\n", dev: odd, online: true}},
		{{id: "ewelink/1", vendor: "ewelink", dev: bare}, {id: "shelly/b", vendor: "shelly", account: "a", name: "b", dev: odd}},
	} {
		ref := make([]deviceEntry, 0, len(list))
		for _, e := range list {
			de := deviceEntry{ID: e.id, Vendor: e.vendor, VendorID: e.dev.ID, Account: e.account, Name: e.name,
				Manufacturer: e.dev.Manufacturer, Model: e.dev.Model, SWVersion: e.dev.SWVersion, Online: e.online,
				Entities: make([]entityEntry, len(e.dev.Entities))}
			for i, en := range e.dev.Entities {
				de.Entities[i] = entityEntry{Key: en.Key, Platform: string(en.Platform), DeviceClass: en.DeviceClass, Unit: en.Unit, Writable: en.Writable}
			}
			ref = append(ref, de)
		}
		want, err := jsonMarshal(ref)
		if err != nil {
			t.Fatal(err)
		}
		got := deviceList(list)
		if string(got) != string(want) {
			t.Errorf("device list\n got %s\nwant %s", got, want)
		}
		if cap(got) != len(got) {
			t.Errorf("device list of %d bytes written into a buffer of %d", len(got), cap(got))
		}
	}
}
