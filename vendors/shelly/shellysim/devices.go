package shellysim

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Error strings the simulated cloud answers with (those of the v2 API).
const (
	errBadRequest     = "BAD_REQUEST"
	errInvalidChannel = "DEVICE_INVALID_CHANNEL"
	errInvalidMode    = "DEVICE_INVALID_MODE"
	errOffline        = "DEVICE_OFFLINE"
	errNotFound       = "DEVICE_NOT_FOUND"
	errFailed         = "DEVICE_FAILED_COMMAND"
)

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// comp returns a Gen2 component ("switch", 0 → status["switch:0"]).
func (d *device) comp(kind string, ch int) map[string]any {
	m, _ := d.Status[kind+":"+strconv.Itoa(ch)].(map[string]any)
	return m
}

// item returns a Gen1 array element (status["relays"][ch]).
func (d *device) item(arr string, ch int) map[string]any {
	a, _ := d.Status[arr].([]any)
	if ch < 0 || ch >= len(a) {
		return nil
	}
	m, _ := a[ch].(map[string]any)
	return m
}

// delta is the changed part of the status, in the device's own shape.
func (d *device) delta(keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := d.Status[k]; ok {
			out[k] = clone(v)
		}
	}
	return out
}

func (d *device) lightComp(ch int) (string, map[string]any) {
	for _, k := range []string{"light", "rgbw", "rgb", "cct"} {
		if c := d.comp(k, ch); c != nil {
			return k, c
		}
	}
	return "", nil
}

func (d *device) meterPower(on bool) float64 {
	if !on || d.load == 0 {
		return 0
	}
	return round(d.load*(0.97+0.06*rand.Float64()), 1)
}

// relay switches an output: turn is on, off or toggle.
func (d *device) relay(ch int, turn string) (map[string]any, string) {
	if d.gen1() {
		r := d.item("relays", ch)
		if r == nil {
			if d.item("rollers", 0) != nil {
				return nil, errInvalidMode
			}
			return nil, errInvalidChannel
		}
		on, ok := turnValue(turn, r["ison"] == true)
		if !ok {
			return nil, errBadRequest
		}
		r["ison"], r["source"] = on, "cloud"
		if m := d.item("meters", ch); m != nil {
			m["power"] = d.meterPower(on)
		}
		return d.delta("relays", "meters"), ""
	}
	c := d.comp("switch", ch)
	if c == nil {
		if d.comp("cover", 0) != nil {
			return nil, errInvalidMode
		}
		return nil, errInvalidChannel
	}
	on, ok := turnValue(turn, c["output"] == true)
	if !ok {
		return nil, errBadRequest
	}
	c["output"], c["source"] = on, "cloud"
	if _, metered := c["apower"]; metered {
		p := d.meterPower(on)
		c["apower"] = p
		if v, ok := number(c["voltage"]); ok && v > 0 {
			c["current"] = round(p/v, 3)
		}
	}
	return d.delta("switch:" + strconv.Itoa(ch)), ""
}

func turnValue(turn string, cur bool) (bool, bool) {
	switch turn {
	case "on":
		return true, true
	case "off":
		return false, true
	case "toggle":
		return !cur, true
	}
	return false, false
}

// coverState returns a cover's position and its status key.
func (d *device) cover(ch int) (map[string]any, string) {
	if d.gen1() {
		return d.item("rollers", ch), "rollers"
	}
	return d.comp("cover", ch), "cover:" + strconv.Itoa(ch)
}

// roller starts or stops a cover: dir is open, close or stop.
func (d *device) roller(ch int, dir string) (map[string]any, string) {
	c, key := d.cover(ch)
	if c == nil {
		if d.comp("switch", 0) != nil || d.item("relays", 0) != nil {
			return nil, errInvalidMode
		}
		return nil, errInvalidChannel
	}
	switch dir {
	case "open":
		return d.rollerTo(ch, 100, false)
	case "close":
		return d.rollerTo(ch, 0, false)
	case "stop":
		delete(d.motion, ch)
		d.setCoverState(c, "stop")
		return d.delta(key), ""
	}
	return nil, errBadRequest
}

