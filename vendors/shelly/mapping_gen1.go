package shelly

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

var gen1Rank = map[string]int{
	"relays": 0, "rollers": 1, "lights": 2, "meters": 10, "emeters": 11, "total_power": 12, "inputs": 20,
	"tmp": 21, "hum": 22, "bat": 23, "sensor": 24, "lux": 25, "accel": 26, "flood": 27, "smoke": 28,
	"gas_sensor": 29, "concentration": 30, "ext_temperature": 31, "ext_humidity": 32, "adcs": 33,
	"temperature": 34, "overtemperature": 35, "wifi_sta": 40,
}

func rankGen1(c string) int {
	if r, ok := gen1Rank[c]; ok {
		return r
	}
	return 100
}

// items returns the objects of a Gen1 status array.
func items(v any) []map[string]any {
	a, _ := arr(v)
	out := make([]map[string]any, 0, len(a))
	for _, x := range a {
		m, ok := obj(x)
		if !ok {
			m = map[string]any{}
		}
		out = append(out, m)
	}
	return out
}

// valid is false only when Gen1 says the measurement is invalid.
func valid(m map[string]any) bool {
	v, ok := flagAt(m, "is_valid")
	return !ok || v
}

func (b *builder) gen1(st map[string]any) {
	relays, rollers, lights := items(st["relays"]), items(st["rollers"]), items(st["lights"])
	if len(rollers) > 0 {
		relays = nil // a Shelly 2/2.5 in roller mode also reports its relays
	}
	b.multi = len(relays)+len(rollers)+len(lights) > 1
	_, hasMeters := st["meters"]
	for _, k := range sortedKeys(st, rankGen1) {
		v := st[k]
		switch k {
		case "relays":
			if len(rollers) > 0 {
				continue
			}
			for i, r := range relays {
				on, ok := flagAt(r, "ison")
				if key := b.add("", b.switchEntity(b.suffix("switch", i), b.chName("relays", i)), onOff(on), ok); key != "" && !b.m.ReadOnly {
					b.v.Targets.set(key, target{Kind: "switch", Ch: i, Comp: "relays", Gen1: true})
				}
				if op, ok := flagAt(r, "overpower"); ok {
					b.add("relays", diag(binary(b.suffix("overpower", i), b.subName("relays", i, "Overpower"), "problem"), false), onOff(op), true)
				}
			}
		case "rollers":
			for i, r := range rollers {
				b.gen1Roller(i, r)
				if p, ok := numAt(r, "power"); ok && !hasMeters {
					b.add("rollers", sensor(b.suffix("power", i), b.subName("rollers", i, "Power"), "power", "W"), p, valid(r))
				}
			}
		case "lights":
			for i, l := range lights {
				b.gen1Light(i, l)
				if p, ok := numAt(l, "power"); ok && !hasMeters {
					b.add("lights", sensor(b.suffix("power", i), b.subName("lights", i, "Power"), "power", "W"), p, true)
				}
			}
		case "meters":
			comp := "relays"
			if len(rollers) > 0 {
				comp = "rollers"
			} else if len(lights) > 0 {
				comp = "lights"
			}
			for i, m := range items(v) {
				if p, ok := numAt(m, "power"); ok || hasKey(m, "power") {
					b.add("meters", sensor(b.suffix("power", i), b.subName(comp, i, "Power"), "power", "W"), p, ok && valid(m))
				}
				if t, ok := numAt(m, "total"); ok {
					// Gen1 meters count watt-minutes.
					b.add("meters", energy(b.suffix("energy", i), b.subName(comp, i, "Energy")), round6(t/60/1000), valid(m))
				}
			}
		case "emeters":
			b.gen1EMeters(items(v))
		case "total_power":
			if p, ok := num(v); ok {
				b.add("", sensor("power_total", "Total power", "power", "W"), p, true)
			}
		case "inputs":
			for i, in := range items(v) {
				if s, ok := flagAt(in, "input"); ok {
					b.add("", binary(b.suffix("input", i), fmt.Sprintf("Input %d", i+1), "power"), onOff(s), true)
				}
			}
		case "tmp":
			if _, dev := num(st["temperature"]); dev {
				continue // a relay's own temperature, mapped from "temperature"
			}
			if m, ok := obj(v); ok {
				t, has := numAt(m, "tC")
				if !has {
					if u, _ := strAt(m, "units"); u == "C" {
						t, has = numAt(m, "value")
					}
				}
				b.add("", sensor("temperature_0", "Temperature", "temperature", "°C"), t, has && valid(m))
			}
		case "hum":
			if m, ok := obj(v); ok {
				h, has := numAt(m, "value")
				b.add("", sensor("humidity_0", "Humidity", "humidity", "%"), h, has && valid(m))
			}
		case "bat":
			if m, ok := obj(v); ok {
				if p, has := numAt(m, "value"); has {
					b.add("", diag(sensor("battery_0", "Battery", "battery", "%"), false), p, true)
				}
				if bv, has := numAt(m, "voltage"); has {
					b.add("", diag(sensor("battery_voltage_0", "Battery voltage", "voltage", "V"), true), bv, true)
				}
			}
		case "sensor":
			if m, ok := obj(v); ok {
				if s, has := strAt(m, "state"); has {
					b.add("", binary("door_0", "Door", "door"), onOff(s == "open"), valid(m) && (s == "open" || s == "close"))
				}
				if mo, has := flagAt(m, "motion"); has {
					b.add("", binary("motion_0", "Motion", "motion"), onOff(mo), valid(m))
				}
				if vi, has := flagAt(m, "vibration"); has {
					b.add("sensor", binary("vibration_0", "Vibration", "vibration"), onOff(vi), valid(m))
				}
			}
		case "lux":
			if m, ok := obj(v); ok {
				if lx, has := numAt(m, "value"); has {
					b.add("", sensor("illuminance_0", "Illuminance", "illuminance", "lx"), lx, valid(m))
				}
			}
		case "accel":
			if m, ok := obj(v); ok {
				if t, has := numAt(m, "tilt"); has {
					b.add("", sensor("tilt_0", "Tilt", "", "°"), t, true)
				}
				if vi, has := numAt(m, "vibration"); has {
					b.add("accel", binary("vibration_0", "Vibration", "vibration"), onOff(vi == 1), vi == 0 || vi == 1)
				}
			}
		case "flood":
			if f, ok := flag(v); ok {
				b.add("", binary("flood_0", "Flood", "moisture"), onOff(f), true)
			}
		case "smoke":
			if s, ok := flag(v); ok {
				b.add("", binary("smoke_0", "Smoke", "smoke"), onOff(s), true)
			}
		case "gas_sensor":
			if m, ok := obj(v); ok {
				if a, has := strAt(m, "alarm_state"); has {
					b.add("", binary("gas_0", "Gas", "gas"), onOff(a == "mild" || a == "heavy"), true)
				}
			}
		case "concentration":
			if m, ok := obj(v); ok {
				if p, has := numAt(m, "ppm"); has {
					b.add("", sensor("gas_concentration_0", "Gas concentration", "", "ppm"), p, valid(m))
				}
			}
		case "temperature":
			if t, ok := num(v); ok {
				b.add("", diag(sensor("device_temperature", "Device temperature", "temperature", "°C"), false), t, true)
			} else {
				b.unknown(k, v)
			}
		case "overtemperature":
			if o, ok := flag(v); ok {
				b.add("", diag(binary("overtemperature", "Overtemperature", "problem"), false), onOff(o), true)
			}
		case "ext_temperature", "ext_humidity":
			b.gen1Probes(k, v)
		case "adcs":
			for i, a := range items(v) {
				if volt, ok := numAt(a, "voltage"); ok {
					b.add("", sensor(b.suffix("adc_voltage", i), fmt.Sprintf("ADC %d voltage", i+1), "voltage", "V"), volt, true)
				}
			}
		case "wifi_sta":
			if m, ok := obj(v); ok {
				if rssi, has := numAt(m, "rssi"); has {
					b.add("", diag(sensor("rssi", "Signal strength", "signal_strength", "dBm"), true), rssi, true)
				}
			}
		default:
			if cloudKeys[k] || quietKeys[k] {
				if k == "mac" {
					if mac, ok := str(v); ok {
						b.v.MAC = mac
					}
				}
				if k == "update" {
					if fw, ok := strAt(st, "update", "old_version"); ok && b.v.FW == "" {
						b.v.FW = fw
					}
				}
				continue
			}
			b.unknown(k, v)
		}
	}
}

