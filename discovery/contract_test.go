package discovery

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

type payload struct {
	Dev              map[string]any            `json:"dev"`
	O                map[string]any            `json:"o"`
	Cmps             map[string]map[string]any `json:"cmps"`
	Availability     []map[string]any          `json:"availability"`
	AvailabilityMode string                    `json:"availability_mode"`
	StateTopic       string                    `json:"state_topic"`
}

func render(t *testing.T, c Config, vendor string, d vendors.Device, o Override) payload {
	t.Helper()
	b, err := c.DevicePayload(vendor, &d, o)
	if err != nil {
		t.Fatalf("DevicePayload(%s/%s): %v", vendor, d.ID, err)
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Home Assistant's valid_entity_id.
var entityIDPattern = regexp.MustCompile(`^(?:[a-z0-9]+_)*[a-z0-9]+\.(?:[a-z0-9]+_)*[a-z0-9]+$`)

// The keys the device-discovery root may carry (DEVICE_DISCOVERY_SCHEMA
// refuses any other).
var rootKeys = map[string]bool{"dev": true, "o": true, "cmps": true, "availability": true, "availability_mode": true, "state_topic": true}

func TestContractEveryFixture(t *testing.T) {
	for _, base := range []string{"cloud2mqtt", "c2m_eu", "home/c2m"} {
		c := Config{BaseTopic: base, Prefix: "homeassistant", Version: "2.0.0"}
		for _, f := range fixtures() {
			d := f.device
			raw, err := c.DevicePayload(f.vendor, &d, f.override)
			if err != nil {
				t.Fatal(err)
			}
			var root map[string]any
			if err := json.Unmarshal(raw, &root); err != nil {
				t.Fatal(err)
			}
			for k := range root {
				if !rootKeys[k] {
					t.Errorf("%s: root key %q is not allowed by device discovery", f.name, k)
				}
			}
			if strings.Contains(string(raw), `"object_id"`) || strings.Contains(string(raw), `"obj_id"`) {
				t.Errorf("%s: payload carries the deprecated object_id", f.name)
			}
			p := render(t, c, f.vendor, f.device, f.override)
			objectID := SanitizeID(base) + "_" + f.vendor + "_" + SanitizeID(f.device.ID)
			if ids, _ := p.Dev["ids"].([]any); len(ids) != 1 || ids[0] != objectID {
				t.Errorf("%s: dev.ids = %v, want [%s]", f.name, p.Dev["ids"], objectID)
			}
			if p.O["name"] != "cloud2mqtt" || p.O["sw"] != "2.0.0" || p.O["url"] != originURL {
				t.Errorf("%s: origin %v", f.name, p.O)
			}
			if p.AvailabilityMode != "all" || len(p.Availability) != 2 ||
				p.Availability[0]["topic"] != base+"/bridge/state" ||
				p.Availability[1]["topic"] != c.DeviceTopic(f.vendor, f.device.ID)+"/availability" {
				t.Errorf("%s: availability %v mode %q", f.name, p.Availability, p.AvailabilityMode)
			}
			if p.StateTopic != c.DeviceTopic(f.vendor, f.device.ID) {
				t.Errorf("%s: state_topic %q", f.name, p.StateTopic)
			}
			if len(p.Cmps) != len(f.device.Entities) {
				t.Errorf("%s: %d components for %d entities", f.name, len(p.Cmps), len(f.device.Entities))
			}
			for _, e := range f.device.Entities {
				cmp := p.Cmps[e.Key]
				if cmp == nil {
					t.Errorf("%s: no component %q", f.name, e.Key)
					continue
				}
				if cmp["p"] != string(e.Platform) {
					t.Errorf("%s/%s: p = %v", f.name, e.Key, cmp["p"])
				}
				if want := objectID + "_" + e.Key; cmp["unique_id"] != want {
					t.Errorf("%s/%s: unique_id %v, want %s", f.name, e.Key, cmp["unique_id"], want)
				}
				if !strings.HasPrefix(cmp["unique_id"].(string), SanitizeID(base)+"_") {
					t.Errorf("%s/%s: unique_id without base topic", f.name, e.Key)
				}
				id, _ := cmp["default_entity_id"].(string)
				if !entityIDPattern.MatchString(id) || !strings.HasPrefix(id, string(e.Platform)+"."+f.vendor+"_") || !strings.HasSuffix(id, "_"+e.Key) {
					t.Errorf("%s/%s: default_entity_id %q", f.name, e.Key, id)
				}
				if _, ok := cmp["availability"]; ok {
					t.Errorf("%s/%s: availability must come from the root", f.name, e.Key)
				}
				if name, ok := cmp["name"]; !ok || (e.Name == "" && name != nil) || (e.Name != "" && name == nil) {
					t.Errorf("%s/%s: name %v for entity name %q", f.name, e.Key, name, e.Name)
				}
				if name, _ := cmp["name"].(string); name != "" && strings.HasPrefix(strings.ToLower(name), strings.ToLower(p.Dev["name"].(string))) {
					t.Errorf("%s/%s: name %q repeats the device name", f.name, e.Key, name)
				}
				if cmd, ok := cmp["command_topic"].(string); ok && cmd != c.SetTopic(f.vendor, f.device.ID, e.Key) {
					t.Errorf("%s/%s: command_topic %q", f.name, e.Key, cmd)
				}
				if e.DisabledByDefault != (cmp["enabled_by_default"] == false) {
					t.Errorf("%s/%s: enabled_by_default %v", f.name, e.Key, cmp["enabled_by_default"])
				}
			}
		}
	}
}

func TestDefaultEntityIDSanitized(t *testing.T) {
	e := vendors.Entity{Key: "switch__1_", Platform: vendors.Switch}
	for id, want := range map[string]string{
		"1000abcdef":         "switch.ewelink_1000abcdef_switch_1",
		"AB:CD--ef":          "switch.ewelink_ab_cd_ef_switch_1",
		"_x_":                "switch.ewelink_x_switch_1",
		"Küche/Stecker 2.0":  "switch.ewelink_k_che_stecker_2_0_switch_1",
		"shellyplus1-a1b2c3": "switch.ewelink_shellyplus1_a1b2c3_switch_1",
	} {
		got := testConfig.EntityID("ewelink", id, &e)
		if got != want || !entityIDPattern.MatchString(got) {
			t.Errorf("EntityID(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestSensorClasses(t *testing.T) {
	p := render(t, testConfig, "ewelink", fixtures()[0].device, Override{})
	for key, want := range map[string][3]string{
		"energy":  {"energy", "kWh", "total_increasing"},
		"power":   {"power", "W", "measurement"},
		"voltage": {"voltage", "V", "measurement"},
		"current": {"current", "A", "measurement"},
	} {
		c := p.Cmps[key]
		if c["device_class"] != want[0] || c["unit_of_measurement"] != want[1] || c["state_class"] != want[2] {
			t.Errorf("%s: %v/%v/%v, want %v", key, c["device_class"], c["unit_of_measurement"], c["state_class"], want)
		}
	}
	if p.Cmps["energy"]["suggested_display_precision"] != float64(2) {
		t.Errorf("energy precision %v", p.Cmps["energy"]["suggested_display_precision"])
	}
	rssi := p.Cmps["rssi"]
	if rssi["entity_category"] != "diagnostic" || rssi["enabled_by_default"] != false {
		t.Errorf("signal strength: %v", rssi)
	}
	if p.Cmps["switch"]["name"] != nil {
		t.Errorf("main entity of a plug must have name null, got %v", p.Cmps["switch"]["name"])
	}

	// A config-category sensor is refused by Home Assistant: made diagnostic.
	s := render(t, testConfig, "ewelink", fixtures()[9].device, Override{})
	if s.Cmps["battery"]["entity_category"] != "diagnostic" {
		t.Errorf("battery category %v", s.Cmps["battery"]["entity_category"])
	}
	// Enum sensors carry their options and no unit/state class.
	if c := s.Cmps["comfort"]; c["options"] == nil || c["state_class"] != nil || c["unit_of_measurement"] != nil {
		t.Errorf("enum sensor %v", c)
	}
}

func TestPlatformSpecifics(t *testing.T) {
	fx := map[string]fixture{}
	for _, f := range fixtures() {
		fx[f.name] = f
	}
	get := func(name, key string) map[string]any {
		f := fx[name]
		return render(t, testConfig, f.vendor, f.device, f.override).Cmps[key]
	}
	c := testConfig

	l := get("light_color", "light")
	if l["schema"] != "json" || l["state_topic"] != c.EntityTopic("ewelink", "1000bulb01", "light") || l["value_template"] != nil ||
		l["color_temp_kelvin"] != true || l["min_kelvin"] != float64(2700) || l["max_kelvin"] != float64(6500) ||
		l["brightness"] != true || l["brightness_scale"] != float64(255) || l["effect"] != true {
		t.Errorf("color light: %v", l)
	}
	if l := get("light_onoff", "light"); l["brightness"] != nil || l["color_temp_kelvin"] != nil {
		t.Errorf("on/off light has brightness or colour temperature: %v", l)
	}
	if l := get("light_brightness", "light"); l["brightness"] != true || l["color_temp_kelvin"] != nil {
		t.Errorf("dimmer: %v", l)
	}

	cv := get("cover_position", "cover")
	id := "shellyplus2pm-cover01"
	if cv["payload_stop"] != "STOP" || cv["set_position_topic"] != c.SetTopic("shelly", id, "position") ||
		cv["position_topic"] != c.DeviceTopic("shelly", id) || cv["tilt_command_topic"] != c.SetTopic("shelly", id, "tilt") {
		t.Errorf("cover with position: %v", cv)
	}
	ns := get("cover_nostop", "cover")
	if v, ok := ns["payload_stop"]; !ok || v != nil {
		t.Errorf("cover without stop must send payload_stop null: %v", ns)
	}
	if ns["position_topic"] != nil || ns["set_position_topic"] != nil {
		t.Errorf("cover without position: %v", ns)
	}

	fan := get("fan", "fan")
	if fan["speed_range_max"] != float64(3) || fan["percentage_command_topic"] != c.SetTopic("ewelink", "1000fan01", "speed") ||
		fan["preset_mode_command_topic"] != c.SetTopic("ewelink", "1000fan01", "fan_mode") || fan["state_value_template"] == nil {
		t.Errorf("fan: %v", fan)
	}

	ev := get("doorbell", "ring")
	if ev["state_topic"] != c.EntityTopic("ezviz", "BD1234567", "ring") || ev["value_template"] != nil {
		t.Errorf("event: %v", ev)
	}
	if cam := get("camera", "snapshot"); cam["topic"] != c.EntityTopic("ezviz", "C6N-D12345678", "snapshot") {
		t.Errorf("camera: %v", cam)
	}
	if img := get("camera", "last_alarm"); img["url_topic"] != c.DeviceTopic("ezviz", "C6N-D12345678") || img["image_topic"] != nil || img["content_type"] != nil {
		t.Errorf("URL image: %v", img)
	}
	if img := get("camera", "last_motion"); img["image_topic"] != c.EntityTopic("ezviz", "C6N-D12345678", "last_motion") || img["content_type"] != "image/jpeg" || img["url_topic"] != nil {
		t.Errorf("image bytes: %v", img)
	}
	if u := get("update", "firmware"); u["device_class"] != "firmware" || u["payload_install"] != "install" {
		t.Errorf("update: %v", u)
	}
	a := get("alarm", "alarm")
	if f, _ := json.Marshal(a["supported_features"]); string(f) != `["arm_home","arm_away","trigger"]` || a["code_arm_required"] != false {
		t.Errorf("alarm: %v", a)
	}
	n := get("controls", "target")
	if n["min"] != float64(5) || n["max"] != float64(30) || n["step"] != 0.5 || n["unit_of_measurement"] != "°C" {
		t.Errorf("number: %v", n)
	}
	if o := get("controls", "offset"); o["step"] != nil {
		t.Errorf("a zero step must be left to Home Assistant's default: %v", o)
	}
	if b := get("controls", "calibrate"); b["payload_press"] != "PRESS" || b["value_template"] != nil {
		t.Errorf("button: %v", b)
	}
	if s := get("controls", "mode"); len(s["options"].([]any)) != 3 {
		t.Errorf("select: %v", s)
	}
}

func TestDeviceBlock(t *testing.T) {
	fx := fixtures()
	via := render(t, testConfig, "ezviz", fx[15].device, Override{})
	if via.Dev["via_device"] != "cloud2mqtt_ezviz_NVR123" {
		t.Errorf("via_device %v", via.Dev["via_device"])
	}
	plain := render(t, testConfig, "ewelink", fx[0].device, Override{})
	if plain.Dev["via_device"] != testConfig.BridgeID() {
		t.Errorf("via_device %v, want the bridge", plain.Dev["via_device"])
	}
	ov := render(t, testConfig, "expeed", fx[16].device, Override{Name: "Lobby entrance", Area: "Lobby"})
	if ov.Dev["name"] != "Lobby entrance" || ov.Dev["sa"] != "Lobby" || ov.Dev["sn"] != "EXP-0007" || ov.Dev["mdl_id"] != "ep7-v2" {
		t.Errorf("override: %v", ov.Dev)
	}
	if cns, _ := json.Marshal(ov.Dev["cns"]); string(cns) != `[["mac","00:1a:2b:3c:4d:5e"]]` {
		t.Errorf("connections %s", cns)
	}
	noName := render(t, testConfig, "shelly", vendors.Device{ID: "abc", Entities: []vendors.Entity{{Key: "switch", Platform: vendors.Switch}}}, Override{})
	if noName.Dev["name"] != "abc" {
		t.Errorf("nameless device named %v, want its id", noName.Dev["name"])
	}
	for _, k := range []string{"mf", "mdl", "sw", "hw", "sn", "sa", "cns", "mdl_id"} {
		if _, ok := noName.Dev[k]; ok {
			t.Errorf("empty %s must be left out", k)
		}
	}
}

func TestEntityNaming(t *testing.T) {
	for _, c := range []struct {
		dev, name string
		want      any
	}{
		{"Hall", "", nil},
		{"Hall", "Power", "Power"},
		{"Hall", "hall", nil},
		{"Hall", "Hall channel 2", "Channel 2"},
		{"Hall", "Hallway light", "Hallway light"},
		{"Hall", "  Power ", "Power"},
	} {
		if got := entityName(c.dev, c.name); got != c.want {
			t.Errorf("entityName(%q, %q) = %v, want %v", c.dev, c.name, got, c.want)
		}
	}
}

func TestInvalidDeviceIsAnError(t *testing.T) {
	ok := vendors.Entity{Key: "switch", Platform: vendors.Switch, Writable: true}
	cases := map[string]struct {
		vendor string
		d      *vendors.Device
	}{
		"nil device":      {"ewelink", nil},
		"empty vendor":    {"", &vendors.Device{ID: "a", Entities: []vendors.Entity{ok}}},
		"vendor with '/'": {"ewe/link", &vendors.Device{ID: "a", Entities: []vendors.Entity{ok}}},
		"no id":           {"ewelink", &vendors.Device{Entities: []vendors.Entity{ok}}},
		"bad key":         {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "Power", Platform: vendors.Sensor}}}},
		"reserved key":    {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "set", Platform: vendors.Switch}}}},
		"duplicate key":   {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{ok, ok}}},
		"energy measured": {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "e", Platform: vendors.Sensor, DeviceClass: "energy", Unit: "kWh", StateClass: "measurement"}}}},
		"power in kWh":    {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "p", Platform: vendors.Sensor, DeviceClass: "power", Unit: "kWh"}}}},
		"light no modes":  {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "l", Platform: vendors.Light, Light: &vendors.LightSpec{}}}}},
		"cover no spec":   {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "c", Platform: vendors.Cover}}}},
		"bad position key": {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "c", Platform: vendors.Cover,
			Cover: &vendors.CoverSpec{PositionKey: "pos'); evil('"}}}}},
		"reserved preset key": {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "f", Platform: vendors.Fan,
			Fan: &vendors.FanSpec{PresetKey: "availability"}}}}},
		"unknown platform": {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "x", Platform: "vacuum"}}}},
		"NaN range":        {"ewelink", &vendors.Device{ID: "a", Entities: []vendors.Entity{{Key: "n", Platform: vendors.Number, HasRange: true, Min: 0, Max: nan()}}}},
	}
	for name, c := range cases {
		p, err := testConfig.DevicePayload(c.vendor, c.d, Override{})
		if err == nil || p != nil {
			t.Errorf("%s: got payload %s, err %v; want an error", name, p, err)
		}
	}
}

