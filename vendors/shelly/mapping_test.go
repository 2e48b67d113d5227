package shelly

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
)

// viewOf maps a fixture's current status the way the fleet does.
func viewOf(t *testing.T, sim *shellysim.Sim, code string, m meta) (view, string) {
	t.Helper()
	for _, d := range sim.Devices() {
		if d.Code == code {
			st := sim.Status(d.ID)
			g2, _ := isGen2Status(st)
			m.Code = code
			return buildView(&m, st, g2), d.ID
		}
	}
	t.Fatalf("no fixture %s", code)
	return view{}, ""
}

type wantEntity struct {
	platform        vendors.Platform
	class, unit, sc string
	writable        bool
	value           any // nil: not checked
}

func checkEntities(t *testing.T, name string, v view, want map[string]wantEntity) {
	t.Helper()
	got := map[string]vendors.Entity{}
	for _, e := range v.Entities {
		got[e.Key] = e
	}
	for key, w := range want {
		e, ok := got[key]
		if !ok {
			t.Errorf("%s: no entity %s (have %v)", name, key, keys(got))
			continue
		}
		if e.Platform != w.platform || e.DeviceClass != w.class || e.Unit != w.unit || e.StateClass != w.sc || e.Writable != w.writable {
			t.Errorf("%s/%s: got %s/%s/%q/%s writable=%v, want %s/%s/%q/%s writable=%v", name, key,
				e.Platform, e.DeviceClass, e.Unit, e.StateClass, e.Writable, w.platform, w.class, w.unit, w.sc, w.writable)
		}
		if w.value != nil {
			gb, _ := json.Marshal(v.Values[key])
			wb, _ := json.Marshal(w.value)
			if string(gb) != string(wb) {
				t.Errorf("%s/%s: value %s, want %s", name, key, gb, wb)
			}
		}
	}
	d := vendors.Device{ID: "x", Entities: v.Entities}
	if err := d.Validate(); err != nil {
		t.Errorf("%s does not validate: %v", name, err)
	}
}

func keys(m map[string]vendors.Entity) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var (
	meas   = "measurement"
	totInc = "total_increasing"
)

