package ewelink

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func mkParams(t testing.TB, js string) params {
	t.Helper()
	p, err := decodeParams([]byte(js))
	if err != nil {
		t.Fatalf("params %s: %v", js, err)
	}
	return p
}

func mkThing(t testing.TB, uiid int, js string) *thing {
	t.Helper()
	th := &thing{id: "dev1", name: "Dev", uiid: uiid, online: true, cur: mkParams(t, js), book: &energyBook{log: zerolog.Nop()}}
	th.build()
	return th
}

func switches(states ...string) string {
	var parts []string
	for i, s := range states {
		parts = append(parts, fmt.Sprintf(`{"switch":%q,"outlet":%d}`, s, i))
	}
	return `[` + strings.Join(parts, ",") + `]`
}

// ent is an expected entity: key, platform, device class, unit.
type ent struct {
	key      string
	platform vendors.Platform
	class    string
	unit     string
}

// TestUIIDMapping covers every uiid family the issue names: each device
// validates and exposes the expected entities.
func TestUIIDMapping(t *testing.T) {
	sw1 := `"switch":"on","startup":"off","pulse":"off","pulseWidth":500,"sledOnline":"on","rssi":-55`
	// Devices report four outlets whatever their channel count.
	multi := `{"switches":` + switches("on", "on", "off", "on") + `,"rssi":"-60"}`
	chans := func(n int) []ent {
		var out []ent
		for i := 1; i <= n; i++ {
			out = append(out, ent{fmt.Sprintf("switch_%d", i), vendors.Switch, "switch", ""})
		}
		return out
	}
	rssi := ent{"rssi", vendors.Sensor, "signal_strength", "dBm"}
	battery := ent{"battery", vendors.Sensor, "battery", "%"}
	meters := []ent{{"power", vendors.Sensor, "power", "W"}, {"voltage", vendors.Sensor, "voltage", "V"}, {"current", vendors.Sensor, "current", "A"}, {"energy", vendors.Sensor, "energy", "kWh"}}
	th := []ent{{"temperature", vendors.Sensor, "temperature", "°C"}, {"humidity", vendors.Sensor, "humidity", "%"}}
	light := []ent{{"light", vendors.Light, "", ""}}
	cover := func(class string) []ent { return []ent{{"cover", vendors.Cover, class, ""}} }
	zbTH := `{"temperature":"2558","humidity":"4810","battery":90,"subDevRssi":-60}`
	type tc struct {
		uiids  []int
		params string
		want   []ent
	}
	cases := []tc{
		{[]int{1, 6, 14}, `{` + sw1 + `}`, []ent{{"switch", vendors.Switch, "switch", ""}, {"startup", vendors.Select, "", ""}, {"inching", vendors.Switch, "", ""}, {"inching_width", vendors.Number, "", "ms"}, {"led", vendors.Switch, "", ""}, rssi}},
		{[]int{77, 78, 112, 138, 160}, multi, append(chans(1), rssi)},
		{[]int{2, 7, 113, 161}, multi, append(chans(2), rssi)},
		{[]int{3, 8, 114, 162}, multi, append(chans(3), rssi)},
		{[]int{4, 9}, multi, append(chans(4), rssi)},
		{[]int{138, 160, 161, 162}, multi, []ent{{"action", vendors.Event, "button", ""}}},
		{[]int{5}, `{"switch":"on","power":"12.30"}`, []ent{{"switch", vendors.Switch, "outlet", ""}, {"power", vendors.Sensor, "power", "W"}, {"energy", vendors.Sensor, "energy", "kWh"}}},
		{[]int{32}, `{"switch":"on","startup":"on","power":"395.48","voltage":"229.1","current":"1.72"}`, append([]ent{{"switch", vendors.Switch, "outlet", ""}, {"startup", vendors.Select, "", ""}}, meters...)},
		{[]int{182}, `{"switches":` + switches("on") + `,"power":"3.2","voltage":"228","current":"0.02"}`, append([]ent{{"switch_1", vendors.Switch, "outlet", ""}}, meters...)},
		{[]int{190}, `{"switches":` + switches("on") + `,"power":120050,"voltage":23012,"current":521}`, append([]ent{{"switch_1", vendors.Switch, "outlet", ""}}, meters...)},
		{[]int{126}, `{"switches":` + switches("on", "off") + `,"workMode":1,"actPow_00":6012,"actPow_01":0,"voltage_00":23100,"current_00":26}`,
			append(chans(2), ent{"power_1", vendors.Sensor, "power", "W"}, ent{"power_2", vendors.Sensor, "power", "W"}, ent{"voltage_1", vendors.Sensor, "voltage", "V"}, ent{"current_1", vendors.Sensor, "current", "A"}, ent{"energy_1", vendors.Sensor, "energy", "kWh"}, ent{"energy_2", vendors.Sensor, "energy", "kWh"})},
		{[]int{126}, `{"workMode":2,"motorTurn":0,"currLocation":40,"actPow_00":0}`, append(cover("curtain"), ent{"power_1", vendors.Sensor, "power", "W"})},
		{[]int{15}, `{"switch":"off","currentTemperature":"21.5","currentHumidity":"unavailable"}`, []ent{{"switch", vendors.Switch, "switch", ""}, th[0]}},
		{[]int{181}, `{"switch":"on","currentTemperature":"22.1","currentHumidity":"48"}`, append([]ent{{"switch", vendors.Switch, "switch", ""}}, th...)},
		{[]int{1770, 1771, 7014, 7038}, zbTH, append(append([]ent{}, th...), battery, rssi)},
		{[]int{7033}, `{"temperature":"25.6","humidity":"48","battery":90}`, append(append([]ent{}, th...), battery)},
		{[]int{22}, `{"state":"on","zyx_mode":1,"channel0":"150","channel1":"0"}`, light},
		{[]int{36}, `{"switch":"on","bright":60}`, light},
		{[]int{44}, `{"switch":"off","brightness":40,"mode":0}`, light},
		{[]int{57}, `{"state":"off","channel0":"120"}`, light},
		{[]int{59, 33, 137, 173}, `{"switch":"on","bright":80,"colorR":255,"colorG":120,"colorB":0,"mode":1}`, light},
		{[]int{103, 135}, `{"switch":"on","ltype":"white","white":{"br":70,"ct":100}}`, light},
		{[]int{104, 136}, `{"switch":"on","ltype":"color","color":{"br":60,"r":0,"g":120,"b":255}}`, light},
		{[]int{1257}, `{"switch":"on","brightness":50}`, light},
		{[]int{1258}, `{"switch":"on","brightness":80,"colorTemp":30}`, light},
		{[]int{3258, 7009}, `{"switch":"on","colorMode":"cct","cctBrightness":60,"colorTemp":50}`, light},
		{[]int{11}, `{"switch":"on","setclose":30}`, cover("curtain")},
		{[]int{258, 7034}, `{"switch":"off","setclose":100}`, cover("shutter")},
		{[]int{1514, 7006}, `{"curPercent":100,"battery":80}`, append(cover("curtain"), battery)},
		{[]int{67}, `{"op":2,"per":0}`, cover("garage")},
		{[]int{34}, `{"switches":` + switches("on", "on", "on", "off") + `}`, []ent{{"fan", vendors.Fan, "", ""}, {"light", vendors.Light, "", ""}}},
		{[]int{28}, `{"rfList":[{"rfChl":0,"rfVal":"a"},{"rfChl":3,"rfVal":"b"}]}`, []ent{{"rf_0", vendors.Button, "", ""}, {"rf_3", vendors.Button, "", ""}, {"action", vendors.Event, "", ""}}},
		{[]int{2026}, `{"motion":0,"battery":80}`, []ent{{"motion", vendors.BinarySensor, "motion", ""}, battery}},
		{[]int{3026}, `{"lock":1}`, []ent{{"contact", vendors.BinarySensor, "door", ""}}},
		{[]int{4026}, `{"water":0}`, []ent{{"moisture", vendors.BinarySensor, "moisture", ""}}},
		{[]int{5026}, `{"smoke":0}`, []ent{{"smoke", vendors.BinarySensor, "smoke", ""}}},
		{[]int{7016}, `{"human":1,"brState":"brighter"}`, []ent{{"occupancy", vendors.BinarySensor, "occupancy", ""}, {"bright", vendors.BinarySensor, "light", ""}}},
		{[]int{102}, `{"switch":"on","battery":2.9}`, []ent{{"contact", vendors.BinarySensor, "door", ""}, {"battery", vendors.Sensor, "voltage", "V"}}},
		{[]int{154}, `{"switch":"on","battery":80}`, []ent{{"contact", vendors.BinarySensor, "door", ""}, battery}},
		{[]int{1000, 7000}, `{"key":0,"trigTime":"1767225600000","battery":70}`, []ent{{"action", vendors.Event, "button", ""}, battery}},
		{[]int{2256}, `{"switches":` + switches("on", "off") + `}`, chans(2)},
		{[]int{4256}, `{"switches":` + switches("on", "off", "on", "off") + `}`, chans(4)},
		{[]int{9901}, `{"switch":"off"}`, []ent{{"switch", vendors.Switch, "switch", ""}}},
		{[]int{9902}, `{"switches":` + switches("on", "off", "on") + `}`, chans(3)},
	}
	for _, c := range cases {
		for _, uiid := range c.uiids {
			th := mkThing(t, uiid, c.params)
			if err := th.device.Validate(); err != nil {
				t.Errorf("uiid %d: %v", uiid, err)
			}
			for _, w := range c.want {
				e, ok := th.entity(w.key)
				if !ok {
					t.Errorf("uiid %d: no entity %s (have %s)", uiid, w.key, th.sig)
					continue
				}
				if e.Platform != w.platform || e.DeviceClass != w.class || e.Unit != w.unit {
					t.Errorf("uiid %d %s: %s/%s/%s, want %s/%s/%s", uiid, w.key, e.Platform, e.DeviceClass, e.Unit, w.platform, w.class, w.unit)
				}
			}
			vals := th.values()
			for k := range vals {
				if th.owner(k) == nil && !th.stateKey(k) {
					t.Errorf("uiid %d: value %s without an entity", uiid, k)
				}
			}
		}
	}
	for _, uiid := range []int{1, 2, 3, 4, 6, 7, 8, 9, 14, 77, 78, 112, 113, 114, 126, 138, 160, 161, 162, 5, 32, 182, 190, 15, 181, 1770, 1771, 7014, 7033,
		22, 36, 44, 57, 59, 103, 104, 135, 136, 1257, 1258, 3258, 11, 258, 1514, 7006, 67, 34, 28, 2026, 3026, 4026, 5026, 7016, 102, 154, 1000, 7000} {
		if !knownUIID(uiid) {
			t.Errorf("uiid %d is not in the table", uiid)
		}
	}
}

