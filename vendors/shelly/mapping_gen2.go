package shelly

import (
	"fmt"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

var gen2Rank = map[string]int{
	"switch": 0, "cover": 1, "light": 2, "cct": 3, "rgb": 4, "rgbw": 5, "pm1": 10, "em": 11, "emdata": 12,
	"em1": 13, "em1data": 14, "input": 20, "temperature": 21, "humidity": 22, "devicepower": 23,
	"illuminance": 24, "smoke": 25, "flood": 26, "voltmeter": 27, "wifi": 40, "sys": 41,
}

func rankGen2(c string) int {
	if r, ok := gen2Rank[c]; ok {
		return r
	}
	return 100
}

// kindShaped are the Gen2 components whose entities (in gen2Key) depend on
// which fields they have and on the JSON kind of each (number, bool, ...),
// not on the values: a delta that keeps every field's kind keeps their
// entities (see applyDelta). A cover's or a light's entities also depend on
// values, such as a position in range.
var kindShaped = map[string]bool{
	"switch": true, "pm1": true, "input": true, "temperature": true, "humidity": true, "devicepower": true,
	"illuminance": true, "smoke": true, "flood": true, "voltmeter": true, "em": true, "emdata": true, "em1": true, "em1data": true,
}

var gen2Actuators = map[string]bool{"switch": true, "cover": true, "light": true, "cct": true, "rgb": true, "rgbw": true}

func (b *builder) gen2(st map[string]any) {
	b.gen2Counts(st)
	b.v.Multi, b.v.Temps = b.multi, b.temps
	for _, k := range sortedKeys(st, rankGen2) {
		b.gen2Key(k, st[k])
	}
}

// gen2Counts sets what one component's entities depend on besides its own
// status: whether the device has several actuators or temperature sensors.
func (b *builder) gen2Counts(st map[string]any) {
	actuators := 0
	b.temps = 0
	for k := range st {
		c, _, ok := splitComp(k)
		if ok && gen2Actuators[c] {
			actuators++
		}
		if ok && c == "temperature" {
			b.temps++
		}
	}
	b.multi = actuators > 1
}

// gen2Key adds the entities and values of one status key.
func (b *builder) gen2Key(k string, v any) {
	b.cur = k
	temps := b.temps
	comp, ch, isComp := splitComp(k)
	c, isObj := obj(v)
	if !isComp {
		switch {
		case cloudKeys[k] || quietKeys[k]:
		case k == "wifi" && isObj:
			if rssi, ok := numAt(c, "rssi"); ok {
				b.add("", diag(sensor("rssi", "Signal strength", "signal_strength", "dBm"), true), rssi, true)
			}
		case k == "sys" && isObj:
			if mac, ok := strAt(c, "mac"); ok {
				b.v.MAC = mac
			}
			if rr, ok := flagAt(c, "restart_required"); ok {
				b.add("", diag(binary("restart_required", "Restart required", "problem"), true), onOff(rr), true)
			}
		default:
			b.unknown(k, v)
		}
		return
	}
	if !isObj {
		b.unknown(k, v)
		return
	}
	switch comp {
	case "switch":
		if on, ok := flagAt(c, "output"); ok || hasKey(c, "output") {
			if key := b.add("", b.switchEntity(b.suffix("switch", ch), b.chName(comp, ch)), onOff(on), ok); key != "" && !b.m.ReadOnly {
				b.v.Targets.set(key, target{Kind: "switch", Ch: ch, Comp: comp})
			}
		}
		b.metering(comp, ch, c)
	case "cover":
		b.gen2Cover(ch, c)
		b.metering(comp, ch, c)
	case "light", "cct", "rgb", "rgbw":
		b.gen2Light(comp, ch, c)
		b.metering(comp, ch, c)
	case "pm1":
		b.metering(comp, ch, c)
	case "input":
		b.gen2Input(ch, c)
	case "temperature":
		name := "Temperature"
		if temps > 1 {
			name = fmt.Sprintf("Temperature %d", ch)
		}
		if t, ok := numAt(c, "tC"); ok || hasKey(c, "tC") {
			b.add("temperature", sensor(b.suffix("temperature", ch), name, "temperature", "°C"), t, ok)
		}
	case "humidity":
		if h, ok := numAt(c, "rh"); ok || hasKey(c, "rh") {
			b.add("humidity", sensor(b.suffix("humidity", ch), "Humidity", "humidity", "%"), h, ok)
		}
	case "devicepower":
		if p, ok := numAt(c, "battery", "percent"); ok || hasPath(c, "battery", "percent") {
			b.add("", diag(sensor(b.suffix("battery", ch), "Battery", "battery", "%"), false), p, ok)
		}
		if v, ok := numAt(c, "battery", "V"); ok {
			b.add("", diag(sensor(b.suffix("battery_voltage", ch), "Battery voltage", "voltage", "V"), true), v, true)
		}
		if p, ok := flagAt(c, "external", "present"); ok {
			b.add("", diag(binary(b.suffix("external_power", ch), "External power", "power"), false), onOff(p), true)
		}
	case "illuminance":
		if lx, ok := numAt(c, "lux"); ok || hasKey(c, "lux") {
			b.add("", sensor(b.suffix("illuminance", ch), "Illuminance", "illuminance", "lx"), lx, ok)
		}
		if il, ok := strAt(c, "illumination"); ok || hasKey(c, "illumination") {
			e := vendors.Entity{Key: b.suffix("illumination", ch), Platform: vendors.Sensor, Name: "Illumination", DeviceClass: "enum", Options: []string{"dark", "twilight", "bright"}}
			b.add("", e, il, ok && (il == "dark" || il == "twilight" || il == "bright"))
		}
	case "smoke":
		if a, ok := flagAt(c, "alarm"); ok || hasKey(c, "alarm") {
			b.add("", binary(b.suffix("smoke", ch), "Smoke", "smoke"), onOff(a), ok)
		}
		if m, ok := flagAt(c, "mute"); ok {
			b.add("", diag(binary(b.suffix("smoke_mute", ch), "Smoke alarm muted", ""), false), onOff(m), true)
		}
	case "flood":
		if a, ok := flagAt(c, "alarm"); ok || hasKey(c, "alarm") {
			b.add("", binary(b.suffix("flood", ch), "Flood", "moisture"), onOff(a), ok)
			b.add("", diag(binary(b.suffix("flood_cable_unplugged", ch), "Cable unplugged", "problem"), false), onOff(hasError(c, "cable_unplugged")), true)
		}
	case "voltmeter":
		if v, ok := numAt(c, "voltage"); ok || hasKey(c, "voltage") {
			b.add("", sensor(b.suffix("voltmeter", ch), "Voltage", "voltage", "V"), v, ok)
		}
	case "em":
		b.gen2EM(ch, c)
	case "emdata":
		b.gen2EMData(ch, c)
	case "em1":
		b.gen2EM1(ch, c)
	case "em1data":
		if e, ok := numAt(c, "total_act_energy"); ok {
			b.add("", energy(b.suffix("em1_energy", ch), b.em1Name(ch, "Energy")), round6(e/1000), true)
		}
		if e, ok := numAt(c, "total_act_ret_energy"); ok {
			b.add("", energy(b.suffix("em1_energy_returned", ch), b.em1Name(ch, "Energy returned")), round6(e/1000), true)
		}
	default:
		if quietKeys[comp] || comp == "script" {
			return
		}
		b.unknown(k, v)
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func hasPath(m map[string]any, keys ...string) bool { _, ok := path(m, keys...); return ok }

func hasError(c map[string]any, kind string) bool {
	errs, _ := arr(c["errors"])
	for _, e := range errs {
		if s, _ := str(e); s == kind {
			return true
		}
	}
	return false
}

// protections are the errors a metered channel reports, as problem sensors.
var protections = []struct{ kind, name string }{
	{"overtemp", "Overtemp"}, {"overpower", "Overpower"}, {"overvoltage", "Overvoltage"}, {"overcurrent", "Overcurrent"},
}

// metering adds the power meter of a switch/cover/light/pm1 channel.
func (b *builder) metering(comp string, ch int, c map[string]any) {
	p, hasP := numAt(c, "apower")
	if hasP || hasKey(c, "apower") {
		b.add(comp, sensor(b.suffix("power", ch), b.subName(comp, ch, "Power"), "power", "W"), p, hasP)
	}
	if v, ok := numAt(c, "voltage"); ok {
		b.add(comp, diag(sensor(b.suffix("voltage", ch), b.subName(comp, ch, "Voltage"), "voltage", "V"), true), v, true)
	}
	if v, ok := numAt(c, "current"); ok {
		b.add(comp, diag(sensor(b.suffix("current", ch), b.subName(comp, ch, "Current"), "current", "A"), true), v, true)
	}
	if v, ok := numAt(c, "freq"); ok {
		b.add(comp, diag(sensor(b.suffix("frequency", ch), b.subName(comp, ch, "Frequency"), "frequency", "Hz"), true), v, true)
	}
	if v, ok := numAt(c, "pf"); ok {
		b.add(comp, diag(sensor(b.suffix("power_factor", ch), b.subName(comp, ch, "Power factor"), "power_factor", ""), true), v, true)
	}
	if e, ok := numAt(c, "aenergy", "total"); ok || hasPath(c, "aenergy", "total") {
		b.add(comp, energy(b.suffix("energy", ch), b.subName(comp, ch, "Energy")), round6(e/1000), ok)
	}
	if e, ok := numAt(c, "ret_aenergy", "total"); ok {
		b.add(comp, energy(b.suffix("energy_returned", ch), b.subName(comp, ch, "Energy returned")), round6(e/1000), true)
	}
	if t, ok := numAt(c, "temperature", "tC"); ok || hasPath(c, "temperature", "tC") {
		b.add(comp, diag(sensor(b.suffix("device_temperature", ch), b.subName(comp, ch, "Device temperature"), "temperature", "°C"), false), t, ok)
	}
	if hasP {
		for _, p := range protections {
			b.add(comp, diag(binary(b.suffix(p.kind, ch), b.subName(comp, ch, p.name), "problem"), false), onOff(hasError(c, p.kind)), true)
		}
	}
}

func (b *builder) gen2Cover(ch int, c map[string]any) {
	raw, hasState := strAt(c, "state")
	state := raw
	switch raw {
	case vendors.CoverOpen, vendors.CoverClosed, vendors.CoverOpening, vendors.CoverClosing, vendors.CoverStopped:
	case "calibrating":
		state = vendors.CoverStopped
	default:
		hasState = false
	}
	posCtl, _ := flagAt(c, "pos_control")
	calibrating := raw == "calibrating"
	pos, hasPos := intIn(c["current_pos"], 0, 100)
	tilt, hasTilt := intIn(c["slat_pos"], 0, 100)
	b.coverEntities("cover", ch, state, hasState, pos, hasPos && !calibrating, posCtl || hasPos, hasKey(c, "slat_pos"), tilt, hasTilt, false)
}

func (b *builder) gen2Light(comp string, ch int, c map[string]any) {
	on, has := flagAt(c, "output")
	ls := vendors.LightState{State: onOff(on)}
	t := target{}
	if br, ok := numAt(c, "brightness"); ok {
		ls.Brightness = vendors.IntPtr(pct255(br))
	}
	switch comp {
	case "light":
		t.Light = "brightness"
		if ls.Brightness == nil {
			t.Light = "onoff"
		}
	case "cct":
		t.Light = "color_temp"
		if k, ok := intIn(c["ct"], 1000, 10000); ok {
			ls.ColorTemp = vendors.IntPtr(k)
		}
	case "rgb", "rgbw":
		t.Light = comp
		if rgb, ok := arr(c["rgb"]); ok && len(rgb) == 3 {
			r, okR := intIn(rgb[0], 0, 255)
			g, okG := intIn(rgb[1], 0, 255)
			bl, okB := intIn(rgb[2], 0, 255)
			if okR && okG && okB {
				ls.Color = &vendors.Color{R: r, G: g, B: bl}
				if comp == "rgbw" {
					if w, ok := intIn(c["white"], 0, 255); ok {
						ls.Color.W = vendors.IntPtr(w)
					}
				}
			}
		}
	}
	ls.ColorMode = t.Light
	if t.Light == "onoff" {
		ls.ColorMode = "onoff"
	}
	b.lightEntity(comp, ch, t, ls, has)
}

func (b *builder) gen2Input(ch int, c map[string]any) {
	if s, ok := flagAt(c, "state"); ok {
		b.add("", binary(b.suffix("input", ch), fmt.Sprintf("Input %d", ch+1), "power"), onOff(s), true)
	}
	if p, ok := numAt(c, "percent"); ok {
		b.add("", sensor(b.suffix("analog", ch), fmt.Sprintf("Analog input %d", ch+1), "", "%"), p, true)
	}
	if n, ok := numAt(c, "counts", "total"); ok {
		e := vendors.Entity{Key: b.suffix("counter", ch), Platform: vendors.Sensor, Name: fmt.Sprintf("Pulse counter %d", ch+1), Unit: "pulses", StateClass: "total_increasing"}
		b.add("", e, n, true)
	}
}

var phases = []string{"a", "b", "c"}

func (b *builder) gen2EM(ch int, c map[string]any) {
	type q struct{ field, key, name, class, unit string }
	per := []q{
		{"act_power", "power", "power", "power", "W"},
		{"aprt_power", "apparent_power", "apparent power", "apparent_power", "VA"},
		{"voltage", "voltage", "voltage", "voltage", "V"},
		{"current", "current", "current", "current", "A"},
		{"pf", "power_factor", "power factor", "power_factor", ""},
		{"freq", "frequency", "frequency", "frequency", "Hz"},
	}
	for _, qq := range per {
		for _, p := range phases {
			v, ok := numAt(c, p+"_"+qq.field)
			if !ok && !hasKey(c, p+"_"+qq.field) {
				continue
			}
			e := sensor(b.suffix(qq.key+"_"+p, ch), "Phase "+strings.ToUpper(p)+" "+qq.name, qq.class, qq.unit)
			if qq.key == "frequency" || qq.key == "power_factor" {
				e.DisabledByDefault = true
			}
			b.add("em", e, v, ok)
		}
	}
	totals := []q{
		{"total_act_power", "power_total", "Total power", "power", "W"},
		{"total_aprt_power", "apparent_power_total", "Total apparent power", "apparent_power", "VA"},
		{"total_current", "current_total", "Total current", "current", "A"},
		{"n_current", "current_n", "Neutral current", "current", "A"},
	}
	for _, t := range totals {
		if v, ok := numAt(c, t.field); ok {
			b.add("em", sensor(b.suffix(t.key, ch), t.name, t.class, t.unit), v, true)
		}
	}
}

func (b *builder) gen2EMData(ch int, c map[string]any) {
	if e, ok := numAt(c, "total_act"); ok {
		b.add("emdata", energy(b.suffix("energy_total", ch), "Total energy"), round6(e/1000), true)
	}
	if e, ok := numAt(c, "total_act_ret"); ok {
		b.add("emdata", energy(b.suffix("energy_returned_total", ch), "Total energy returned"), round6(e/1000), true)
	}
	for _, p := range phases {
		if e, ok := numAt(c, p+"_total_act_energy"); ok {
			b.add("emdata", energy(b.suffix("energy_"+p, ch), "Phase "+strings.ToUpper(p)+" energy"), round6(e/1000), true)
		}
		if e, ok := numAt(c, p+"_total_act_ret_energy"); ok {
			b.add("emdata", energy(b.suffix("energy_returned_"+p, ch), "Phase "+strings.ToUpper(p)+" energy returned"), round6(e/1000), true)
		}
	}
}

// em1Name names a single-phase meter's entity, numbering meters when a
// device has several.
func (b *builder) em1Name(ch int, what string) string {
	n := 0
	for k := range b.st {
		if c, _, ok := splitComp(k); ok && c == "em1" {
			n++
		}
	}
	if n > 1 {
		return fmt.Sprintf("Meter %d %s", ch+1, strings.ToLower(what))
	}
	return what
}

func (b *builder) gen2EM1(ch int, c map[string]any) {
	type q struct{ field, key, name, class, unit string }
	for _, qq := range []q{
		{"act_power", "em1_power", "Power", "power", "W"},
		{"aprt_power", "em1_apparent_power", "Apparent power", "apparent_power", "VA"},
		{"voltage", "em1_voltage", "Voltage", "voltage", "V"},
		{"current", "em1_current", "Current", "current", "A"},
		{"pf", "em1_power_factor", "Power factor", "power_factor", ""},
		{"freq", "em1_frequency", "Frequency", "frequency", "Hz"},
	} {
		if v, ok := numAt(c, qq.field); ok || hasKey(c, qq.field) {
			b.add("", sensor(b.suffix(qq.key, ch), b.em1Name(ch, qq.name), qq.class, qq.unit), v, ok)
		}
	}
}