// rollerTo moves a cover (or its slats) to a target position.
func (d *device) rollerTo(ch int, target float64, slat bool) (map[string]any, string) {
	c, key := d.cover(ch)
	if c == nil {
		return nil, errInvalidChannel
	}
	if target < 0 || target > 100 {
		return nil, errBadRequest
	}
	if slat {
		if _, ok := c["slat_pos"]; !ok {
			return nil, errInvalidMode
		}
		c["slat_pos"] = target
		return d.delta(key), ""
	}
	cur, _ := number(c["current_pos"])
	switch {
	case target > cur:
		d.setCoverState(c, "open")
	case target < cur:
		d.setCoverState(c, "close")
	default:
		d.setCoverState(c, "stop")
		return d.delta(key), ""
	}
	d.motion[ch] = &move{target: target}
	return d.delta(key), ""
}

// setCoverState writes a movement state in the device's own words: Gen2
// opening/closing/stopped, Gen1 open/close/stop.
func (d *device) setCoverState(c map[string]any, dir string) {
	moving := dir != "stop"
	if d.gen1() {
		c["state"] = dir
		c["positioning"] = true
	} else {
		c["state"] = map[string]string{"open": "opening", "close": "closing", "stop": "stopped"}[dir]
		if moving {
			c["last_direction"] = dir
		}
	}
	if moving {
		c[powerKey(d)] = d.meterPower(true)
	} else {
		c[powerKey(d)] = 0.0
	}
	c["source"] = "cloud"
}

func powerKey(d *device) string {
	if d.gen1() {
		return "power"
	}
	return "apower"
}

// step advances moving covers by dt; it returns the keys that changed and
// whether some cover reached its target.
func (d *device) step(dt time.Duration, speed float64) (keys []string, arrived bool) {
	for ch, m := range d.motion {
		c, key := d.cover(ch)
		if c == nil {
			delete(d.motion, ch)
			continue
		}
		cur, _ := number(c["current_pos"])
		delta := speed * dt.Seconds()
		if math.Abs(m.target-cur) <= delta {
			cur = m.target
			delete(d.motion, ch)
			d.setCoverState(c, "stop")
			arrived = true
		} else if m.target > cur {
			cur += delta
		} else {
			cur -= delta
		}
		c["current_pos"] = math.Round(cur)
		keys = append(keys, key)
	}
	return keys, arrived
}

// light applies Gen1-style light parameters (turn, brightness, gain, red,
// green, blue, white, mode, temp, effect, transition).
func (d *device) light(ch int, p map[string]any) (map[string]any, string) {
	pct := func(k string, lo, hi float64) (float64, bool, bool) {
		v, ok := p[k]
		if !ok {
			return 0, false, true
		}
		f, isNum := number(v)
		if !isNum || f < lo || f > hi {
			return 0, false, false
		}
		return f, true, true
	}
	if d.gen1() {
		l := d.item("lights", ch)
		if l == nil {
			if d.item("relays", 0) != nil {
				return nil, errInvalidMode
			}
			return nil, errInvalidChannel
		}
		if t, ok := p["turn"].(string); ok {
			on, valid := turnValue(t, l["ison"] == true)
			if !valid {
				return nil, errBadRequest
			}
			l["ison"] = on
		}
		if m, ok := p["mode"].(string); ok {
			if cur, _ := l["mode"].(string); cur != "" && m != cur {
				return nil, errInvalidMode // switching RGBW2 modes needs a settings change
			}
		}
		for _, f := range []struct {
			k      string
			lo, hi float64
		}{{"brightness", 0, 100}, {"gain", 0, 100}, {"red", 0, 255}, {"green", 0, 255}, {"blue", 0, 255}, {"white", 0, 255}, {"effect", 0, 6}, {"transition", 0, 5000}, {"temp", 2700, 6500}} {
			v, set, ok := pct(f.k, f.lo, f.hi)
			if !ok {
				return nil, errBadRequest
			}
			if set {
				if _, has := l[f.k]; !has && f.k != "transition" {
					return nil, errInvalidMode
				}
				l[f.k] = v
			}
		}
		l["source"] = "cloud"
		on := l["ison"] == true
		l["power"] = d.meterPower(on)
		if m := d.item("meters", ch); m != nil {
			m["power"] = l["power"]
		}
		return d.delta("lights", "meters"), ""
	}
	kind, c := d.lightComp(ch)
	if c == nil {
		return nil, errInvalidMode
	}
	if t, ok := p["turn"].(string); ok {
		on, valid := turnValue(t, c["output"] == true)
		if !valid {
			return nil, errBadRequest
		}
		c["output"] = on
	}
	b, setB, ok := pct("brightness", 0, 100)
	if !ok {
		return nil, errBadRequest
	}
	if g, setG, ok := pct("gain", 0, 100); !ok {
		return nil, errBadRequest
	} else if setG && !setB {
		b, setB = g, true
	}
	if setB {
		c["brightness"] = b
	}
	if kind == "rgb" || kind == "rgbw" {
		rgb, _ := c["rgb"].([]any)
		if len(rgb) != 3 {
			rgb = []any{255.0, 255.0, 255.0}
		}
		for i, k := range []string{"red", "green", "blue"} {
			v, set, ok := pct(k, 0, 255)
			if !ok {
				return nil, errBadRequest
			}
			if set {
				rgb[i] = v
			}
		}
		c["rgb"] = rgb
		if v, set, ok := pct("white", 0, 255); !ok {
			return nil, errBadRequest
		} else if set && kind == "rgbw" {
			c["white"] = v
		}
	}
	if kind == "cct" {
		if v, set, ok := pct("temp", 2700, 6500); !ok {
			return nil, errBadRequest
		} else if set {
			c["ct"] = v
		}
	}
	c["source"] = "cloud"
	return d.delta(kind + ":" + strconv.Itoa(ch)), ""
}

