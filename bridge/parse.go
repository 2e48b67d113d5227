package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// parsed is one validated command. toggle says the on/off part is resolved
// from the state under stateKey when the command runs.
type parsed struct {
	key      string // as the user named it
	cmd      vendors.Command
	toggle   bool
	stateKey string
}

// field is one member of a /set JSON object, in payload order.
type field struct {
	key string
	raw json.RawMessage
}

// setObject is a decoded /set payload.
type setObject struct {
	fields []field
	tx     json.RawMessage
}

var errNotObject = errors.New("not a JSON object")

// decodeSet reads a /set payload: a JSON object of entity keys to values and
// an optional "transaction", keeping the order of the keys.
func decodeSet(payload []byte) (setObject, *cmdError) {
	var o setObject
	dec := json.NewDecoder(bytes.NewReader(payload))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		if err == nil {
			err = errNotObject
		}
		return o, reject(vendors.CodeInvalidJSON, "want a JSON object: %v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return o, reject(vendors.CodeInvalidJSON, "%v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return o, reject(vendors.CodeInvalidJSON, "%v", err)
		}
		if key == "transaction" {
			o.tx = raw
			continue
		}
		o.fields = append(o.fields, field{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return o, reject(vendors.CodeInvalidJSON, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return o, reject(vendors.CodeInvalidJSON, "trailing data after the object")
	}
	return o, nil
}

// echo is the object without its transaction, for the result's "command".
func (o setObject) echo() json.RawMessage {
	b := []byte{'{'}
	for i, f := range o.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.key)
		b = append(b, ':')
		b = append(b, f.raw...)
	}
	return append(b, '}')
}