// TestValueScales: hundredths, strings, "unavailable" and bogus readings.
func TestValueScales(t *testing.T) {
	cases := []struct {
		uiid   int
		params string
		key    string
		want   any
	}{
		{190, `{"switches":[],"power":120050}`, "power", 1200.5},
		{126, `{"switches":[],"actPow_00":"6012"}`, "power_1", 60.12},
		{1770, `{"temperature":"2558"}`, "temperature", 25.58},
		{7033, `{"temperature":"25.6"}`, "temperature", 25.6},
		{32, `{"switch":"on","power":"395.48"}`, "power", 395.48},
		{1, `{"switch":"on","rssi":"-61"}`, "rssi", -61.0},
		{15, `{"switch":"on","currentTemperature":"unavailable"}`, "temperature", nil},
		{15, `{"switch":"on","currentTemperature":"0"}`, "temperature", nil},
		{1770, `{"temperature":"2558","subDevRssi":127}`, "rssi", nil},
		{2026, `{"motion":1}`, "motion", "ON"},
		{3026, `{"lock":"1"}`, "contact", "ON"},
		{102, `{"switch":"off"}`, "contact", "OFF"},
		{7016, `{"human":0,"brState":"brighter"}`, "bright", "ON"},
	}
	for _, c := range cases {
		th := mkThing(t, c.uiid, c.params)
		got, ok := th.values()[c.key]
		if c.want == nil {
			if ok {
				t.Errorf("uiid %d %s: got %v, want no value", c.uiid, c.key, got)
			}
			if _, has := th.entity(c.key); has {
				t.Errorf("uiid %d: entity %s for a value the device does not have", c.uiid, c.key)
			}
			continue
		}
		if !ok || got != c.want {
			t.Errorf("uiid %d %s: %v (%T), want %v", c.uiid, c.key, got, got, c.want)
		}
	}
	// A motion sensor that goes offline reads OFF.
	th := mkThing(t, 2026, `{"motion":1}`)
	th.online = false
	if v := th.values()["motion"]; v != "OFF" {
		t.Errorf("offline motion %v", v)
	}
}