// drift changes measured values a little, as a real home would.
func (d *device) drift(dt time.Duration) []string {
	var keys []string
	jitter := func(v, rel float64) float64 { return v * (1 + rel*(2*rand.Float64()-1)) }
	for k, v := range d.Status {
		c, ok := v.(map[string]any)
		if !ok {
			continue
		}
		kind, _, _ := strings.Cut(k, ":")
		switch kind {
		case "switch", "cover", "light", "rgb", "rgbw", "cct", "pm1":
			p, _ := number(c["apower"])
			if p > 0 {
				p = round(jitter(p, 0.03), 1)
				c["apower"] = p
				if ae, ok := c["aenergy"].(map[string]any); ok {
					t, _ := number(ae["total"])
					ae["total"] = round(t+p*dt.Hours(), 3)
				}
				keys = append(keys, k)
			}
		case "temperature":
			t, _ := number(c["tC"])
			c["tC"] = round(t+0.2*(2*rand.Float64()-1), 1)
			c["tF"] = round(c["tC"].(float64)*9/5+32, 1)
			keys = append(keys, k)
		case "humidity":
			h, _ := number(c["rh"])
			c["rh"] = round(math.Min(100, math.Max(0, h+0.5*(2*rand.Float64()-1))), 1)
			keys = append(keys, k)
		case "em":
			total := 0.0
			for _, ph := range []string{"a", "b", "c"} {
				p, _ := number(c[ph+"_act_power"])
				p = round(jitter(p, 0.05), 1)
				c[ph+"_act_power"] = p
				c[ph+"_aprt_power"] = round(p*1.08, 1)
				c[ph+"_current"] = round(p/230, 3)
				total += p
			}
			c["total_act_power"] = round(total, 2)
			keys = append(keys, k)
			if ed, ok := d.Status["emdata:0"].(map[string]any); ok {
				for _, ph := range []string{"a", "b", "c"} {
					e, _ := number(ed[ph+"_total_act_energy"])
					p, _ := number(c[ph+"_act_power"])
					ed[ph+"_total_act_energy"] = round(e+p*dt.Hours(), 2)
				}
				t, _ := number(ed["total_act"])
				ed["total_act"] = round(t+total*dt.Hours(), 2)
				keys = append(keys, "emdata:0")
			}
		}
	}
	if ms, ok := d.Status["meters"].([]any); ok {
		for _, m := range ms {
			mm, _ := m.(map[string]any)
			p, _ := number(mm["power"])
			if p > 0 {
				p = round(jitter(p, 0.03), 1)
				mm["power"] = p
				if t, ok := number(mm["total"]); ok {
					mm["total"] = round(t+p*dt.Minutes(), 0) // watt-minutes
				}
				keys = append(keys, "meters")
			}
		}
	}
	return keys
}