func TestFixturesMapToHomeAssistantEntities(t *testing.T) {
	sim := newSim(t, shellysim.Options{})

	v, _ := viewOf(t, sim, "SNSW-001P16EU", meta{})
	checkEntities(t, "Plus 1PM", v, map[string]wantEntity{
		"switch_0":             {platform: vendors.Switch, class: "switch", writable: true, value: "OFF"},
		"power_0":              {platform: vendors.Sensor, class: "power", unit: "W", sc: meas, value: 0.0},
		"voltage_0":            {platform: vendors.Sensor, class: "voltage", unit: "V", sc: meas, value: 230.4},
		"current_0":            {platform: vendors.Sensor, class: "current", unit: "A", sc: meas},
		"energy_0":             {platform: vendors.Sensor, class: "energy", unit: "kWh", sc: totInc, value: 12.345678},
		"device_temperature_0": {platform: vendors.Sensor, class: "temperature", unit: "°C", sc: meas, value: 41.2},
		"overpower_0":          {platform: vendors.BinarySensor, class: "problem", value: "OFF"},
		"input_0":              {platform: vendors.BinarySensor, class: "power", value: "OFF"},
		"rssi":                 {platform: vendors.Sensor, class: "signal_strength", unit: "dBm", sc: meas},
	})
	if e := find(v, "switch_0"); e.Name != "" {
		t.Errorf("the single relay is the main entity (name null), got %q", e.Name)
	}
	if e := find(v, "rssi"); e.Category != vendors.CategoryDiagnostic || !e.DisabledByDefault {
		t.Errorf("rssi must be a disabled diagnostic: %+v", e)
	}

	v, _ = viewOf(t, sim, "SNSW-102P16EU", meta{})
	checkEntities(t, "Plus 2PM cover", v, map[string]wantEntity{
		"cover_0":  {platform: vendors.Cover, class: "shutter", writable: true, value: "stopped"},
		"power_0":  {platform: vendors.Sensor, class: "power", unit: "W", sc: meas},
		"energy_0": {platform: vendors.Sensor, class: "energy", unit: "kWh", sc: totInc, value: 3.4567},
		"input_1":  {platform: vendors.BinarySensor, class: "power"},
	})
	if c := find(v, "cover_0").Cover; c == nil || c.PositionKey != "position_0" || !c.CanStop {
		t.Errorf("cover spec %+v", c)
	}
	if v.Values["position_0"] != 50 {
		t.Errorf("position %v, want 50", v.Values["position_0"])
	}
	if _, ok := v.Targets.get("cover_0"); !ok {
		t.Error("cover has no command target")
	}

	v, _ = viewOf(t, sim, "SHRGBW2", meta{})
	checkEntities(t, "RGBW2", v, map[string]wantEntity{
		"light_0": {platform: vendors.Light, writable: true},
		"power_0": {platform: vendors.Sensor, class: "power", unit: "W", sc: meas},
	})
	l := find(v, "light_0").Light
	if l == nil || len(l.ColorModes) != 1 || l.ColorModes[0] != "rgbw" || len(l.Effects) != 4 {
		t.Errorf("RGBW2 light spec %+v", l)
	}
	ls, _ := v.Values["light_0"].(vendors.LightState)
	if ls.State != "OFF" || ls.ColorMode != "rgbw" || ls.Brightness == nil || *ls.Brightness != 153 || ls.Color == nil || ls.Color.R != 255 || ls.Color.W == nil || ls.Effect != "Off" {
		t.Errorf("RGBW2 light state %+v (gain 60 %% → 153)", ls)
	}
	if tg, _ := v.Targets.get("light_0"); !tg.Gain || !tg.Gen1 {
		t.Errorf("RGBW2 colour brightness travels as gain: %+v", tg)
	}

	v, _ = viewOf(t, sim, "SNSN-0013A", meta{})
	checkEntities(t, "Plus H&T", v, map[string]wantEntity{
		"temperature_0":     {platform: vendors.Sensor, class: "temperature", unit: "°C", sc: meas, value: 21.4},
		"humidity_0":        {platform: vendors.Sensor, class: "humidity", unit: "%", sc: meas, value: 48.2},
		"battery_0":         {platform: vendors.Sensor, class: "battery", unit: "%", sc: meas, value: 87.0},
		"battery_voltage_0": {platform: vendors.Sensor, class: "voltage", unit: "V", sc: meas},
		"external_power_0":  {platform: vendors.BinarySensor, class: "power", value: "OFF"},
	})

	v, _ = viewOf(t, sim, "SPEM-003CEBEU", meta{})
	checkEntities(t, "Pro 3EM", v, map[string]wantEntity{
		"power_a_0":               {platform: vendors.Sensor, class: "power", unit: "W", sc: meas, value: 120.5},
		"power_total_0":           {platform: vendors.Sensor, class: "power", unit: "W", sc: meas, value: 540.8},
		"voltage_b_0":             {platform: vendors.Sensor, class: "voltage", unit: "V", sc: meas},
		"current_c_0":             {platform: vendors.Sensor, class: "current", unit: "A", sc: meas},
		"apparent_power_a_0":      {platform: vendors.Sensor, class: "apparent_power", unit: "VA", sc: meas},
		"power_factor_a_0":        {platform: vendors.Sensor, class: "power_factor", unit: "", sc: meas},
		"energy_total_0":          {platform: vendors.Sensor, class: "energy", unit: "kWh", sc: totInc, value: 1405.6584},
		"energy_b_0":              {platform: vendors.Sensor, class: "energy", unit: "kWh", sc: totInc},
		"energy_returned_total_0": {platform: vendors.Sensor, class: "energy", unit: "kWh", sc: totInc, value: 1.5203},
	})
	if _, ok := find2(v, "current_n_0"); ok {
		t.Error("n_current is null on this meter: no neutral current entity")
	}
	if _, ok := v.Values["modbus"]; !ok || len(v.Unknown) != 1 || v.Unknown[0] != "modbus" {
		t.Errorf("unknown component modbus must stay in the state, unknown=%v", v.Unknown)
	}
	if _, ok := find2(v, "modbus"); ok {
		t.Error("an unknown component must not be discovered")
	}

	v, _ = viewOf(t, sim, "SHPLG-S", meta{})
	checkEntities(t, "Plug S", v, map[string]wantEntity{
		"switch_0":           {platform: vendors.Switch, class: "outlet", writable: true, value: "ON"},
		"power_0":            {platform: vendors.Sensor, class: "power", unit: "W", sc: meas, value: 12.5},
		"energy_0":           {platform: vendors.Sensor, class: "energy", unit: "kWh", sc: totInc, value: 7.61315}, // 456789 Wmin
		"device_temperature": {platform: vendors.Sensor, class: "temperature", unit: "°C", sc: meas, value: 34.1},
		"overtemperature":    {platform: vendors.BinarySensor, class: "problem", value: "OFF"},
		"overpower_0":        {platform: vendors.BinarySensor, class: "problem", value: "OFF"},
	})
	if _, ok := find2(v, "temperature_0"); ok {
		t.Error("a Plug S tmp block is its own temperature, not a room sensor")
	}
	if v.FW == "" || v.MAC == "" {
		t.Errorf("Plug S firmware %q mac %q", v.FW, v.MAC)
	}
}