func cmd(t *testing.T, th *thing, key string, v any) plan {
	t.Helper()
	f, ok := th.owner(key).(commander)
	if !ok {
		t.Fatalf("%s is not commandable", key)
	}
	p, err := f.command(th, key, v)
	if err != nil {
		t.Fatalf("command %s %+v: %v", key, v, err)
	}
	return p
}

func msgs(p plan) string {
	b, _ := json.Marshal(p.msgs)
	return string(b)
}

func ptr[T any](v T) *T { return &v }

// TestSwitchCommands: single, multi, Zigbee full array, operSide, TH16.
func TestSwitchCommands(t *testing.T) {
	cases := []struct {
		uiid   int
		params string
		key    string
		value  any
		want   string
	}{
		{1, `{"switch":"off"}`, "switch", true, `[{"switch":"on"}]`},
		{15, `{"switch":"off"}`, "switch", true, `[{"deviceType":"normal","mainSwitch":"on","switch":"on"}]`},
		{4, `{"switches":` + switches("on", "off", "off", "off") + `}`, "switch_3", true, `[{"switches":[{"outlet":2,"switch":"on"}]}]`},
		{4256, `{"switches":` + switches("on", "off", "off", "on") + `}`, "switch_2", true, `[{"switches":[{"outlet":0,"switch":"on"},{"outlet":1,"switch":"on"},{"outlet":2,"switch":"off"},{"outlet":3,"switch":"on"}]}]`},
		{190, `{"switches":` + switches("on") + `}`, "switch_1", false, `[{"operSide":1,"switches":[{"outlet":0,"switch":"off"}]}]`},
		{1, `{"switch":"off","startup":"off"}`, "startup", "stay", `[{"startup":"stay"}]`},
		{4, `{"switches":[],"configure":[{"startup":"on","outlet":0},{"startup":"off","outlet":1},{"startup":"off","outlet":2},{"startup":"off","outlet":3}]}`, "startup_2", "stay",
			`[{"configure":[{"outlet":0,"startup":"on"},{"outlet":1,"startup":"stay"},{"outlet":2,"startup":"off"},{"outlet":3,"startup":"off"}]}]`},
		{1, `{"switch":"off","pulseWidth":500}`, "inching_width", 1200.0, `[{"pulseWidth":1000}]`},
		{1, `{"switch":"off","sledOnline":"on"}`, "led", false, `[{"sledOnline":"off"}]`},
	}
	for _, c := range cases {
		th := mkThing(t, c.uiid, c.params)
		if got := msgs(cmd(t, th, c.key, c.value)); got != c.want {
			t.Errorf("uiid %d %s=%v: %s, want %s", c.uiid, c.key, c.value, got, c.want)
		}
	}
	th := mkThing(t, 1, `{"switch":"off","pulseWidth":500}`)
	if _, err := th.owner("inching_width").(commander).command(th, "inching_width", 10.0); vendors.Code(err) != vendors.CodeOutOfRange {
		t.Errorf("inching width 10: %v", err)
	}
}