// parseFields validates every key of a /set object against the device.
func parseFields(d *vendors.Device, fields []field) ([]parsed, *cmdError) {
	if len(fields) == 0 {
		return nil, reject(vendors.CodeInvalidValue, "no entity keys in the command")
	}
	out := make([]parsed, 0, len(fields))
	for _, f := range fields {
		var v any
		if err := json.Unmarshal(f.raw, &v); err != nil {
			return nil, reject(vendors.CodeInvalidJSON, "%s: %v", f.key, err)
		}
		p, err := parseValue(d, f.key, v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// rawValue reads a /set/<key> payload: JSON when it is JSON (a number, a
// quoted string, true/false, an object), else the trimmed text (ON, OPEN).
func rawValue(payload []byte) any {
	p := bytes.TrimSpace(payload)
	var v any
	if json.Unmarshal(p, &v) == nil {
		return v
	}
	return string(p)
}

// parseSetKey validates a /set/<key> payload; a JSON object may carry a
// "transaction".
func parseSetKey(d *vendors.Device, key string, payload []byte) (parsed, json.RawMessage, *cmdError) {
	p := bytes.TrimSpace(payload)
	if len(p) > 0 && (p[0] == '{' || p[0] == '[') && !json.Valid(p) {
		return parsed{}, nil, reject(vendors.CodeInvalidJSON, "payload starts like JSON but is not valid JSON")
	}
	v := rawValue(p)
	var tx json.RawMessage
	if obj, ok := v.(map[string]any); ok {
		if t, ok := obj["transaction"]; ok {
			tx, _ = json.Marshal(t)
			delete(obj, "transaction")
		}
	}
	c, err := parseValue(d, key, v)
	return c, tx, err
}

// key roles: an entity itself, or the position/tilt of a cover, or the
// percentage/preset of a fan, when that key is not an entity of its own.
const (
	roleEntity = iota
	rolePosition
	roleTilt
	rolePercentage
	rolePreset
)

func lookupKey(d *vendors.Device, key string) (*vendors.Entity, int) {
	if e, ok := d.Entity(key); ok {
		return e, roleEntity
	}
	for i := range d.Entities {
		e := &d.Entities[i]
		switch {
		case e.Cover != nil && e.Cover.PositionKey == key:
			return e, rolePosition
		case e.Cover != nil && e.Cover.TiltKey == key:
			return e, roleTilt
		case e.Fan != nil && e.Fan.PercentageKey == key:
			return e, rolePercentage
		case e.Fan != nil && e.Fan.PresetKey == key:
			return e, rolePreset
		}
	}
	return nil, 0
}

// parseValue validates one value for one key and builds the command.
func parseValue(d *vendors.Device, key string, v any) (parsed, *cmdError) {
	e, role := lookupKey(d, key)
	if e == nil {
		return parsed{}, reject(vendors.CodeUnknownKey, "device has no key %q", key)
	}
	if !e.Writable {
		return parsed{}, reject(vendors.CodeReadOnly, "%s is read-only", key)
	}
	p := parsed{key: key, cmd: vendors.Command{DeviceID: d.ID, Key: e.Key}, stateKey: e.Key}
	var err *cmdError
	switch role {
	case rolePosition, roleTilt:
		var n int
		if n, err = intIn(key, v, 0, 100); err == nil {
			if role == rolePosition {
				p.cmd.Value = vendors.CoverCommand{Position: &n}
			} else {
				p.cmd.Value = vendors.CoverCommand{Tilt: &n}
			}
		}
		return p, err
	case rolePercentage:
		var n int
		if n, err = intIn(key, v, 0, 100); err == nil {
			p.cmd.Value = vendors.FanCommand{Percentage: &n}
		}
		return p, err
	case rolePreset:
		var s string
		if s, err = option(key, v, e.Fan.PresetModes, false); err == nil {
			p.cmd.Value = vendors.FanCommand{Preset: s}
		}
		return p, err
	}
	switch e.Platform {
	case vendors.Switch:
		on, toggle, ok := onOff(v)
		if !ok {
			return p, reject(vendors.CodeInvalidValue, "%s takes ON, OFF or TOGGLE", key)
		}
		p.cmd.Value, p.toggle = on, toggle
	case vendors.Fan:
		on, toggle, ok := onOff(v)
		if !ok {
			return p, reject(vendors.CodeInvalidValue, "%s takes ON, OFF or TOGGLE", key)
		}
		p.cmd.Value, p.toggle = vendors.FanCommand{On: &on}, toggle
	case vendors.Light:
		p.cmd.Value, p.toggle, err = parseLight(key, e.Light, v)
	case vendors.Cover:
		s, _ := v.(string)
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case vendors.CoverActionOpen:
			p.cmd.Value = vendors.CoverCommand{Action: vendors.CoverActionOpen}
		case vendors.CoverActionClose:
			p.cmd.Value = vendors.CoverCommand{Action: vendors.CoverActionClose}
		case vendors.CoverActionStop:
			if !e.Cover.CanStop {
				return p, reject(vendors.CodeNotSupported, "%s cannot stop", key)
			}
			p.cmd.Value = vendors.CoverCommand{Action: vendors.CoverActionStop}
		default:
			return p, reject(vendors.CodeInvalidValue, "%s takes OPEN, CLOSE or STOP", key)
		}
	case vendors.Number:
		p.cmd.Value, err = parseNumber(key, e, v)
	case vendors.Select:
		p.cmd.Value, err = option(key, v, e.Options, false)
	case vendors.AlarmControlPanel:
		p.cmd.Value, err = option(key, v, e.Options, true)
	case vendors.Button:
		p.cmd.Value = nil
	case vendors.Update:
		if s, _ := v.(string); !strings.EqualFold(strings.TrimSpace(s), "install") {
			return p, reject(vendors.CodeInvalidValue, "%s takes install", key)
		}
		p.cmd.Value = nil
	default:
		return p, reject(vendors.CodeReadOnly, "%s (%s) takes no commands", key, e.Platform)
	}
	return p, err
}

// onOff reads ON/OFF/TOGGLE (any case) or a JSON boolean.
func onOff(v any) (on, toggle, ok bool) {
	switch x := v.(type) {
	case bool:
		return x, false, true
	case string:
		switch strings.ToUpper(strings.TrimSpace(x)) {
		case "ON", "TRUE":
			return true, false, true
		case "OFF", "FALSE":
			return false, false, true
		case "TOGGLE":
			return false, true, true
		}
	}
	return false, false, false
}

// number reads a JSON number or a numeric string.
func number(v any) (float64, bool) { return vendors.FloatOrString(v) }

func intIn(key string, v any, lo, hi int) (int, *cmdError) {
	f, ok := number(v)
	if !ok {
		return 0, reject(vendors.CodeInvalidValue, "%s takes a number", key)
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, reject(vendors.CodeOutOfRange, "%s must be within %d..%d, not %s", key, lo, hi, fmtNum(f))
	}
	return int(math.Round(f)), nil
}

func parseNumber(key string, e *vendors.Entity, v any) (float64, *cmdError) {
	f, ok := number(v)
	if !ok {
		return 0, reject(vendors.CodeInvalidValue, "%s takes a number", key)
	}
	if e.HasRange && (f < e.Min || f > e.Max) {
		return 0, reject(vendors.CodeOutOfRange, "%s must be within %s..%s, not %s", key, fmtNum(e.Min), fmtNum(e.Max), fmtNum(f))
	}
	if e.Step > 0 {
		n := (f - e.Min) / e.Step
		if math.Abs(n-math.Round(n)) > 1e-6 {
			return 0, reject(vendors.CodeInvalidValue, "%s moves in steps of %s from %s", key, fmtNum(e.Step), fmtNum(e.Min))
		}
	}
	return f, nil
}

// option matches v against options, exactly or (fold) ignoring case.
func option(key string, v any, options []string, fold bool) (string, *cmdError) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = fmtNum(x)
	default:
		return "", reject(vendors.CodeInvalidValue, "%s takes one of %s", key, strings.Join(options, ", "))
	}
	for _, o := range options {
		if o == s || fold && strings.EqualFold(o, s) {
			return o, nil
		}
	}
	return "", reject(vendors.CodeInvalidValue, "%s takes one of %s, not %q", key, strings.Join(options, ", "), s)
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// parseLight reads a light command: ON/OFF/TOGGLE, or Home Assistant's
// JSON-schema command object. color_temp is kelvin; a value below 1000 is
// taken as mireds (what older clients send) and converted.
func parseLight(key string, spec *vendors.LightSpec, v any) (vendors.LightCommand, bool, *cmdError) {
	var c vendors.LightCommand
	if on, toggle, ok := onOff(v); ok {
		c.On = &on
		return c, toggle, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return c, false, reject(vendors.CodeInvalidValue, "%s takes ON, OFF, TOGGLE or a JSON light command", key)
	}
	if len(obj) == 0 {
		return c, false, reject(vendors.CodeInvalidValue, "%s: empty light command", key)
	}
	fields := make([]string, 0, len(obj))
	for k := range obj {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	toggle := false
	for _, f := range fields {
		val := obj[f]
		var err *cmdError
		switch f {
		case "state":
			on, tg, ok := onOff(val)
			if !ok {
				return c, false, reject(vendors.CodeInvalidValue, "%s.state takes ON, OFF or TOGGLE", key)
			}
			c.On, toggle = &on, tg
		case "brightness":
			if !dimmable(spec) {
				return c, false, reject(vendors.CodeNotSupported, "%s cannot dim", key)
			}
			var n int
			if n, err = intIn(key+".brightness", val, 0, 255); err == nil {
				c.Brightness = &n
			}
		case "color_temp":
			c.ColorTemp, err = parseKelvin(key, spec, val)
		case "color":
			c.Color, err = parseColor(key, spec, val)
		case "effect":
			s, _ := val.(string)
			if len(spec.Effects) == 0 {
				return c, false, reject(vendors.CodeNotSupported, "%s has no effects", key)
			}
			if s, err = option(key+".effect", s, spec.Effects, false); err == nil {
				c.Effect = s
			}
		case "transition":
			t, ok := number(val)
			switch {
			case !ok:
				err = reject(vendors.CodeInvalidValue, "%s.transition takes seconds", key)
			case t < 0 || t > 3600:
				err = reject(vendors.CodeOutOfRange, "%s.transition must be within 0..3600 s", key)
			default:
				c.Transition = &t
			}
		default:
			err = reject(vendors.CodeInvalidValue, "%s: unknown light field %q", key, f)
		}
		if err != nil {
			return c, false, err
		}
	}
	return c, toggle, nil
}

func dimmable(spec *vendors.LightSpec) bool {
	return !(len(spec.ColorModes) == 1 && spec.ColorModes[0] == "onoff")
}

func parseKelvin(key string, spec *vendors.LightSpec, v any) (*int, *cmdError) {
	if !spec.Supports("color_temp") {
		return nil, reject(vendors.CodeNotSupported, "%s has no color temperature", key)
	}
	f, ok := number(v)
	if !ok || f <= 0 {
		return nil, reject(vendors.CodeInvalidValue, "%s.color_temp takes kelvin", key)
	}
	lo, hi := float64(spec.MinKelvin), float64(spec.MaxKelvin)
	if f < 1000 {
		// mireds; conversions round, so allow 2% past the bounds and clamp
		f = 1e6 / f
		if f >= lo*0.98 && f <= hi*1.02 {
			f = math.Min(math.Max(f, lo), hi)
		}
	}
	if f < lo || f > hi {
		return nil, reject(vendors.CodeOutOfRange, "%s.color_temp must be within %d..%d K, not %s", key, spec.MinKelvin, spec.MaxKelvin, fmtNum(math.Round(f)))
	}
	k := int(math.Round(f))
	return &k, nil
}

func parseColor(key string, spec *vendors.LightSpec, v any) (*vendors.Color, *cmdError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, reject(vendors.CodeInvalidValue, "%s.color takes {r,g,b} or {h,s}", key)
	}
	for k := range obj {
		switch k {
		case "r", "g", "b", "w", "h", "s":
		default:
			return nil, reject(vendors.CodeNotSupported, "%s.color: %q is not supported (use r,g,b[,w] or h,s)", key, k)
		}
	}
	c := &vendors.Color{}
	if _, hasH := obj["h"]; hasH {
		if !spec.Supports("hs") {
			return nil, reject(vendors.CodeNotSupported, "%s takes no hue/saturation", key)
		}
		h, err := floatIn(key+".color.h", obj["h"], 0, 360)
		if err != nil {
			return nil, err
		}
		s, err := floatIn(key+".color.s", obj["s"], 0, 100)
		if err != nil {
			return nil, err
		}
		c.H, c.S = &h, &s
		return c, nil
	}
	if !spec.Supports("rgb") && !spec.Supports("rgbw") {
		return nil, reject(vendors.CodeNotSupported, "%s takes no RGB colour", key)
	}
	for _, ch := range []struct {
		name string
		dst  *int
	}{{"r", &c.R}, {"g", &c.G}, {"b", &c.B}} {
		n, err := intIn(key+".color."+ch.name, obj[ch.name], 0, 255)
		if err != nil {
			return nil, err
		}
		*ch.dst = n
	}
	if w, ok := obj["w"]; ok {
		if !spec.Supports("rgbw") {
			return nil, reject(vendors.CodeNotSupported, "%s has no white channel", key)
		}
		n, err := intIn(key+".color.w", w, 0, 255)
		if err != nil {
			return nil, err
		}
		c.W = &n
	}
	return c, nil
}

func floatIn(key string, v any, lo, hi float64) (float64, *cmdError) {
	f, ok := number(v)
	if !ok {
		return 0, reject(vendors.CodeInvalidValue, "%s takes a number", key)
	}
	if f < lo || f > hi {
		return 0, reject(vendors.CodeOutOfRange, "%s must be within %s..%s", key, fmtNum(lo), fmtNum(hi))
	}
	return f, nil
}

// currentOn reads whether an entity is on from its cached state.
func currentOn(v any) (on, known bool) {
	switch x := v.(type) {
	case string:
		switch strings.ToUpper(x) {
		case "ON":
			return true, true
		case "OFF":
			return false, true
		}
	case bool:
		return x, true
	case vendors.LightState:
		return currentOn(x.State)
	case map[string]any:
		return currentOn(x["state"])
	}
	return false, false
}
