package discovery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

var platforms = []vendors.Platform{
	vendors.Sensor, vendors.BinarySensor, vendors.Switch, vendors.Light, vendors.Cover, vendors.Fan,
	vendors.Number, vendors.Select, vendors.Button, vendors.Event, vendors.Camera, vendors.Image,
	vendors.Update, vendors.AlarmControlPanel, "vacuum",
}

func FuzzOwns(f *testing.F) {
	for _, fx := range fixtures() {
		d := fx.device
		p, _ := testConfig.DevicePayload(fx.vendor, &d, fx.override)
		f.Add(p)
	}
	b, _ := testConfig.BridgePayload(bridgeAccounts)
	f.Add(b)
	f.Add([]byte(`{"o":{"name":"cloud2mqtt"},"dev":{"ids":"cloud2mqtt_x"},"avty":[{"t":"cloud2mqtt/bridge/state"}]}`))
	f.Add([]byte(`{"o":{"name":"cloud2mqtt"},"dev":{"ids":[null,{},"cloud2mqtt_a"]},"availability":[null,1,{"topic":null}]}`))
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if !testConfig.Owns(payload) {
			return
		}
		// Whatever Owns accepts is an object with our origin, an identifier
		// under our base topic and our bridge/state.
		var p map[string]any
		if err := json.Unmarshal(payload, &p); err != nil {
			t.Fatalf("owned but not JSON: %v", err)
		}
		if !bytes.Contains(payload, []byte("cloud2mqtt_")) || !strings.Contains(string(payload), "bridge") {
			t.Fatalf("owned without our identifiers: %s", payload)
		}
	})
}

// FuzzDevicePayload builds a device from fuzzed entity fields: rendering must
// never panic, invalid devices must give an error, and a payload must be
// compact, deterministic JSON with one component per entity that Owns claims.
func FuzzDevicePayload(f *testing.F) {
	f.Add("ewelink", "1000abc", "", "power", uint8(0), "Power", "power", "W", "measurement", "", "a,b", 0.0, 100.0, 1.0, true, "position", "speed", 3)
	f.Add("shelly", "x/y z", "parent", "light", uint8(3), "", "", "", "", "config", "", 2700.0, 6500.0, 0.0, false, "", "", 0)
	f.Add("ezviz", "C6N", "", "alarm", uint8(13), "", "", "", "", "", "ARM_HOME,DISARM", 0.0, 0.0, 0.0, false, "", "", 0)
	f.Add("expeed", "p", "", "set", uint8(2), "n", "", "", "", "", "", 0.0, 0.0, 0.0, false, "bad key", "availability", 200)
	f.Add("", "", "", "", uint8(14), "", "", "", "", "", "", 1.0, 0.0, -1.0, true, "", "", -1)
	f.Fuzz(func(t *testing.T, vendor, id, via, key string, platform uint8, name, class, unit, stateClass, category, options string,
		min, max, step float64, hasRange bool, posKey, pctKey string, speeds int) {
		var opts []string
		if options != "" {
			opts = strings.Split(options, ",")
		}
		e := vendors.Entity{
			Key: key, Platform: platforms[int(platform)%len(platforms)], Name: name, DeviceClass: class, Unit: unit,
			StateClass: stateClass, Category: category, Options: opts, Min: min, Max: max, Step: step, HasRange: hasRange,
			Writable: platform%2 == 0, DisabledByDefault: platform%3 == 0, ContentType: unit,
			Light: &vendors.LightSpec{ColorModes: opts, MinKelvin: int(min), MaxKelvin: int(max), Effects: opts},
			Cover: &vendors.CoverSpec{PositionKey: posKey, TiltKey: pctKey, CanStop: hasRange},
			Fan:   &vendors.FanSpec{PercentageKey: pctKey, SpeedCount: speeds, PresetKey: posKey, PresetModes: opts},
		}
		if platform%5 == 0 {
			e.Precision = &speeds
		}
		d := vendors.Device{ID: id, Name: name, Via: via, MAC: unit, Entities: []vendors.Entity{
			e, {Key: "power", Platform: vendors.Sensor, DeviceClass: "power", Unit: "W", StateClass: "measurement"},
		}}
		p, err := testConfig.DevicePayload(vendor, &d, Override{Name: class, Area: unit})
		valid := validVendor(vendor) == nil && d.Validate() == nil && stateKeys(&d) == nil
		if err != nil {
			if valid && !strings.Contains(err.Error(), "unsupported value") {
				t.Fatalf("valid device refused: %v", err)
			}
			if p != nil {
				t.Fatal("payload with an error")
			}
			return
		}
		if !valid {
			t.Fatalf("invalid device rendered: %s", p)
		}
		again, _ := testConfig.DevicePayload(vendor, &d, Override{Name: class, Area: unit})
		if !bytes.Equal(p, again) {
			t.Fatal("not deterministic")
		}
		var m payload
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		// The hand-written root and the streamed components keep every
		// object's keys sorted, as encoding/json writes a map's (string
		// escaping is FuzzMarshalString's).
		if err := keysSorted(p); err != nil {
			t.Fatalf("%v in %s", err, p)
		}
		if len(m.Cmps) != len(d.Entities) || m.Cmps[key] == nil {
			t.Fatalf("components %v for entities %q, power", keys(m.Cmps), key)
		}
		if !testConfig.Owns(p) {
			t.Fatalf("own payload not owned: %s", p)
		}
		if bytes.Contains(p, []byte(`"object_id"`)) {
			t.Fatal("object_id in payload")
		}
		if !entityIDPattern.MatchString(m.Cmps[key]["default_entity_id"].(string)) {
			t.Fatalf("bad default_entity_id %v", m.Cmps[key]["default_entity_id"])
		}
	})
}

// keysSorted reports the first object whose keys are not in increasing order.
func keysSorted(p []byte) error {
	dec := json.NewDecoder(bytes.NewReader(p))
	type frame struct {
		object bool
		last   string
		key    bool // the next string token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].key
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].key = true
				}
				stack = append(stack, frame{object: v == '{', key: v == '{'})
			default:
				stack = stack[:top]
				if top > 0 && stack[top-1].object {
					stack[top-1].key = true
				}
			}
			continue
		case string:
			if isKey {
				if stack[top].last != "" && v <= stack[top].last {
					return fmt.Errorf("key %q after %q", v, stack[top].last)
				}
				stack[top].last, stack[top].key = v, false
				continue
			}
		}
		if top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
}

func TestKeysSorted(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"a":1,"b":{"c":[{"d":1,"e":2}],"f":"x"}}`: true,
		`{"b":1,"a":2}`:         false,
		`{"a":{"c":1,"b":2}}`:   false,
		`{"a":[{"y":1,"x":2}]}`: false,
		`{"a":{"z":1},"b":1}`:   true,
		`{"a":"z","b":"a"}`:     true,
	} {
		if err := keysSorted([]byte(in)); (err == nil) != ok {
			t.Errorf("keysSorted(%s) = %v, want ok=%v", in, err, ok)
		}
	}
}