// TestLights: state and command translation per family (§10.3).
func TestLights(t *testing.T) {
	on := true
	cases := []struct {
		name   string
		uiid   int
		params string
		cmd    vendors.LightCommand
		want   string
	}{
		{"dimmer 255", 36, `{"switch":"on","bright":50}`, vendors.LightCommand{Brightness: ptr(255)}, `[{"bright":100}]`},
		{"dimmer 1", 36, `{"switch":"on","bright":50}`, vendors.LightCommand{Brightness: ptr(1)}, `[{"bright":10}]`},
		{"dimmer off → on first", 36, `{"switch":"off","bright":50}`, vendors.LightCommand{On: &on, Brightness: ptr(128)}, `[{"switch":"on"},{"bright":55}]`},
		{"D1 in one message", 44, `{"switch":"off","brightness":10,"mode":0}`, vendors.LightCommand{On: &on, Brightness: ptr(128)}, `[{"brightness":51,"mode":0,"switch":"on"}]`},
		{"bulb 57 string channel", 57, `{"state":"on","channel0":"25"}`, vendors.LightCommand{Brightness: ptr(255)}, `[{"channel0":"255"}]`},
		{"off", 57, `{"state":"on","channel0":"25"}`, vendors.LightCommand{On: ptr(false)}, `[{"state":"off"}]`},
		{"B1 cold", 22, `{"state":"on","zyx_mode":1,"channel0":"100","channel1":"0"}`, vendors.LightCommand{ColorTemp: ptr(6500), Brightness: ptr(255)},
			`[{"channel0":"255","channel1":"0","channel2":"0","channel3":"0","channel4":"0","zyx_mode":1}]`},
		{"B1 middle", 22, `{"state":"on","zyx_mode":1,"channel0":"100","channel1":"0"}`, vendors.LightCommand{ColorTemp: ptr(4000), Brightness: ptr(1)},
			`[{"channel0":"25","channel1":"25","channel2":"0","channel3":"0","channel4":"0","zyx_mode":1}]`},
		{"B1 red at half", 22, `{"state":"on","zyx_mode":1,"channel0":"100","channel1":"0"}`, vendors.LightCommand{Color: &vendors.Color{R: 255}, Brightness: ptr(128)},
			`[{"channel0":"0","channel1":"0","channel2":"128","channel3":"0","channel4":"0","zyx_mode":2}]`},
		{"B1 effect", 22, `{"state":"on","zyx_mode":1}`, vendors.LightCommand{Effect: "Party"}, `[{"zyx_mode":5}]`},
		{"B02 warm", 103, `{"switch":"on","ltype":"white","white":{"br":50,"ct":100}}`, vendors.LightCommand{ColorTemp: ptr(2200)}, `[{"ltype":"white","white":{"br":50,"ct":0}}]`},
		{"B02 scene", 103, `{"switch":"on","ltype":"white","white":{"br":50,"ct":100}}`, vendors.LightCommand{Effect: "nightLight"}, `[{"ltype":"nightLight","nightLight":{"br":5,"ct":0}}]`},
		{"B05 colour", 104, `{"switch":"on","ltype":"white","white":{"br":50,"ct":100}}`, vendors.LightCommand{Color: &vendors.Color{R: 0, G: 0, B: 255}}, `[{"color":{"b":255,"br":100,"g":0,"r":0},"ltype":"color"}]`},
		{"B05-BL ct 0-100", 136, `{"switch":"on","ltype":"white","white":{"br":50,"ct":10}}`, vendors.LightCommand{ColorTemp: ptr(6500)}, `[{"ltype":"white","white":{"br":50,"ct":100}}]`},
		{"Zigbee CCT", 1258, `{"switch":"on","brightness":50,"colorTemp":0}`, vendors.LightCommand{ColorTemp: ptr(4000)}, `[{"colorTemp":100}]`},
		{"Zigbee RGBCW hs", 3258, `{"switch":"on","colorMode":"cct"}`, vendors.LightCommand{Color: &vendors.Color{H: ptr(120.0), S: ptr(50.0)}, Brightness: ptr(255)},
			`[{"colorMode":"rgb","hue":120,"rgbBrightness":100,"saturation":50}]`},
		{"Zigbee RGBCW ct", 3258, `{"switch":"on","colorMode":"rgb"}`, vendors.LightCommand{ColorTemp: ptr(2000)}, `[{"colorMode":"cct","colorTemp":0}]`},
		{"L1 colour", 59, `{"switch":"on","bright":50}`, vendors.LightCommand{Color: &vendors.Color{R: 10, G: 20, B: 30}}, `[{"colorB":30,"colorG":20,"colorR":10,"light_type":1,"mode":1}]`},
		{"L1 effect", 59, `{"switch":"on","bright":50}`, vendors.LightCommand{Effect: "RGB Strobe"}, `[{"mode":11}]`},
	}
	for _, c := range cases {
		th := mkThing(t, c.uiid, c.params)
		if got := msgs(cmd(t, th, "light", c.cmd)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	states := []struct {
		name   string
		uiid   int
		params string
		want   string
	}{
		{"B1 cold white", 22, `{"state":"on","zyx_mode":1,"channel0":"255","channel1":"0"}`, `{"state":"ON","brightness":255,"color_mode":"color_temp","color_temp":6500}`},
		{"B1 colour", 22, `{"state":"on","zyx_mode":2,"channel2":"128","channel3":"0","channel4":"64"}`, `{"state":"ON","brightness":128,"color_mode":"rgb","color":{"r":255,"g":0,"b":128}}`},
		{"B02 white", 103, `{"switch":"off","ltype":"white","white":{"br":100,"ct":255}}`, `{"state":"OFF","brightness":255,"color_mode":"color_temp","color_temp":6500}`},
		{"B05 colour", 104, `{"switch":"on","ltype":"color","color":{"br":1,"r":0,"g":255,"b":0}}`, `{"state":"ON","brightness":1,"color_mode":"rgb","color":{"r":0,"g":255,"b":0}}`},
		{"Zigbee RGBCW hs", 3258, `{"switch":"on","colorMode":"rgb","rgbBrightness":100,"hue":240,"saturation":100}`, `{"state":"ON","brightness":255,"color_mode":"hs","color":{"r":0,"g":0,"b":255,"h":240,"s":100}}`},
		{"dimmer", 36, `{"switch":"on","bright":10}`, `{"state":"ON","brightness":1,"color_mode":"brightness"}`},
		{"L1 effect", 59, `{"switch":"on","bright":100,"colorR":255,"colorG":0,"colorB":0,"mode":3}`, `{"state":"ON","brightness":255,"color_mode":"rgb","color":{"r":255,"g":0,"b":0},"effect":"Colorful Breath"}`},
	}
	for _, c := range states {
		th := mkThing(t, c.uiid, c.params)
		if got := jsonText(th.values()["light"]); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// TestCovers: 0 = open at the cloud is 100 = open in Home Assistant (§10.4).
func TestCovers(t *testing.T) {
	th := mkThing(t, 11, `{"switch":"on","setclose":30}`)
	if v := th.values(); v["position"] != 70 || v["cover"] != vendors.CoverOpen {
		t.Errorf("setclose 30: %v", v)
	}
	p := cmd(t, th, "cover", vendors.CoverCommand{Position: ptr(40)})
	if msgs(p) != `[{"setclose":60}]` || !p.keep {
		t.Errorf("position 40: %s", msgs(p))
	}
	p.after(th)
	if th.values()["cover"] != vendors.CoverClosing {
		t.Errorf("optimistic state %v", th.values()["cover"])
	}
	th.book = &energyBook{log: zerolog.Nop()}
	for _, f := range th.spec.features {
		if o, ok := f.(observer); ok {
			o.observe(th, params{"setclose": 60}, true)
		}
	}
	th.params().merge(params{"setclose": 60})
	if v := th.values(); v["cover"] != vendors.CoverOpen || v["position"] != 40 {
		t.Errorf("after the final report: %v", v)
	}
	if got := msgs(cmd(t, th, "cover", vendors.CoverCommand{Action: vendors.CoverActionStop})); got != `[{"switch":"pause"}]` {
		t.Errorf("stop: %s", got)
	}
	closed := mkThing(t, 1514, `{"curPercent":100}`)
	if v := closed.values(); v["position"] != 0 || v["cover"] != vendors.CoverClosed {
		t.Errorf("curPercent 100: %v", v)
	}
	if got := msgs(cmd(t, closed, "cover", vendors.CoverCommand{Position: ptr(25)})); got != `[{"openPercent":75}]` {
		t.Errorf("curtain position: %s", got)
	}
	g := mkThing(t, 67, `{"op":2,"per":0}`)
	if e, _ := g.entity("cover"); e.Cover.PositionKey != "" {
		t.Error("the garage door has no position")
	}
	if got := msgs(cmd(t, g, "cover", vendors.CoverCommand{Action: vendors.CoverActionOpen})); got != `[{"op":1}]` {
		t.Errorf("garage open: %s", got)
	}
	m := mkThing(t, 126, `{"workMode":2,"currLocation":80}`)
	if v := m.values(); v["position"] != 80 {
		t.Errorf("DUAL R3 motor: %v", v)
	}
	if got := msgs(cmd(t, m, "cover", vendors.CoverCommand{Position: ptr(10)})); got != `[{"location":10}]` {
		t.Errorf("DUAL R3 location: %s", got)
	}
}

// TestFan: three speeds on outlets 1–3 plus the light on outlet 0 (§10.5).
func TestFan(t *testing.T) {
	th := mkThing(t, 34, `{"switches":`+switches("off", "on", "on", "off")+`}`)
	v := th.values()
	if v["fan"] != "ON" || v["fan_speed"] != 66 || jsonText(v["light"]) != `{"state":"OFF","color_mode":"onoff"}` {
		t.Errorf("state %v", v)
	}
	e, _ := th.entity("fan")
	if e.Fan.SpeedCount != 3 || e.Fan.PercentageKey != "fan_speed" {
		t.Errorf("fan spec %+v", e.Fan)
	}
	cases := map[int]string{
		33:  `[{"switches":[{"outlet":1,"switch":"on"},{"outlet":2,"switch":"off"},{"outlet":3,"switch":"off"}]}]`,
		66:  `[{"switches":[{"outlet":1,"switch":"on"},{"outlet":2,"switch":"on"},{"outlet":3,"switch":"off"}]}]`,
		100: `[{"switches":[{"outlet":1,"switch":"on"},{"outlet":2,"switch":"off"},{"outlet":3,"switch":"on"}]}]`,
		0:   `[{"switches":[{"outlet":1,"switch":"off"}]}]`,
	}
	for pct, want := range cases {
		if got := msgs(cmd(t, th, "fan", vendors.FanCommand{Percentage: ptr(pct)})); got != want {
			t.Errorf("%d%%: %s", pct, got)
		}
	}
	if got := msgs(cmd(t, th, "light", vendors.LightCommand{On: ptr(true)})); got != `[{"switches":[{"outlet":0,"switch":"on"}]}]` {
		t.Errorf("fan light: %s", got)
	}
}

// TestEvents: buttons de-duplicate by trigTime; RF bridge codes are buttons
// and received codes are events; snapshots never fire.
func TestEvents(t *testing.T) {
	b := mkThing(t, 1000, `{"key":0,"trigTime":"100"}`)
	f := b.owner("action").(observer)
	f.observe(b, params{"key": 0, "trigTime": "100"}, false) // the list's snapshot
	if ev := f.observe(b, params{"key": 1, "trigTime": "200"}, true); len(ev) != 1 || ev[0].typ != "double" {
		t.Errorf("press: %+v", ev)
	}
	if ev := f.observe(b, params{"key": 1, "trigTime": "200"}, true); len(ev) != 0 {
		t.Errorf("replayed press fired again: %+v", ev)
	}
	if ev := f.observe(b, params{"key": 2, "trigTime": "150"}, true); len(ev) != 0 {
		t.Errorf("an older press fired: %+v", ev)
	}
	m5 := mkThing(t, 162, `{"switches":[]}`)
	if ev := m5.owner("action").(observer).observe(m5, params{"key": 2, "outlet": 1}, true); len(ev) != 1 || ev[0].typ != "button_2_long" {
		t.Errorf("M5: %+v", ev)
	}

	rf := mkThing(t, 28, `{"rfList":[{"rfChl":0,"rfVal":"a"},{"rfChl":1,"rfVal":"b"}],"rfTrig1":"2026-01-01T00:00:00Z"}`)
	rf.tags = map[string]any{"zyx_info": []any{map[string]any{"name": "Gate", "buttonName": []any{map[string]any{"1": "Close"}}}}}
	rf.build()
	if e, _ := rf.entity("rf_1"); e.Name != "Gate Close" || e.Platform != vendors.Button {
		t.Errorf("rf_1: %+v", e)
	}
	if got := msgs(cmd(t, rf, "rf_1", nil)); got != `[{"cmd":"transmit","rfChl":1}]` {
		t.Errorf("transmit: %s", got)
	}
	o := rf.owner("rf_0").(observer)
	o.observe(rf, params{"rfTrig1": "2026-01-01T00:00:00Z"}, false)
	if ev := o.observe(rf, params{"rfTrig1": "2026-01-02T00:00:00Z"}, true); len(ev) != 1 || ev[0].typ != "rf_1" {
		t.Errorf("rf received: %+v", ev)
	}
	if ev := o.observe(rf, params{"rfTrig1": "2026-01-02T00:00:00Z"}, true); len(ev) != 0 {
		t.Errorf("rf replay: %+v", ev)
	}
}

// recUpdates keeps the values handed to the sink, per device.
type recUpdates struct {
	nopSink
	vals map[string]map[string]any
}

func (r *recUpdates) Update(id string, v map[string]any) {
	if r.vals[id] == nil {
		r.vals[id] = map[string]any{}
	}
	maps.Copy(r.vals[id], v)
}

// Listed params rest as JSON until the device reports or is commanded, and
// read back as they were decoded.
func TestParamsRestUntilUsed(t *testing.T) {
	a := idleAdapter(t)
	rec := &recUpdates{vals: map[string]map[string]any{}}
	a.sink = rec
	plug := deviceData{DeviceID: "1000a00006", Name: "plug", Online: true,
		Params: []byte(`{"switch":"on","power":"57.30","voltage":"229.81","current":"0.25","startup":"stay"}`)}
	plug.Extra.UIID = 32
	broken := deviceData{DeviceID: "1000a00007", Name: "odd", Online: true, Params: []byte(`{"switch":`)}
	broken.Extra.UIID = 1
	a.applyList([]deviceData{plug, broken})
	p := a.things["1000a00006"]
	if p.cur != nil || string(p.rest) != string(plug.Params) {
		t.Fatalf("listed params: decoded %v, resting %s", p.cur, p.rest)
	}
	if b := a.things["1000a00007"]; b.rest != nil || b.params() == nil {
		t.Fatalf("unreadable params rest as %q", b.rest)
	}
	want := map[string]any{"switch": "ON", "power": 57.3, "voltage": 229.81, "current": 0.25, "startup": "stay"}
	for k, v := range want {
		if got := rec.vals["1000a00006"][k]; !vendors.EqualValue(got, v) {
			t.Errorf("after the list %s = %v, want %v", k, got, v)
		}
	}
	// a command reads the resting params
	pl, err := p.owner("switch").(commander).command(p, "switch", false)
	if err != nil || len(pl.msgs) != 1 || pl.msgs[0]["switch"] != "off" {
		t.Fatalf("command on resting params: %v, %v", pl.msgs, err)
	}
	raw := []byte(`{"action":"update","deviceid":"1000a00006","apikey":"user-abc","params":{"power":"60.5"},"from":"device"}`)
	f, err := decodeFrame(raw)
	if err != nil {
		t.Fatal(err)
	}
	a.handleFrame(nil, f, raw)
	if p.cur == nil || p.rest != nil {
		t.Fatal("a report left the params resting")
	}
	if got := rec.vals["1000a00006"]["power"]; !vendors.EqualValue(got, 60.5) {
		t.Errorf("power after the report %v, want 60.5", got)
	}
	if got, _ := text(p.params()["voltage"]); got != "229.81" {
		t.Errorf("voltage after the report %q, want the listed 229.81", got)
	}
}
