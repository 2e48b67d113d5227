package ewelink

import (
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// lightKind is one uiid family's light protocol (reference §10.3).
type lightKind interface {
	spec() vendors.LightSpec
	// power is the on/off param ("switch" or "state").
	power() string
	// read fills brightness, colour and effect from the params.
	read(p params, s *vendors.LightState)
	// write returns the params for the brightness/colour/effect parts of c
	// (nil: nothing but on/off).
	write(p params, c vendors.LightCommand) params
}

// combined kinds take their values only together with power on (the D1).
type combined interface{ combined() bool }

// light is a JSON-schema light entity ("light").
type light struct {
	kind lightKind
	key  string
	name string
}

func newLight(k lightKind) light { return light{kind: k, key: "light"} }

func (f light) entities(t *thing) []vendors.Entity {
	if _, ok := t.params()[f.kind.power()]; !ok {
		return nil
	}
	s := f.kind.spec()
	return []vendors.Entity{{Key: f.key, Name: f.name, Platform: vendors.Light, Writable: true, Light: &s}}
}

func (f light) isOn(p params) bool {
	on, _ := onOff(p[f.kind.power()])
	return on
}

func (f light) values(t *thing, out map[string]any) {
	if _, ok := t.params()[f.kind.power()]; !ok {
		return
	}
	s := vendors.LightState{State: onOffState(f.isOn(t.params()))}
	f.kind.read(t.params(), &s)
	out[f.key] = s
}

func (f light) command(t *thing, key string, v any) (plan, error) {
	c, ok := v.(vendors.LightCommand)
	if !ok {
		if pc, isPtr := v.(*vendors.LightCommand); isPtr && pc != nil {
			c = *pc
		} else {
			return plan{}, badValue(key, v)
		}
	}
	pw := f.kind.power()
	if (c.On != nil && !*c.On) || (c.Brightness != nil && *c.Brightness <= 0) {
		return plan{msgs: []params{{pw: "off"}}}, nil
	}
	vals := f.kind.write(t.params(), c)
	if len(vals) == 0 {
		return plan{msgs: []params{{pw: "on"}}}, nil
	}
	if cb, ok := f.kind.(combined); ok && cb.combined() {
		vals[pw] = "on"
		return plan{msgs: []params{vals}}, nil
	}
	if !f.isOn(t.params()) {
		// Many lights ignore dimming and colour while off (reference §10.3).
		return plan{msgs: []params{{pw: "on"}, vals}}, nil
	}
	return plan{msgs: []params{vals}}, nil
}

func pint(p params, key string) (int, bool) {
	f, ok := num(p[key])
	if !ok {
		return 0, false
	}
	return int(f + 0.5), true
}

func sub(p params, key string) params {
	m, _ := p[key].(map[string]any)
	return params(m)
}

// --- brightness-only lights (36, 44, 57, 1257) ---------------------------------

type dimmer struct {
	pw, param string
	lo, hi    int
	asString  bool
	// d1 sends brightness with switch:on and mode:0 (else error 400).
	d1 bool
}

func (d dimmer) spec() vendors.LightSpec {
	return vendors.LightSpec{ColorModes: []string{"brightness"}}
}
func (d dimmer) power() string  { return d.pw }
func (d dimmer) combined() bool { return d.d1 }

func (d dimmer) read(p params, s *vendors.LightState) {
	s.ColorMode = "brightness"
	if v, ok := pint(p, d.param); ok {
		s.Brightness = vendors.IntPtr(fromDevice(v, d.lo, d.hi))
	}
}

func (d dimmer) write(p params, c vendors.LightCommand) params {
	if c.Brightness == nil {
		return nil
	}
	v := toDevice(*c.Brightness, d.lo, d.hi)
	out := params{}
	if d.asString {
		out[d.param] = strconv.Itoa(v)
	} else {
		out[d.param] = v
	}
	if d.d1 {
		out["mode"] = 0
	}
	return out
}

// --- Zigbee CCT (1258) ----------------------------------------------------------

type zigbeeCCT struct{}

const cct1258Min, cct1258Max = 2200, 4000

func (zigbeeCCT) spec() vendors.LightSpec {
	return vendors.LightSpec{ColorModes: []string{"color_temp"}, MinKelvin: cct1258Min, MaxKelvin: cct1258Max}
}
func (zigbeeCCT) power() string { return "switch" }

func (zigbeeCCT) read(p params, s *vendors.LightState) {
	s.ColorMode = "color_temp"
	if v, ok := pint(p, "brightness"); ok {
		s.Brightness = vendors.IntPtr(fromDevice(v, 1, 100))
	}
	if v, ok := pint(p, "colorTemp"); ok {
		s.ColorTemp = vendors.IntPtr(kelvinFromDevice(v, cct1258Min, cct1258Max, 100))
	}
}

func (zigbeeCCT) write(p params, c vendors.LightCommand) params {
	out := params{}
	if c.Brightness != nil {
		out["brightness"] = toDevice(*c.Brightness, 1, 100)
	}
	if c.ColorTemp != nil {
		out["colorTemp"] = kelvinToDevice(*c.ColorTemp, cct1258Min, cct1258Max, 100)
	}
	return out
}

// --- Zigbee RGBCW (3258, 7009) ----------------------------------------------------

type zigbeeRGBCW struct{}

const rgbcwMin, rgbcwMax = 2000, 6500

func (zigbeeRGBCW) spec() vendors.LightSpec {
	return vendors.LightSpec{ColorModes: []string{"color_temp", "hs"}, MinKelvin: rgbcwMin, MaxKelvin: rgbcwMax}
}
func (zigbeeRGBCW) power() string { return "switch" }

func (zigbeeRGBCW) read(p params, s *vendors.LightState) {
	if mode, _ := text(p["colorMode"]); mode == "rgb" {
		s.ColorMode = "hs"
		if v, ok := pint(p, "rgbBrightness"); ok {
			s.Brightness = vendors.IntPtr(fromDevice(v, 1, 100))
		}
		h, _ := num(p["hue"])
		sat, _ := num(p["saturation"])
		r, g, b := hsToRGB(h, sat)
		s.Color = &vendors.Color{R: r, G: g, B: b, H: &h, S: &sat}
		return
	}
	s.ColorMode = "color_temp"
	if v, ok := pint(p, "cctBrightness"); ok {
		s.Brightness = vendors.IntPtr(fromDevice(v, 1, 100))
	}
	if v, ok := pint(p, "colorTemp"); ok {
		s.ColorTemp = vendors.IntPtr(kelvinFromDevice(v, rgbcwMin, rgbcwMax, 100))
	}
}

func (zigbeeRGBCW) write(p params, c vendors.LightCommand) params {
	out := params{}
	mode, _ := text(p["colorMode"])
	switch {
	case c.Color != nil:
		h, s := hsOf(c.Color)
		out["colorMode"], out["hue"], out["saturation"] = "rgb", int(h+0.5)%360, int(s+0.5)
		mode = "rgb"
	case c.ColorTemp != nil:
		out["colorMode"], out["colorTemp"] = "cct", kelvinToDevice(*c.ColorTemp, rgbcwMin, rgbcwMax, 100)
		mode = "cct"
	}
	if c.Brightness != nil {
		if mode == "rgb" {
			out["rgbBrightness"] = toDevice(*c.Brightness, 1, 100)
		} else {
			out["cctBrightness"] = toDevice(*c.Brightness, 1, 100)
		}
	}
	return out
}

// --- B1 (22) ---------------------------------------------------------------------

type b1 struct{}

const b1Min, b1Max = 2700, 6500

var b1Effects = map[int]string{3: "Good Night", 4: "Reading", 5: "Party", 6: "Leisure"}

func (b1) spec() vendors.LightSpec {
	return vendors.LightSpec{ColorModes: []string{"color_temp", "rgb"}, MinKelvin: b1Min, MaxKelvin: b1Max, Effects: effectNames(b1Effects)}
}
func (b1) power() string { return "state" }

func (b1) read(p params, s *vendors.LightState) {
	mode, _ := pint(p, "zyx_mode")
	if mode == 2 {
		r, _ := pint(p, "channel2")
		g, _ := pint(p, "channel3")
		b, _ := pint(p, "channel4")
		c, br := normalize(r, g, b)
		s.ColorMode, s.Color = "rgb", &c
		if br > 0 {
			s.Brightness = vendors.IntPtr(br)
		}
		return
	}
	s.ColorMode = "color_temp"
	s.Effect = b1Effects[mode]
	cold, _ := pint(p, "channel0")
	warm, _ := pint(p, "channel1")
	if br := max(cold, warm); br > 0 {
		s.Brightness = vendors.IntPtr(fromDevice(br, 25, 255))
	}
	switch {
	case cold > 0 && warm > 0:
		s.ColorTemp = vendors.IntPtr(4600)
	case cold > 0:
		s.ColorTemp = vendors.IntPtr(b1Max)
	case warm > 0:
		s.ColorTemp = vendors.IntPtr(b1Min)
	}
}

func (b b1) write(p params, c vendors.LightCommand) params {
	if c.Effect != "" {
		if n, ok := effectNumber(b1Effects, c.Effect); ok {
			return params{"zyx_mode": n}
		}
	}
	var cur vendors.LightState
	b.read(p, &cur)
	bright := 255
	if cur.Brightness != nil {
		bright = *cur.Brightness
	}
	if c.Brightness != nil {
		bright = *c.Brightness
	}
	if c.Color != nil || (c.ColorTemp == nil && cur.ColorMode == "rgb" && c.Brightness != nil) {
		col := cur.Color
		if c.Color != nil {
			r, g, bl := rgbOf(c.Color)
			n, _ := normalize(r, g, bl)
			col = &n
		}
		if col == nil {
			col = &vendors.Color{R: 255, G: 255, B: 255}
		}
		r, g, bl := scaled(col.R, col.G, col.B, bright)
		return params{"zyx_mode": 2, "channel0": "0", "channel1": "0", "channel2": strconv.Itoa(r), "channel3": strconv.Itoa(g), "channel4": strconv.Itoa(bl)}
	}
	if c.ColorTemp == nil && c.Brightness == nil {
		return nil
	}
	k := b1Max
	if cur.ColorTemp != nil {
		k = *cur.ColorTemp
	}
	if c.ColorTemp != nil {
		k = *c.ColorTemp
	}
	br := strconv.Itoa(toDevice(bright, 25, 255))
	cold, warm := "0", "0"
	switch {
	case k >= 5000:
		cold = br
	case k >= 3500:
		cold, warm = br, br
	default:
		warm = br
	}
	return params{"zyx_mode": 1, "channel0": cold, "channel1": warm, "channel2": "0", "channel3": "0", "channel4": "0"}
}

// --- B02 (103, 135) and B05 (104, 136) ---------------------------------------------

// ltypeLight is the B02/B05 family: ltype names the active object (white,
// color, or a scene) holding br/ct or br/r/g/b.
type ltypeLight struct {
	color      bool
	ctMax      int
	kmin, kmax int
	scenes     []string
}

var b02Scenes = map[string][2]int{"nightLight": {5, 0}, "read": {50, 0}, "computer": {20, 255}, "bright": {100, 255}}

func b02() ltypeLight {
	return ltypeLight{ctMax: 255, kmin: 2200, kmax: 6500, scenes: []string{"bright", "read", "computer", "nightLight"}}
}

func b05(ctMax int) ltypeLight {
	return ltypeLight{color: true, ctMax: ctMax, kmin: 2000, kmax: 6500,
		scenes: []string{"bright", "goodNight", "read", "nightLight", "party", "leisure", "soft", "colorful"}}
}

func (l ltypeLight) spec() vendors.LightSpec {
	modes := []string{"color_temp"}
	if l.color {
		modes = append(modes, "rgb")
	}
	return vendors.LightSpec{ColorModes: modes, MinKelvin: l.kmin, MaxKelvin: l.kmax, Effects: l.scenes}
}
func (l ltypeLight) power() string { return "switch" }

func (l ltypeLight) read(p params, s *vendors.LightState) {
	lt, _ := text(p["ltype"])
	if lt == "" {
		lt = "white"
	}
	obj := sub(p, lt)
	if br, ok := pint(obj, "br"); ok && br > 0 {
		s.Brightness = vendors.IntPtr(fromDevice(br, 1, 100))
	} else if sc, ok := b02Scenes[lt]; ok && !l.color {
		s.Brightness = vendors.IntPtr(fromDevice(sc[0], 1, 100))
	}
	switch {
	case lt == "color" && l.color:
		r, _ := pint(obj, "r")
		g, _ := pint(obj, "g")
		b, _ := pint(obj, "b")
		c, _ := normalize(r, g, b)
		s.ColorMode, s.Color = "rgb", &c
	default:
		s.ColorMode = "color_temp"
		if lt != "white" {
			s.Effect = lt
		}
		if ct, ok := pint(obj, "ct"); ok {
			s.ColorTemp = vendors.IntPtr(kelvinFromDevice(ct, l.kmin, l.kmax, l.ctMax))
		}
	}
}

func (l ltypeLight) write(p params, c vendors.LightCommand) params {
	if c.Effect != "" && contains(l.scenes, c.Effect) {
		out := params{"ltype": c.Effect}
		if sc, ok := b02Scenes[c.Effect]; ok && !l.color {
			out[c.Effect] = map[string]any{"br": sc[0], "ct": sc[1]}
		}
		return out
	}
	lt, _ := text(p["ltype"])
	if c.ColorTemp != nil {
		lt = "white"
	}
	if c.Color != nil && l.color {
		lt = "color"
	}
	if c.Brightness == nil && c.ColorTemp == nil && (c.Color == nil || !l.color) {
		return nil
	}
	if lt != "color" {
		lt = "white"
	}
	cur := sub(p, lt)
	br, ok := pint(cur, "br")
	if !ok || br <= 0 {
		br = 100
	}
	if c.Brightness != nil {
		br = toDevice(*c.Brightness, 1, 100)
	}
	if lt == "color" {
		r, _ := pint(cur, "r")
		g, _ := pint(cur, "g")
		b, _ := pint(cur, "b")
		if c.Color != nil {
			r, g, b = rgbOf(c.Color)
		}
		if r == 0 && g == 0 && b == 0 {
			r, g, b = 255, 255, 255
		}
		return params{"ltype": "color", "color": map[string]any{"br": br, "r": r, "g": g, "b": b}}
	}
	ct, ok := pint(cur, "ct")
	if !ok {
		ct = l.ctMax / 2
	}
	if c.ColorTemp != nil {
		ct = kelvinToDevice(*c.ColorTemp, l.kmin, l.kmax, l.ctMax)
	}
	return params{"ltype": "white", "white": map[string]any{"br": br, "ct": ct}}
}

// --- L1 strips (33, 59, 137, 173) -----------------------------------------------------

type stripL1 struct{}

var l1Effects = map[int]string{2: "Colorful Gradient", 3: "Colorful Breath", 4: "DIY Gradient", 5: "DIY Pulse", 6: "DIY Breath", 7: "DIY Strobe", 8: "RGB Gradient", 9: "RGB Pulse", 10: "RGB Breath", 11: "RGB Strobe", 12: "Music"}

func (stripL1) spec() vendors.LightSpec {
	return vendors.LightSpec{ColorModes: []string{"rgb"}, Effects: effectNames(l1Effects)}
}
func (stripL1) power() string { return "switch" }

func (stripL1) read(p params, s *vendors.LightState) {
	s.ColorMode = "rgb"
	if v, ok := pint(p, "bright"); ok {
		s.Brightness = vendors.IntPtr(fromDevice(v, 1, 100))
	}
	r, ok1 := pint(p, "colorR")
	g, ok2 := pint(p, "colorG")
	b, ok3 := pint(p, "colorB")
	if ok1 && ok2 && ok3 {
		c, _ := normalize(r, g, b)
		s.Color = &c
	}
	if m, ok := pint(p, "mode"); ok {
		s.Effect = l1Effects[m]
	}
}

func (stripL1) write(p params, c vendors.LightCommand) params {
	out := params{}
	if c.Effect != "" {
		if n, ok := effectNumber(l1Effects, c.Effect); ok {
			out["mode"] = n
		}
	}
	if c.Color != nil {
		r, g, b := rgbOf(c.Color)
		out["colorR"], out["colorG"], out["colorB"], out["light_type"], out["mode"] = r, g, b, 1, 1
	}
	if c.Brightness != nil {
		out["bright"] = toDevice(*c.Brightness, 1, 100)
	}
	return out
}

func effectNames(m map[int]string) []string {
	out := make([]string, 0, len(m))
	for i := 0; i <= 32; i++ {
		if n, ok := m[i]; ok {
			out = append(out, n)
		}
	}
	return out
}

func effectNumber(m map[int]string, name string) (int, bool) {
	for k, v := range m {
		if v == name {
			return k, true
		}
	}
	return 0, false
}