func find(v view, key string) vendors.Entity {
	e, _ := find2(v, key)
	return e
}

func find2(v view, key string) (vendors.Entity, bool) {
	for _, e := range v.Entities {
		if e.Key == key {
			return e, true
		}
	}
	return vendors.Entity{}, false
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGen1ShapesAndValidity(t *testing.T) {
	st := decode(t, `{"rollers":[{"state":"stop","current_pos":0,"positioning":true,"power":0},{"state":"open","current_pos":30,"positioning":true},{"state":"stop","positioning":false}],
		"relays":[{"ison":true}],"meters":[{"power":5,"is_valid":false,"total":60000}],
		"tmp":{"value":22.5,"units":"C","is_valid":true},"hum":{"value":51},"bat":{"value":80,"voltage":2.9},
		"sensor":{"state":"open","is_valid":true},"lux":{"value":120},"accel":{"tilt":10,"vibration":-1},"flood":true,
		"ext_temperature":{"0":{"tC":19.5}},"lights":[{"ison":true,"brightness":40,"temp":3000}]}`)
	v := buildView(&meta{}, st, false)
	if _, ok := find2(v, "switch_0"); ok {
		t.Error("relays of a device in roller mode must not become switches")
	}
	for key, want := range map[string]any{
		"cover_0": vendors.CoverClosed, "position_0": 0, "cover_1": vendors.CoverOpening, "position_1": 30,
		"cover_2": vendors.CoverStopped, "temperature_0": 22.5, "humidity_0": 51.0, "battery_0": 80.0,
		"door_0": "ON", "illuminance_0": 120.0, "tilt_0": 10.0, "flood_0": "ON", "ext_temperature_0": 19.5,
		"energy_0": nil,
	} {
		got, ok := v.Values[key]
		if want == nil {
			if ok {
				t.Errorf("%s published although is_valid is false: %v", key, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("%s = %v (%T), want %v", key, got, got, want)
		}
	}
	if _, ok := v.Values["power_0"]; ok {
		t.Error("invalid meter power published")
	}
	if _, ok := v.Values["position_2"]; ok {
		t.Error("position published without positioning")
	}
	if _, ok := v.Values["vibration_0"]; ok {
		t.Error("vibration -1 means unknown")
	}
	ls, _ := v.Values["light_0"].(vendors.LightState)
	if ls.ColorMode != "color_temp" || ls.ColorTemp == nil || *ls.ColorTemp != 3000 || *ls.Brightness != 102 {
		t.Errorf("Duo light %+v", ls)
	}
	if c := find(v, "cover_2").Cover; c.PositionKey != "" {
		t.Error("a roller without positioning has no position")
	}
}

func TestGen2CoverCalibratingAndLights(t *testing.T) {
	st := decode(t, `{"cover:0":{"state":"calibrating","current_pos":20,"pos_control":true,"slat_pos":40},
		"rgbw:0":{"output":true,"brightness":50,"rgb":[10,20,30],"white":40},
		"cct:0":{"output":false,"brightness":100,"ct":4000},"light:0":{"output":true,"brightness":0}}`)
	v := buildView(&meta{}, st, true)
	if v.Values["cover_0"] != vendors.CoverStopped {
		t.Errorf("calibrating cover %v", v.Values["cover_0"])
	}
	if _, ok := v.Values["position_0"]; ok {
		t.Error("position is unknown while calibrating")
	}
	if c := find(v, "cover_0").Cover; c.TiltKey != "tilt_0" || v.Values["tilt_0"] != 40 {
		t.Errorf("slats: %+v %v", c, v.Values["tilt_0"])
	}
	n := 0
	for _, e := range v.Entities {
		if e.Platform == vendors.Light {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d lights mapped, want 3 (keys stay unique)", n)
	}
	if ls, _ := v.Values["light_0"].(vendors.LightState); ls.ColorMode != "brightness" || *ls.Brightness != 0 {
		t.Errorf("light:0 state %+v", ls)
	}
	if ls, _ := v.Values["rgbw_light_0"].(vendors.LightState); ls.ColorMode != "rgbw" || ls.Color.B != 30 || *ls.Color.W != 40 || *ls.Brightness != 128 {
		t.Errorf("rgbw:0 state %+v", ls)
	}
	if ls, _ := v.Values["cct_light_0"].(vendors.LightState); ls.ColorMode != "color_temp" || *ls.ColorTemp != 4000 || ls.State != "OFF" {
		t.Errorf("cct:0 state %+v", ls)
	}
}

func TestReadOnlyGrantExposesNothingWritable(t *testing.T) {
	sim := newSim(t, shellysim.Options{})
	for _, code := range []string{"SNSW-001P16EU", "SNSW-102P16EU", "SHRGBW2", "SHPLG-S"} {
		v, _ := viewOf(t, sim, code, meta{ReadOnly: true})
		for _, e := range v.Entities {
			if e.Writable {
				t.Errorf("%s/%s writable on a read-only grant", code, e.Key)
			}
		}
		if len(v.Targets) != 0 {
			t.Errorf("%s has command targets on a read-only grant", code)
		}
		checkEntities(t, code+" read-only", v, nil)
	}
	v, _ := viewOf(t, sim, "SNSW-102P16EU", meta{ReadOnly: true})
	if e := find(v, "cover_0"); e.Platform != vendors.Sensor || e.DeviceClass != "enum" || v.Values["position_0"] != 50 {
		t.Errorf("read-only cover %+v %v", e, v.Values["position_0"])
	}
}

func TestPartialStatusMergesAndNeverResets(t *testing.T) {
	f := newFleet(zerolog.Nop())
	f.ensure("b48a0a1cd978", nil)
	full := decode(t, `{"switch:0":{"output":true,"apower":10.7,"aenergy":{"total":4679.262}},"sys":{"mac":"B48A0A1CD978"}}`)
	vals, inv, _ := f.applyStatus("b48a0a1cd978", full, true, "")
	if !inv || vals["switch_0"] != "ON" || vals["energy_0"] != 4.679262 {
		t.Fatalf("full status: inv=%v vals=%v", inv, vals)
	}
	vals, inv, _ = f.applyStatus("b48a0a1cd978", decode(t, `{"switch:0":{"apower":15}}`), false, "")
	if inv || len(vals) != 1 || vals["power_0"] != 15.0 {
		t.Errorf("delta gave inv=%v vals=%v, want only power_0", inv, vals)
	}
	if v, _ := f.value("b48a0a1cd978", "switch_0"); v != "ON" {
		t.Errorf("a delta without output reset the switch to %v", v)
	}
	vals, _, _ = f.applyStatus("b48a0a1cd978", decode(t, `{"switch:0":{"aenergy":{"total":5000}}}`), false, "")
	if vals["energy_0"] != 5.0 {
		t.Errorf("nested delta: %v", vals)
	}
	// A full status of another shape (the 2PM switched to cover) replaces it.
	vals, inv, _ = f.applyStatus("b48a0a1cd978", decode(t, `{"cover:0":{"state":"open","current_pos":100,"pos_control":true}}`), true, "")
	if !inv {
		t.Error("profile change did not change the inventory")
	}
	if _, _, _, found := f.lookup("b48a0a1cd978", "switch_0"); found {
		t.Error("switch_0 survived a full status without it")
	}
	_ = vals
}

func TestUnknownComponentLoggedOnce(t *testing.T) {
	var logs syncBuf
	f := newFleet(zerolog.New(&logs).Level(zerolog.DebugLevel))
	f.ensure("b48a0a1cd978", nil)
	for i := 0; i < 3; i++ {
		f.applyStatus("b48a0a1cd978", decode(t, `{"switch:0":{"output":true},"knx_thing:0":{"x":1},"weird":{"a":[1]}}`), false, "")
	}
	if n := strings.Count(logs.String(), "unknown status component"); n != 2 {
		t.Errorf("%d unknown-component lines for 2 components sent 3 times:\n%s", n, logs.String())
	}
	if v, ok := f.value("b48a0a1cd978", "knx_thing_0"); !ok || v.(map[string]any)["x"] != 1.0 {
		t.Errorf("unknown component not kept in the state: %v", v)
	}
	devs := f.inventory()
	for _, e := range devs[0].Entities {
		if strings.HasPrefix(e.Key, "knx") || e.Key == "weird" {
			t.Errorf("unknown component discovered as %s", e.Key)
		}
	}
}

func TestMultiChannelNames(t *testing.T) {
	st := decode(t, `{"switch:0":{"output":true,"apower":1},"switch:1":{"output":false,"apower":2},"switch:2":{"output":false,"apower":3,"temperature":{"tC":40}}}`)
	v := buildView(&meta{Names: []string{"Kitchen", ""}, ChanNames: map[string]string{"switch:1": "Hall"}}, st, true)
	for key, want := range map[string]string{"switch_0": "Kitchen", "switch_1": "Hall", "power_0": "Kitchen power", "power_1": "Hall power",
		"switch_2": "Channel 3", "power_2": "Channel 3 power", "device_temperature_2": "Channel 3 device temperature", "overpower_2": "Channel 3 overpower"} {
		if got := find(v, key).Name; got != want {
			t.Errorf("%s named %q, want %q", key, got, want)
		}
	}
}
