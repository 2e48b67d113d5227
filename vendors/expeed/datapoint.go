package expeed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// dpSpec maps one datapoint to one entity: how raw values read and write.
type dpSpec struct {
	Name   string // datapoint name at the cloud
	Entity vendors.Entity
	Scale  float64
	on     string // canonical raw forms of a switch's states
	off    string
	onRaw  json.RawMessage
	offRaw json.RawMessage
	opts   []option
}

type option struct {
	canon string
	raw   json.RawMessage
	label string
}

var writablePlatforms = map[vendors.Platform]bool{vendors.Switch: true, vendors.Number: true, vendors.Select: true}

// newSpec builds a spec from the config; a datapoint without a platform
// takes the guess for its name.
func newSpec(name string, c datapointConfig) (*dpSpec, error) {
	sp := &dpSpec{Name: name, Scale: c.Scale}
	if sp.Scale == 0 {
		sp.Scale = 1
	}
	if sp.Scale < 0 || math.IsInf(sp.Scale, 0) || math.IsNaN(sp.Scale) {
		return nil, fmt.Errorf("scale must be positive")
	}
	e := vendors.Entity{Key: c.Key, Platform: vendors.Platform(c.Platform), DeviceClass: c.DeviceClass,
		Unit: c.Unit, StateClass: c.StateClass, Category: c.Category, Icon: c.Icon, Name: c.Name}
	if e.Key == "" {
		e.Key = keyFromName(name)
	}
	if e.Platform == "" {
		g := guess(name, nil)
		e.Platform = g.Platform
		if c.Writable && g.Platform == vendors.BinarySensor {
			e.Platform = vendors.Switch
		}
		if c.Writable && g.Platform == vendors.Sensor && c.Min != nil && c.Max != nil {
			e.Platform = vendors.Number
		}
		if e.Platform != vendors.Switch {
			e.DeviceClass = or(e.DeviceClass, g.DeviceClass)
			e.Unit = or(e.Unit, g.Unit)
			e.StateClass = or(e.StateClass, g.StateClass)
		}
	}
	switch e.Platform {
	case vendors.Sensor, vendors.BinarySensor:
		if c.Writable {
			return nil, fmt.Errorf("a %s cannot be writable; use platform switch, number or select", e.Platform)
		}
	case vendors.Switch, vendors.Number, vendors.Select:
		e.Writable = true
	default:
		return nil, fmt.Errorf("platform %q is not supported for datapoints (sensor, binary_sensor, switch, number, select)", e.Platform)
	}
	if e.Name == "" && !c.Main {
		e.Name = titleKey(e.Key)
	}
	if e.Platform == vendors.Sensor && sp.Scale < 1 {
		e.Precision = vendors.IntPtr(decimalsOf(sp.Scale))
	}
	if e.Platform == vendors.Switch || e.Platform == vendors.BinarySensor {
		var err error
		if sp.onRaw, sp.on, err = rawOf(c.On, 1); err != nil {
			return nil, fmt.Errorf("on: %v", err)
		}
		if sp.offRaw, sp.off, err = rawOf(c.Off, 0); err != nil {
			return nil, fmt.Errorf("off: %v", err)
		}
		if sp.on == sp.off {
			return nil, fmt.Errorf("on and off must differ")
		}
	}
	if e.Platform == vendors.Number {
		if c.Min == nil || c.Max == nil {
			return nil, fmt.Errorf("a number needs min and max")
		}
		e.Min, e.Max, e.HasRange = *c.Min, *c.Max, true
		e.Step = sp.Scale
		if e.Step > 1 {
			e.Step = 1
		}
		if c.Step != nil {
			e.Step = *c.Step
		}
	}
	if len(c.Options) > 0 {
		for raw, label := range c.Options {
			r, canon, err := rawOf(raw, nil)
			if err != nil {
				return nil, fmt.Errorf("options: %v", err)
			}
			if label == "" {
				return nil, fmt.Errorf("options: empty option for %s", raw)
			}
			sp.opts = append(sp.opts, option{canon: canon, raw: r, label: label})
		}
		sort.Slice(sp.opts, func(i, j int) bool { return lessRaw(sp.opts[i].raw, sp.opts[j].raw) })
		for _, o := range sp.opts {
			e.Options = append(e.Options, o.label)
		}
		if e.Platform == vendors.Sensor && e.DeviceClass == "" {
			e.DeviceClass = "enum"
		}
	} else if e.Platform == vendors.Select {
		return nil, fmt.Errorf("a select needs options (raw value: option)")
	}
	sp.Entity = e
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return sp, nil
}

