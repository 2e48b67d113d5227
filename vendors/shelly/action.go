package shelly

import (
	"math"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// action is one command for one Shelly channel, before it is put into
// either API's wire form.
type action struct {
	Kind string // switch, cover, light
	Ch   int
	On   *bool
	// Cover.
	Go   string // open, close, stop
	Pos  *int
	Slat *int
	// Light. Brightness and Gain are 0–100 %.
	Brightness   *int
	Gain         *int
	Red, Green   *int
	Blue, White  *int
	Temp         *int
	Mode         string // color, white
	Effect       *int
	TransitionMS *int
}

func boolPtr(b bool) *bool { return &b }

// toAction translates a validated bridge command for entity e (driven as t).
func toAction(e vendors.Entity, t target, value any) (action, error) {
	a := action{Kind: t.Kind, Ch: t.Ch}
	switch t.Kind {
	case "switch":
		on, ok := value.(bool)
		if !ok {
			return a, vendors.Errorf(vendors.CodeInvalidValue, "a switch takes ON or OFF")
		}
		a.On = &on
	case "cover":
		c, ok := value.(vendors.CoverCommand)
		if !ok {
			return a, vendors.Errorf(vendors.CodeInvalidValue, "a cover takes OPEN, CLOSE, STOP or a position")
		}
		switch {
		case c.Position != nil:
			if e.Cover == nil || e.Cover.PositionKey == "" {
				return a, vendors.Errorf(vendors.CodeNotSupported, "this cover does not report a position (not calibrated)")
			}
			if *c.Position < 0 || *c.Position > 100 {
				return a, vendors.Errorf(vendors.CodeOutOfRange, "position %d is outside 0–100", *c.Position)
			}
			a.Pos = c.Position
		case c.Tilt != nil:
			if e.Cover == nil || e.Cover.TiltKey == "" {
				return a, vendors.Errorf(vendors.CodeNotSupported, "this cover has no slats")
			}
			if *c.Tilt < 0 || *c.Tilt > 100 {
				return a, vendors.Errorf(vendors.CodeOutOfRange, "tilt %d is outside 0–100", *c.Tilt)
			}
			a.Slat = c.Tilt
		default:
			switch c.Action {
			case vendors.CoverActionOpen:
				a.Go = "open"
			case vendors.CoverActionClose:
				a.Go = "close"
			case vendors.CoverActionStop:
				a.Go = "stop"
			default:
				return a, vendors.Errorf(vendors.CodeInvalidValue, "unknown cover action %q", c.Action)
			}
		}
	case "light":
		lc, ok := value.(vendors.LightCommand)
		if !ok {
			return a, vendors.Errorf(vendors.CodeInvalidValue, "a light takes a JSON light command")
		}
		if err := lightAction(&a, t, lc); err != nil {
			return a, err
		}
	default:
		return a, vendors.ErrReadOnly
	}
	return a, nil
}

func lightAction(a *action, t target, lc vendors.LightCommand) error {
	a.On = lc.On
	other := false
	if lc.Brightness != nil {
		b := *lc.Brightness
		if b < 0 || b > 255 {
			return vendors.Errorf(vendors.CodeOutOfRange, "brightness %d is outside 0–255", b)
		}
		if t.Light == "onoff" {
			return vendors.Errorf(vendors.CodeNotSupported, "this light has no brightness")
		}
		p := int(math.Round(float64(b) * 100 / 255))
		if b > 0 && p == 0 {
			p = 1
		}
		if b == 0 {
			a.On = boolPtr(false)
		} else if t.Gain {
			a.Gain = &p
		} else {
			a.Brightness = &p
		}
		other = b > 0
	}
	if lc.ColorTemp != nil {
		if t.Light != "color_temp" {
			return vendors.Errorf(vendors.CodeNotSupported, "this light has no colour temperature")
		}
		k := min(max(*lc.ColorTemp, 2700), 6500)
		a.Temp = &k
		other = true
	}
	if lc.Color != nil {
		if t.Light != "rgb" && t.Light != "rgbw" {
			return vendors.Errorf(vendors.CodeNotSupported, "this light has no colour")
		}
		c := lc.Color
		for _, v := range []int{c.R, c.G, c.B} {
			if v < 0 || v > 255 {
				return vendors.Errorf(vendors.CodeOutOfRange, "colour components are 0–255")
			}
		}
		a.Red, a.Green, a.Blue = &c.R, &c.G, &c.B
		if c.W != nil {
			if t.Light != "rgbw" {
				return vendors.Errorf(vendors.CodeNotSupported, "this light has no white channel")
			}
			if *c.W < 0 || *c.W > 255 {
				return vendors.Errorf(vendors.CodeOutOfRange, "white is 0–255")
			}
			a.White = c.W
		}
		if t.Gen1 {
			a.Mode = "color"
		}
		other = true
	}
	if lc.Effect != "" {
		if len(t.Effects) == 0 {
			return vendors.Errorf(vendors.CodeNotSupported, "this light has no effects")
		}
		idx := -1
		for i, name := range t.Effects {
			if name == lc.Effect {
				idx = i
			}
		}
		if idx < 0 {
			return vendors.Errorf(vendors.CodeInvalidValue, "unknown effect %q", lc.Effect)
		}
		a.Effect = &idx
		other = true
	}
	if lc.Transition != nil {
		ms := int(math.Round(*lc.Transition * 1000))
		if ms < 0 || ms > 5000 {
			return vendors.Errorf(vendors.CodeOutOfRange, "transition is 0–5 s")
		}
		a.TransitionMS = &ms
	}
	if a.On == nil && other {
		a.On = boolPtr(true)
	}
	if a.On == nil {
		return vendors.Errorf(vendors.CodeInvalidValue, "empty light command")
	}
	return nil
}

// integratorCommand renders an action as Shelly:CommandRequest cmd and
// params (Gen1-style commands, which the cloud also takes for Gen2 devices).
func integratorCommand(a action) (string, map[string]any) {
	p := map[string]any{"id": a.Ch}
	turn := func() {
		if a.On != nil {
			if *a.On {
				p["turn"] = "on"
			} else {
				p["turn"] = "off"
			}
		}
	}
	switch a.Kind {
	case "switch":
		turn()
		return "relay", p
	case "cover":
		if a.Go != "" {
			p["go"] = a.Go
			return "roller", p
		}
		if a.Pos != nil {
			p["pos"] = *a.Pos
		}
		if a.Slat != nil {
			p["slat_pos"] = *a.Slat
		}
		return "roller_to_pos", p
	}
	turn()
	setInt(p, "brightness", a.Brightness)
	setInt(p, "gain", a.Gain)
	setInt(p, "red", a.Red)
	setInt(p, "green", a.Green)
	setInt(p, "blue", a.Blue)
	setInt(p, "white", a.White)
	setInt(p, "temp", a.Temp)
	setInt(p, "effect", a.Effect)
	setInt(p, "transition", a.TransitionMS)
	if a.Mode != "" {
		p["mode"] = a.Mode
	}
	return "light", p
}

func setInt(m map[string]any, k string, v *int) {
	if v != nil {
		m[k] = *v
	}
}