func TestBridgePayload(t *testing.T) {
	b, err := testConfig.BridgePayload(bridgeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if ids, _ := p.Dev["ids"].([]any); len(ids) != 1 || ids[0] != "cloud2mqtt_bridge" || p.Dev["name"] != "cloud2mqtt bridge" || p.Dev["mdl"] != "cloud2mqtt" || p.Dev["sw"] != "1.2.3" {
		t.Errorf("bridge device %v", p.Dev)
	}
	if _, ok := p.Dev["via_device"]; ok {
		t.Error("the bridge has no via_device")
	}
	if len(p.Availability) != 1 || p.Availability[0]["topic"] != "cloud2mqtt/bridge/state" || p.AvailabilityMode != "" {
		t.Errorf("bridge availability %v %q", p.Availability, p.AvailabilityMode)
	}
	if p.StateTopic != "cloud2mqtt/bridge/info" {
		t.Errorf("state topic %q", p.StateTopic)
	}
	if len(p.Cmps) != 1+2*len(bridgeAccounts) {
		t.Errorf("%d components", len(p.Cmps))
	}
	if d := p.Cmps["devices"]; d["p"] != "sensor" || d["state_class"] != "measurement" || d["name"] != "Devices" {
		t.Errorf("devices sensor %v", d)
	}
	conn, reauth := p.Cmps["ewelink_home_connection"], p.Cmps["ewelink_home_reauth"]
	if conn["device_class"] != "connectivity" || conn["p"] != "binary_sensor" || !strings.Contains(conn["value_template"].(string), `"ewelink/home"`) {
		t.Errorf("connectivity %v", conn)
	}
	if reauth["device_class"] != "problem" || reauth["name"] != "ewelink home re-authentication needed" {
		t.Errorf("reauth %v", reauth)
	}
	for key, c := range p.Cmps {
		if !strings.HasPrefix(c["unique_id"].(string), "cloud2mqtt_bridge_") || !entityIDPattern.MatchString(c["default_entity_id"].(string)) {
			t.Errorf("%s: ids %v %v", key, c["unique_id"], c["default_entity_id"])
		}
	}
	if !testConfig.Owns(b) {
		t.Error("the bridge payload is not owned")
	}

	other := Config{BaseTopic: "c2m", Prefix: "homeassistant"}
	ob, err := other.BridgePayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	var op payload
	_ = json.Unmarshal(ob, &op)
	if op.Dev["name"] != "cloud2mqtt bridge (c2m)" || op.Dev["sw"] != nil || op.O["sw"] != nil || len(op.Cmps) != 1 {
		t.Errorf("bridge of another base topic without version: %v %v", op.Dev, op.O)
	}
	if other.BridgeConfigTopic() != "homeassistant/device/c2m_bridge/config" {
		t.Errorf("BridgeConfigTopic %q", other.BridgeConfigTopic())
	}

	// Accounts whose names differ only in case still get distinct components.
	cb, err := testConfig.BridgePayload([]Account{{"ewelink", "Home"}, {"ewelink", "home"}})
	if err != nil {
		t.Fatal(err)
	}
	var cp payload
	_ = json.Unmarshal(cb, &cp)
	if len(cp.Cmps) != 5 || cp.Cmps["ewelink_home_2_connection"] == nil {
		t.Errorf("case-colliding accounts: %v", keys(cp.Cmps))
	}
	for name, accts := range map[string][]Account{
		"duplicate":  {{"ewelink", "home"}, {"ewelink", "home"}},
		"no vendor":  {{"", "home"}},
		"no account": {{"ewelink", ""}},
	} {
		if _, err := testConfig.BridgePayload(accts); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func keys(m map[string]map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
