package ewelink

import (
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// ifan is the iFan02/03/04 (uiid 34, reference §10.5): outlet 0 is the light,
// outlet 1 the fan power and outlets 2 and 3 the speed bits.
type ifan struct{}

const fanSpeedKey = "fan_speed"

// fanSpeeds maps speed 1–3 to the outlet 1–3 bits.
var fanSpeeds = [4][3]bool{{false, false, false}, {true, false, false}, {true, true, false}, {true, false, true}}

var fanPercent = [4]int{0, 33, 66, 100}

func (ifan) entities(t *thing) []vendors.Entity {
	if _, ok := t.params()["switches"]; !ok {
		return nil
	}
	return []vendors.Entity{
		{Key: "fan", Platform: vendors.Fan, Writable: true, Fan: &vendors.FanSpec{PercentageKey: fanSpeedKey, SpeedCount: 3}},
		{Key: "light", Name: "Light", Platform: vendors.Light, Writable: true, Light: &vendors.LightSpec{ColorModes: []string{"onoff"}}},
	}
}

func (ifan) read(p params) (light, fan bool, speed int) {
	sw := outlets(p["switches"])
	bit := func(i int) bool { on, _ := onOff(sw[i]["switch"]); return on }
	light, fan = bit(0), bit(1)
	switch {
	case !fan:
		speed = 0
	case bit(3):
		speed = 3
	case bit(2):
		speed = 2
	default:
		speed = 1
	}
	return light, fan, speed
}

func (f ifan) values(t *thing, out map[string]any) {
	if _, ok := t.params()["switches"]; !ok {
		return
	}
	light, fan, speed := f.read(t.params())
	out["fan"] = onOffState(fan)
	out[fanSpeedKey] = fanPercent[speed]
	out["light"] = vendors.LightState{State: onOffState(light), ColorMode: "onoff"}
}

func (f ifan) command(t *thing, key string, v any) (plan, error) {
	if key == "light" {
		c, ok := v.(vendors.LightCommand)
		if !ok {
			return plan{}, badValue(key, v)
		}
		on := true
		if c.On != nil {
			on = *c.On
		}
		return plan{msgs: []params{{"switches": []any{map[string]any{"switch": cloudOnOff(on), "outlet": 0}}}}}, nil
	}
	c, ok := v.(vendors.FanCommand)
	if !ok {
		return plan{}, badValue(key, v)
	}
	_, _, speed := f.read(t.params())
	switch {
	case c.Percentage != nil:
		p := clamp(*c.Percentage, 0, 100)
		speed = (p*3 + 99) / 100 // 1–33 → 1, 34–66 → 2, 67–100 → 3
	case c.On != nil && !*c.On:
		speed = 0
	case c.On != nil && speed == 0:
		speed = lastSpeed(t)
	case c.Preset != "":
		return plan{}, vendors.Errorf(vendors.CodeNotSupported, "this fan has no presets")
	}
	bits := fanSpeeds[speed]
	if speed == 0 {
		// Off keeps the speed bits so the fan resumes at its speed.
		return plan{msgs: []params{{"switches": []any{map[string]any{"switch": "off", "outlet": 1}}}}}, nil
	}
	list := []any{}
	for i, on := range bits {
		list = append(list, map[string]any{"switch": cloudOnOff(on), "outlet": i + 1})
	}
	return plan{msgs: []params{{"switches": list}}}, nil
}

// lastSpeed is the speed the bits hold while the fan is off (low if none).
func lastSpeed(t *thing) int {
	sw := outlets(t.params()["switches"])
	bit := func(i int) bool { on, _ := onOff(sw[i]["switch"]); return on }
	switch {
	case bit(3):
		return 3
	case bit(2):
		return 2
	}
	return 1
}