// guess picks an entity for a datapoint by its name (and a sample value when
// one is known), per the protocol notes' table. Guesses are read-only.
func guess(name string, sample json.RawMessage) vendors.Entity {
	n := strings.ToLower(name)
	_, numeric := number(sample)
	if sample == nil {
		numeric = true
	}
	e := vendors.Entity{Platform: vendors.Sensor}
	measure := func(class, unit string) vendors.Entity {
		return vendors.Entity{Platform: vendors.Sensor, DeviceClass: class, Unit: unit, StateClass: "measurement"}
	}
	switch {
	case n == "switch" || n == "onoff" || n == "on_off" || n == "power_switch" || n == "relay":
		if c := canonical(sample); sample == nil || c == "n:0" || c == "n:1" {
			return vendors.Entity{Platform: vendors.BinarySensor, DeviceClass: "power"}
		}
	case !numeric:
		return e
	case n == "temp" || n == "temperature":
		return measure("temperature", "°C")
	case n == "hum" || n == "humidity":
		return measure("humidity", "%")
	case n == "battery" || n == "bat":
		return measure("battery", "%")
	case n == "power":
		return measure("power", "W")
	case n == "energy" || n == "kwh":
		return vendors.Entity{Platform: vendors.Sensor, DeviceClass: "energy", Unit: "kWh", StateClass: "total_increasing"}
	case n == "voltage":
		return measure("voltage", "V")
	case n == "current":
		return measure("current", "A")
	case n == "pm25" || n == "pm2_5" || n == "pm2.5":
		return measure("pm25", "µg/m³")
	case n == "co2":
		return measure("carbon_dioxide", "ppm")
	}
	if numeric {
		e.StateClass = "measurement"
	}
	return e
}

// learnedSpec is the read-only entity of a datapoint first seen in a push.
func learnedSpec(name, key string, sample json.RawMessage) *dpSpec {
	e := guess(name, sample)
	e.Key = key
	e.Name = titleKey(key)
	sp := &dpSpec{Name: name, Entity: e, Scale: 1}
	if e.Platform == vendors.BinarySensor {
		sp.onRaw, sp.on, _ = rawOf(1, nil)
		sp.offRaw, sp.off, _ = rawOf(0, nil)
	}
	return sp
}

