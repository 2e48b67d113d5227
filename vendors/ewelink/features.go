package ewelink

import (
	"fmt"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// feature maps some of a device's params to entities and back. A device's
// spec is a list of features; each creates entities only for params the
// device actually reported.
type feature interface {
	entities(t *thing) []vendors.Entity
	values(t *thing, out map[string]any)
}

// paramReader is a feature whose values depend on the params it names and
// on nothing else (not on availability, events or energy books).
type paramReader interface {
	readsParam(name string) bool
}

// valueShaped is a feature whose entities depend on the value of a param,
// not only on its presence and kind.
type valueShaped interface {
	// reshapes reports whether param name changing from old to v could
	// add or remove one of the feature's entities.
	reshapes(name string, old, v any) bool
}

func readsAny(r paramReader, names []string) bool {
	for _, k := range names {
		if r.readsParam(k) {
			return true
		}
	}
	return false
}

func (f sensor) readsParam(name string) bool { return name == f.param }

func (f binary) readsParam(name string) bool { return !f.offWhenOffline && name == f.param }

func (onOffSwitch) readsParam(name string) bool { return name == "switch" }

func (channels) readsParam(name string) bool { return name == "switches" }

func (f startup) readsParam(name string) bool {
	return name == "startup" && f.channels == 0 || name == "configure" && f.channels > 0
}

func (led) readsParam(name string) bool { return name == "sledOnline" }

func (inching) readsParam(name string) bool { return name == "pulse" || name == "pulseWidth" }

// commander turns a command for one of the feature's entities into params.
type commander interface {
	command(t *thing, key string, v any) (plan, error)
}

// observer sees every report before it is merged. live is true for reports
// the device pushed just now (not list/query snapshots, which may replay).
type observer interface {
	observe(t *thing, update params, live bool) []firedEvent
}

// plan is how a command reaches the device: messages sent in order, each
// acknowledged before the next.
type plan struct {
	msgs []params
	// keep says the sent params are not state (a target position, an RF
	// transmit), so they are not merged optimistically.
	keep bool
	// after adjusts transient state once the cloud acknowledged.
	after func(t *thing)
}

type firedEvent struct {
	key, typ string
	attrs    map[string]any
}

func badValue(key string, v any) error {
	return vendors.Errorf(vendors.CodeInvalidValue, "%s: unexpected value %T", key, v)
}

// --- single switch -------------------------------------------------------

// onOffSwitch is the "switch" param as the device's main switch.
type onOffSwitch struct {
	class string
	// th sends the TH16's manual-mode fields along (reference §10.6).
	th bool
}

func (f onOffSwitch) entities(t *thing) []vendors.Entity {
	if _, ok := t.params()["switch"]; !ok {
		return nil
	}
	return []vendors.Entity{{Key: "switch", Platform: vendors.Switch, DeviceClass: f.class, Writable: true}}
}

func (f onOffSwitch) values(t *thing, out map[string]any) {
	if on, ok := onOff(t.params()["switch"]); ok {
		out["switch"] = onOffState(on)
	}
}

func (f onOffSwitch) command(t *thing, key string, v any) (plan, error) {
	on, ok := v.(bool)
	if !ok {
		return plan{}, badValue(key, v)
	}
	p := params{"switch": cloudOnOff(on)}
	if f.th {
		p["mainSwitch"] = cloudOnOff(on)
		p["deviceType"] = "normal"
	}
	return plan{msgs: []params{p}}, nil
}

// --- multi-channel switches ----------------------------------------------

// channels are outlets of the "switches" array as switch_1…switch_n.
type channels struct {
	n     int
	class string
	// full sends every outlet with its current value (Zigbee multi-gang,
	// reference §10.2 / SL#714).
	full bool
	// operSide is added to commands (uiid 190).
	operSide bool
	// fallback counts the outlets from the report (unknown uiids).
	fallback bool
}

func (f channels) count(t *thing) int {
	if !f.fallback {
		return f.n
	}
	n := 0
	for o := range outlets(t.params()["switches"]) {
		if o+1 > n {
			n = o + 1
		}
	}
	return min(max(n, 1), 4)
}

func (f channels) entities(t *thing) []vendors.Entity {
	if _, ok := t.params()["switches"]; !ok {
		return nil
	}
	var out []vendors.Entity
	for i := 0; i < f.count(t); i++ {
		name := t.channelName(i)
		if name == "" {
			name = fmt.Sprintf("Channel %d", i+1)
		}
		out = append(out, vendors.Entity{Key: fmt.Sprintf("switch_%d", i+1), Name: name, Platform: vendors.Switch, DeviceClass: f.class, Writable: true})
	}
	return out
}

func (f channels) values(t *thing, out map[string]any) {
	sw := outlets(t.params()["switches"])
	for i := 0; i < f.count(t); i++ {
		if on, ok := onOff(sw[i]["switch"]); ok {
			out[fmt.Sprintf("switch_%d", i+1)] = onOffState(on)
		}
	}
}

func (f channels) command(t *thing, key string, v any) (plan, error) {
	on, ok := v.(bool)
	if !ok {
		return plan{}, badValue(key, v)
	}
	var n int
	if _, err := fmt.Sscanf(key, "switch_%d", &n); err != nil || n < 1 || n > f.count(t) {
		return plan{}, vendors.ErrUnknownKey
	}
	outlet := n - 1
	var list []any
	if f.full {
		cur := outlets(t.params()["switches"])
		for i := 0; i < f.count(t); i++ {
			state := "off"
			if s, ok := onOff(cur[i]["switch"]); ok && s {
				state = "on"
			}
			if i == outlet {
				state = cloudOnOff(on)
			}
			list = append(list, map[string]any{"switch": state, "outlet": i})
		}
	} else {
		list = []any{map[string]any{"switch": cloudOnOff(on), "outlet": outlet}}
	}
	p := params{"switches": list}
	if f.operSide {
		p["operSide"] = 1
	}
	return plan{msgs: []params{p}}, nil
}

// --- config entities -------------------------------------------------------

var startupOptions = []string{"off", "on", "stay"}

// startup is the power-on state: "startup" (single channel) or configure[]
// (per channel, sent as the full list).
type startup struct{ channels int }

func (f startup) entities(t *thing) []vendors.Entity {
	if f.channels == 0 {
		if _, ok := t.params()["startup"]; !ok {
			return nil
		}
		return []vendors.Entity{{Key: "startup", Name: "Power-on state", Platform: vendors.Select, Options: startupOptions, Writable: true, Category: vendors.CategoryConfig}}
	}
	cfg := outlets(t.params()["configure"])
	var out []vendors.Entity
	for i := 0; i < f.channels; i++ {
		if _, ok := cfg[i]; ok {
			out = append(out, vendors.Entity{Key: fmt.Sprintf("startup_%d", i+1), Name: fmt.Sprintf("Power-on state %d", i+1), Platform: vendors.Select, Options: startupOptions, Writable: true, Category: vendors.CategoryConfig})
		}
	}
	return out
}

func (f startup) values(t *thing, out map[string]any) {
	if f.channels == 0 {
		if s, ok := text(t.params()["startup"]); ok && contains(startupOptions, s) {
			out["startup"] = s
		}
		return
	}
	cfg := outlets(t.params()["configure"])
	for i := 0; i < f.channels; i++ {
		if s, ok := text(cfg[i]["startup"]); ok && contains(startupOptions, s) {
			out[fmt.Sprintf("startup_%d", i+1)] = s
		}
	}
}

func (f startup) command(t *thing, key string, v any) (plan, error) {
	s, ok := v.(string)
	if !ok || !contains(startupOptions, s) {
		return plan{}, vendors.Errorf(vendors.CodeInvalidValue, "%s takes one of %v", key, startupOptions)
	}
	if f.channels == 0 {
		return plan{msgs: []params{{"startup": s}}}, nil
	}
	var n int
	if _, err := fmt.Sscanf(key, "startup_%d", &n); err != nil || n < 1 || n > f.channels {
		return plan{}, vendors.ErrUnknownKey
	}
	cfg := outlets(t.params()["configure"])
	list := make([]any, 0, f.channels)
	for i := 0; i < f.channels; i++ {
		cur, _ := text(cfg[i]["startup"])
		if !contains(startupOptions, cur) {
			cur = "off"
		}
		if i == n-1 {
			cur = s
		}
		list = append(list, map[string]any{"startup": cur, "outlet": i})
	}
	return plan{msgs: []params{{"configure": list}}}, nil
}

// led is the network indicator (sledOnline).
type led struct{}

func (led) entities(t *thing) []vendors.Entity {
	if _, ok := t.params()["sledOnline"]; !ok {
		return nil
	}
	return []vendors.Entity{{Key: "led", Name: "LED", Platform: vendors.Switch, Writable: true, Category: vendors.CategoryConfig, DisabledByDefault: true}}
}

func (led) values(t *thing, out map[string]any) {
	if on, ok := onOff(t.params()["sledOnline"]); ok {
		out["led"] = onOffState(on)
	}
}

func (led) command(t *thing, key string, v any) (plan, error) {
	on, ok := v.(bool)
	if !ok {
		return plan{}, badValue(key, v)
	}
	return plan{msgs: []params{{"sledOnline": cloudOnOff(on)}}}, nil
}

// inching is the single-channel pulse mode and its width in ms.
type inching struct{}

const (
	pulseMin  = 500
	pulseMax  = 3600000
	pulseStep = 500
)

func (inching) entities(t *thing) []vendors.Entity {
	var out []vendors.Entity
	if _, ok := t.params()["pulse"]; ok {
		out = append(out, vendors.Entity{Key: "inching", Name: "Inching", Platform: vendors.Switch, Writable: true, Category: vendors.CategoryConfig, DisabledByDefault: true})
	}
	if _, ok := t.params()["pulseWidth"]; ok {
		out = append(out, vendors.Entity{Key: "inching_width", Name: "Inching width", Platform: vendors.Number, Unit: "ms", Writable: true, Category: vendors.CategoryConfig, DisabledByDefault: true, Min: pulseMin, Max: pulseMax, Step: pulseStep, HasRange: true})
	}
	return out
}

func (inching) values(t *thing, out map[string]any) {
	if on, ok := onOff(t.params()["pulse"]); ok {
		out["inching"] = onOffState(on)
	}
	if w, ok := num(t.params()["pulseWidth"]); ok {
		out["inching_width"] = w
	}
}

func (inching) command(t *thing, key string, v any) (plan, error) {
	switch key {
	case "inching":
		on, ok := v.(bool)
		if !ok {
			return plan{}, badValue(key, v)
		}
		return plan{msgs: []params{{"pulse": cloudOnOff(on)}}}, nil
	default:
		f, ok := v.(float64)
		if !ok {
			return plan{}, badValue(key, v)
		}
		if f < pulseMin || f > pulseMax {
			return plan{}, vendors.Errorf(vendors.CodeOutOfRange, "inching width %v ms is outside %d–%d", f, pulseMin, pulseMax)
		}
		w := int(f/pulseStep+0.5) * pulseStep
		return plan{msgs: []params{{"pulseWidth": w}}}, nil
	}
}

// --- sensors ---------------------------------------------------------------

// sensor is one numeric param as a sensor.
type sensor struct {
	param, key, name string
	class, unit      string
	state            string // state class; default measurement
	scale            float64
	decimals         int
	category         string
	disabled         bool
	// valid drops readings the device sends as "no value" (e.g. exact 0 on a TH16).
	valid func(float64) bool
}

func (f sensor) read(t *thing) (float64, bool) { return f.readValue(t.params()[f.param]) }

// reshapes: a sensor shows readable readings only.
func (f sensor) reshapes(name string, old, v any) bool {
	if name != f.param {
		return false
	}
	_, was := f.readValue(old)
	_, is := f.readValue(v)
	return was != is
}

// readValue reads a value of the sensor's param.
func (f sensor) readValue(raw any) (float64, bool) {
	v, ok := num(raw)
	if !ok {
		return 0, false
	}
	if f.scale != 0 {
		v *= f.scale
	}
	if f.valid != nil && !f.valid(v) {
		return 0, false
	}
	return round(v, f.decimals), true
}

func (f sensor) entities(t *thing) []vendors.Entity {
	if _, ok := f.read(t); !ok {
		return nil
	}
	sc := f.state
	if sc == "" {
		sc = "measurement"
	}
	p := displayPrecision(f.class)
	return []vendors.Entity{{Key: f.key, Name: f.name, Platform: vendors.Sensor, DeviceClass: f.class, Unit: f.unit, StateClass: sc, Category: f.category, DisabledByDefault: f.disabled, Precision: p}}
}

func (f sensor) values(t *thing, out map[string]any) {
	if v, ok := f.read(t); ok {
		out[f.key] = v
	}
}

func displayPrecision(class string) *int {
	switch class {
	case "temperature", "humidity", "power", "voltage":
		return vendors.IntPtr(1)
	case "current", "energy":
		return vendors.IntPtr(2)
	case "signal_strength", "battery":
		return vendors.IntPtr(0)
	}
	return nil
}

func rssiSensor(param string) sensor {
	return sensor{param: param, key: "rssi", name: "Signal strength", class: "signal_strength", unit: "dBm", category: vendors.CategoryDiagnostic, disabled: true,
		// Zigbee sub-devices report 127 when they are not reachable.
		valid: func(v float64) bool { return v < 0 && v > -150 }}
}

func batteryPercent() sensor {
	return sensor{param: "battery", key: "battery", name: "Battery", class: "battery", unit: "%", category: vendors.CategoryDiagnostic,
		valid: func(v float64) bool { return v >= 0 && v <= 100 }}
}

func plausibleTemp(v float64) bool { return v > -270 && v < 270 }

// th16Temp drops the exact 0 a TH16 sends without a probe (reference §9.4).
func th16Temp(v float64) bool { return v != 0 && plausibleTemp(v) }

func plausibleHumidity(v float64) bool { return v >= 0 && v <= 100 }

// --- binary sensors --------------------------------------------------------

type binary struct {
	param, key, name, class string
	// onValue is the cloud value that means ON; empty: on/true/1.
	onValue string
	// offWhenOffline forces OFF while the device is offline (motion).
	offWhenOffline bool
}

func (f binary) read(t *thing) (bool, bool) {
	v, ok := t.params()[f.param]
	if !ok {
		return false, false
	}
	if f.onValue != "" {
		s, ok := text(v)
		return s == f.onValue, ok
	}
	return onOff(v)
}

func (f binary) entities(t *thing) []vendors.Entity {
	if _, ok := t.params()[f.param]; !ok {
		return nil
	}
	return []vendors.Entity{{Key: f.key, Name: f.name, Platform: vendors.BinarySensor, DeviceClass: f.class}}
}

func (f binary) values(t *thing, out map[string]any) {
	if f.offWhenOffline && !t.online {
		out[f.key] = vendors.Off
		return
	}
	if on, ok := f.read(t); ok {
		out[f.key] = onOffState(on)
	}
}

// --- button events -----------------------------------------------------------

var pressNames = map[int]string{0: "single", 1: "double", 2: "long"}

// buttonEvents reports the "key" param (+ "outlet") as an event entity,
// de-duplicated by trigTime because the cloud replays old reports when a
// device reconnects (reference §6.4).
type buttonEvents struct{ outlets int }

func (f buttonEvents) types() []string {
	if f.outlets == 0 {
		return []string{"single", "double", "long"}
	}
	var out []string
	for i := 1; i <= f.outlets; i++ {
		for _, n := range []string{"single", "double", "long"} {
			out = append(out, fmt.Sprintf("button_%d_%s", i, n))
		}
	}
	return out
}

func (f buttonEvents) entities(t *thing) []vendors.Entity {
	name := ""
	if f.outlets > 0 {
		name = "Button"
	}
	return []vendors.Entity{{Key: "action", Name: name, Platform: vendors.Event, DeviceClass: "button", Options: f.types()}}
}

func (buttonEvents) values(*thing, map[string]any) {}

func (f buttonEvents) observe(t *thing, upd params, live bool) []firedEvent {
	k, ok := integer(upd["key"])
	if !ok {
		return nil
	}
	trig, _ := text(upd["trigTime"])
	if trig != "" {
		if last, seen := t.seen["trigTime"]; seen && !newer(trig, last) {
			return nil
		}
		t.remember("trigTime", trig)
	}
	if !live {
		return nil
	}
	name, ok := pressNames[k]
	if !ok {
		return nil
	}
	attrs := map[string]any{}
	if trig != "" {
		attrs["trig_time"] = trig
	}
	if f.outlets > 0 {
		o, _ := integer(upd["outlet"])
		if o < 0 || o >= f.outlets {
			return nil
		}
		name = fmt.Sprintf("button_%d_%s", o+1, name)
		attrs["outlet"] = o
	}
	return []firedEvent{{key: "action", typ: name, attrs: attrs}}
}

// newer compares two trigTime values (13-digit ms, as string or number).
func newer(a, b string) bool {
	fa, ok1 := num(a)
	fb, ok2 := num(b)
	if ok1 && ok2 {
		return fa > fb
	}
	return a != b
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