func (b *builder) gen1Roller(i int, r map[string]any) {
	raw, hasState := strAt(r, "state")
	positioning, _ := flagAt(r, "positioning")
	calibrating, _ := flagAt(r, "calibrating")
	pos, hasPos := intIn(r["current_pos"], 0, 100)
	hasPos = hasPos && positioning && !calibrating
	var state string
	switch raw {
	case "open":
		state = vendors.CoverOpening
	case "close":
		state = vendors.CoverClosing
	case "stop":
		switch {
		case hasPos && pos == 0:
			state = vendors.CoverClosed
		case hasPos:
			state = vendors.CoverOpen
		default:
			state = vendors.CoverStopped
		}
	default:
		hasState = false
	}
	if calibrating {
		state, hasState = vendors.CoverStopped, true
	}
	b.coverEntities("rollers", i, state, hasState, pos, hasPos, positioning, false, 0, false, true)
}

func (b *builder) gen1Light(i int, l map[string]any) {
	on, has := flagAt(l, "ison")
	ls := vendors.LightState{State: onOff(on)}
	t := target{Gen1: true}
	mode, _ := strAt(l, "mode")
	_, hasRed := l["red"]
	switch {
	case hasRed && mode != "white":
		t.Light, t.Gain = "rgb", true
		if _, w := l["white"]; w {
			t.Light = "rgbw"
		}
		r, _ := intIn(l["red"], 0, 255)
		g, _ := intIn(l["green"], 0, 255)
		bl, _ := intIn(l["blue"], 0, 255)
		ls.Color = &vendors.Color{R: r, G: g, B: bl}
		if t.Light == "rgbw" {
			w, _ := intIn(l["white"], 0, 255)
			ls.Color.W = vendors.IntPtr(w)
		}
		if gain, ok := numAt(l, "gain"); ok {
			ls.Brightness = vendors.IntPtr(pct255(gain))
		}
		t.Effects = gen1Effects(b.m.Code)
		if e, ok := intIn(l["effect"], 0, len(t.Effects)-1); ok {
			ls.Effect = t.Effects[e]
		}
	case hasKey(l, "temp"):
		t.Light = "color_temp"
		if k, ok := intIn(l["temp"], 1000, 10000); ok {
			ls.ColorTemp = vendors.IntPtr(k)
		}
		if br, ok := numAt(l, "brightness"); ok {
			ls.Brightness = vendors.IntPtr(pct255(br))
		}
	case hasKey(l, "brightness"):
		t.Light = "brightness"
		if br, ok := numAt(l, "brightness"); ok {
			ls.Brightness = vendors.IntPtr(pct255(br))
		}
	default:
		t.Light = "onoff"
	}
	ls.ColorMode = t.Light
	b.lightEntity("lights", i, t, ls, has)
}