// decode turns a raw value into the entity's state value.
func (sp *dpSpec) decode(raw json.RawMessage) (any, error) {
	e := &sp.Entity
	if len(sp.opts) > 0 {
		c := canonical(raw)
		for _, o := range sp.opts {
			if o.canon == c {
				return o.label, nil
			}
		}
		return nil, fmt.Errorf("value %s is not among the options", clip(string(raw), 24))
	}
	switch e.Platform {
	case vendors.Switch, vendors.BinarySensor:
		switch canonical(raw) {
		case sp.on:
			return vendors.On, nil
		case sp.off:
			return vendors.Off, nil
		}
		return nil, fmt.Errorf("value %s is neither on nor off", clip(string(raw), 24))
	case vendors.Number:
		f, ok := number(raw)
		if !ok {
			return nil, fmt.Errorf("value %s is not a number", clip(string(raw), 24))
		}
		return scaled(f, sp.Scale), nil
	}
	if f, ok := number(raw); ok {
		return scaled(f, sp.Scale), nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	if e.StateClass != "" || e.DeviceClass != "" {
		return nil, fmt.Errorf("value %s is not a number", clip(string(raw), 24))
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return nil, fmt.Errorf("value is not JSON")
	}
	return clip(buf.String(), 255), nil
}

// encode turns a command value into the raw value to send, refusing what
// the entity cannot take.
func (sp *dpSpec) encode(v any) (json.RawMessage, error) {
	e := &sp.Entity
	switch e.Platform {
	case vendors.Switch:
		on, ok := v.(bool)
		if !ok {
			return nil, vendors.Errorf(vendors.CodeInvalidValue, "%s takes on or off", e.Key)
		}
		if on {
			return sp.onRaw, nil
		}
		return sp.offRaw, nil
	case vendors.Number:
		f, ok := toFloat(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, vendors.Errorf(vendors.CodeInvalidValue, "%s takes a number", e.Key)
		}
		const eps = 1e-9
		if f < e.Min-eps || f > e.Max+eps {
			return nil, vendors.Errorf(vendors.CodeOutOfRange, "%s must be within %g–%g, not %g", e.Key, e.Min, e.Max, f)
		}
		if e.Step > 0 {
			f = e.Min + math.Round((f-e.Min)/e.Step)*e.Step
			f = math.Min(e.Max, f)
		}
		return rawNumber(f / sp.Scale), nil
	case vendors.Select:
		s, ok := v.(string)
		if !ok {
			return nil, vendors.Errorf(vendors.CodeInvalidValue, "%s takes one of %v", e.Key, e.Options)
		}
		for _, o := range sp.opts {
			if o.label == s {
				return o.raw, nil
			}
		}
		return nil, vendors.Errorf(vendors.CodeInvalidValue, "%s takes one of %v, not %q", e.Key, e.Options, clip(s, 40))
	}
	return nil, vendors.Errorf(vendors.CodeReadOnly, "%s is read-only", e.Key)
}

// canonical makes raw values comparable: 1, 1.0 and "1" are the same.
func canonical(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if f, ok := number(raw); ok {
		return "n:" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "s:" + s
	}
	return "j:" + string(raw)
}

// number reads a JSON number or numeric string.
func number(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		s = strings.TrimSpace(s)
	} else if raw[0] == 't' || raw[0] == 'f' {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return 0, false
		}
		if b {
			return 1, true
		}
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// rawOf turns a config value (YAML scalar) into a raw JSON value; def when nil.
func rawOf(v any, def any) (json.RawMessage, string, error) {
	if v == nil {
		v = def
	}
	var raw json.RawMessage
	switch x := v.(type) {
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			raw = rawNumber(f)
		} else {
			raw, _ = json.Marshal(x)
		}
	case int, int64, uint64, float64, bool:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, "", err
		}
		raw = b
	default:
		return nil, "", fmt.Errorf("%v is not a number, string or boolean", v)
	}
	return raw, canonical(raw), nil
}

// rawNumber writes integers without a fraction and trims float noise.
func rawNumber(f float64) json.RawMessage {
	if r := math.Round(f); math.Abs(f-r) < 1e-9 && math.Abs(r) < 1<<53 {
		return json.RawMessage(strconv.FormatInt(int64(r), 10))
	}
	return json.RawMessage(strconv.FormatFloat(roundTo(f, 9), 'f', -1, 64))
}

// scaled multiplies and rounds away float noise (215 × 0.1 = 21.5, not 21.500000000000004).
func scaled(raw, scale float64) float64 {
	return roundTo(raw*scale, decimalsOf(scale)+decimalsOf(raw))
}

func roundTo(f float64, d int) float64 {
	if d > 12 {
		d = 12
	}
	p := math.Pow(10, float64(d))
	r := math.Round(f*p) / p
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return f
	}
	return r
}

func decimalsOf(f float64) int {
	s := strconv.FormatFloat(math.Abs(f), 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

func toFloat(v any) (float64, bool) { return vendors.Float(v) }

func lessRaw(a, b json.RawMessage) bool {
	fa, oka := number(a)
	fb, okb := number(b)
	if oka && okb {
		return fa < fb
	}
	return string(a) < string(b)
}

// keyFromName makes an entity key of a datapoint name.
func keyFromName(name string) string {
	b := []byte(strings.ToLower(strings.TrimSpace(name)))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	k := strings.Trim(string(b), "_")
	if k == "" {
		k = "dp"
	}
	if !vendors.ValidKey(k) {
		k += "_dp"
	}
	return k
}

func titleKey(k string) string {
	s := strings.ReplaceAll(k, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