func (b *builder) gen1EMeters(ems []map[string]any) {
	threePhase := strings.EqualFold(b.m.Code, "SHEM-3")
	name := func(i int, what string) string {
		switch {
		case threePhase && i < 3:
			return "Phase " + string(rune('A'+i)) + " " + strings.ToLower(what)
		case len(ems) > 1:
			return fmt.Sprintf("Channel %d %s", i+1, strings.ToLower(what))
		}
		return what
	}
	type q struct{ field, key, what, class, unit string }
	for i, m := range ems {
		ok := valid(m)
		for _, qq := range []q{
			{"power", "power", "Power", "power", "W"},
			{"voltage", "voltage", "Voltage", "voltage", "V"},
			{"current", "current", "Current", "current", "A"},
			{"pf", "power_factor", "Power factor", "power_factor", ""},
			{"reactive", "reactive_power", "Reactive power", "reactive_power", "var"},
		} {
			if v, has := numAt(m, qq.field); has {
				b.add("emeters", sensor(b.suffix(qq.key, i), name(i, qq.what), qq.class, qq.unit), v, ok)
			}
		}
		if t, has := numAt(m, "total"); has {
			b.add("emeters", energy(b.suffix("energy", i), name(i, "Energy")), round6(t/1000), ok)
		}
		if t, has := numAt(m, "total_returned"); has {
			b.add("emeters", energy(b.suffix("energy_returned", i), name(i, "Energy returned")), round6(t/1000), ok)
		}
	}
}

// gen1Probes maps add-on probes: {"0": {"tC": 21.5}} / {"0": {"hum": 40}}.
func (b *builder) gen1Probes(k string, v any) {
	m, ok := obj(v)
	if !ok {
		b.unknown(k, v)
		return
	}
	ids := make([]int, 0, len(m))
	for s := range m {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < 100 {
			ids = append(ids, n)
		}
	}
	sort.Ints(ids)
	for _, n := range ids {
		p, _ := obj(m[strconv.Itoa(n)])
		if k == "ext_temperature" {
			t, has := numAt(p, "tC")
			b.add("", sensor(b.suffix("ext_temperature", n), fmt.Sprintf("External temperature %d", n+1), "temperature", "°C"), t, has)
		} else {
			h, has := numAt(p, "hum")
			b.add("", sensor(b.suffix("ext_humidity", n), fmt.Sprintf("External humidity %d", n+1), "humidity", "%"), h, has)
		}
	}
}
