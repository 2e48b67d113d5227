package bridge

import (
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func TestParseSetKey(t *testing.T) {
	d := kitchen("k1")
	cases := []struct {
		key, payload string
		code         string // "" = ok
		want         string // JSON of the command value when ok
		toggle       bool
	}{
		{"switch", "ON", "", `true`, false},
		{"switch", " off ", "", `false`, false},
		{"switch", `"ON"`, "", `true`, false},
		{"switch", "false", "", `false`, false},
		{"switch", "TOGGLE", "", `false`, true},
		{"switch", "1", vendors.CodeInvalidValue, "", false},
		{"light", "ON", "", `{"On":true,"Brightness":null,"ColorTemp":null,"Color":null,"Effect":"","Transition":null}`, false},
		{"light", `{"state":"OFF","transition":0.5}`, "", `{"On":false,"Brightness":null,"ColorTemp":null,"Color":null,"Effect":"","Transition":0.5}`, false},
		{"light", `{"color_temp":153}`, "", `{"On":null,"Brightness":null,"ColorTemp":6500,"Color":null,"Effect":"","Transition":null}`, false},
		{"light", `{"color_temp":500}`, vendors.CodeOutOfRange, "", false},
		{"light", `{"color_temp":0}`, vendors.CodeInvalidValue, "", false},
		{"light", `{"brightness":-1}`, vendors.CodeOutOfRange, "", false},
		{"light", `{"brightness":"high"}`, vendors.CodeInvalidValue, "", false},
		{"light", `{"color":{"h":10,"s":50}}`, vendors.CodeNotSupported, "", false},
		{"light", `{"color":{"x":0.1,"y":0.2}}`, vendors.CodeNotSupported, "", false},
		{"light", `{"color":{"r":1,"g":2}}`, vendors.CodeInvalidValue, "", false},
		{"light", `{"color":"red"}`, vendors.CodeInvalidValue, "", false},
		{"light", `{"flash":"short"}`, vendors.CodeInvalidValue, "", false},
		{"light", `{}`, vendors.CodeInvalidValue, "", false},
		{"light", `{"state":"TOGGLE","brightness":10}`, "", `{"On":false,"Brightness":10,"ColorTemp":null,"Color":null,"Effect":"","Transition":null}`, true},
		{"light", `{"transition":7200}`, vendors.CodeOutOfRange, "", false},
		{"light", `[1]`, vendors.CodeInvalidValue, "", false},
		{"dimmer", `{"brightness":3}`, "", `{"On":null,"Brightness":3,"ColorTemp":null,"Color":null,"Effect":"","Transition":null}`, false},
		{"dimmer", `{"effect":"rainbow"}`, vendors.CodeNotSupported, "", false},
		{"dimmer", `{"color_temp":3000}`, vendors.CodeNotSupported, "", false},
		{"blind", "OPEN", "", `{"Action":"OPEN","Position":null,"Tilt":null}`, false},
		{"blind", "open", "", `{"Action":"OPEN","Position":null,"Tilt":null}`, false},
		{"blind", "40", vendors.CodeInvalidValue, "", false},
		{"position", "40.4", "", `{"Action":"","Position":40,"Tilt":null}`, false},
		{"position", "-1", vendors.CodeOutOfRange, "", false},
		{"position", "OPEN", vendors.CodeInvalidValue, "", false},
		{"tilt", "100", "", `{"Action":"","Position":null,"Tilt":100}`, false},
		{"fan", "ON", "", `{"On":true,"Percentage":null,"Preset":""}`, false},
		{"fan_speed", "0", "", `{"On":null,"Percentage":0,"Preset":""}`, false},
		{"fan_speed", "101", vendors.CodeOutOfRange, "", false},
		{"fan_mode", "turbo", vendors.CodeInvalidValue, "", false},
		{"target", "5", "", `5`, false},
		{"target", `"29.5"`, "", `29.5`, false},
		{"target", "NaN", vendors.CodeInvalidValue, "", false},
		{"target", "1e400", vendors.CodeInvalidValue, "", false},
		{"target", "4.5", vendors.CodeOutOfRange, "", false},
		{"mode", "eco", "", `"eco"`, false},
		{"mode", "ECO", vendors.CodeInvalidValue, "", false},
		{"restart", "", "", `null`, false},
		{"restart", `{"any":"thing"}`, "", `null`, false},
		{"alarm", "disarm", "", `"DISARM"`, false},
		{"alarm", "ARM_HOME", vendors.CodeInvalidValue, "", false},
		{"firmware", "INSTALL", "", `null`, false},
		{"firmware", "skip", vendors.CodeInvalidValue, "", false},
		{"temperature", "20", vendors.CodeReadOnly, "", false},
		{"door", "ON", vendors.CodeReadOnly, "", false},
		{"ring", "press", vendors.CodeReadOnly, "", false},
		{"snapshot", "x", vendors.CodeReadOnly, "", false},
		{"nothing", "ON", vendors.CodeUnknownKey, "", false},
		{"switch", `{"state":`, vendors.CodeInvalidJSON, "", false},
	}
	d.Entities = append(d.Entities, vendors.Entity{Key: "bulb", Platform: vendors.Light, Name: "Bulb", Writable: true,
		Light: &vendors.LightSpec{ColorModes: []string{"hs", "rgbw"}}})
	cases = append(cases, []struct {
		key, payload string
		code         string
		want         string
		toggle       bool
	}{
		{"bulb", `{"color":{"h":120,"s":50.5}}`, "", `{"On":null,"Brightness":null,"ColorTemp":null,"Color":{"r":0,"g":0,"b":0,"h":120,"s":50.5},"Effect":"","Transition":null}`, false},
		{"bulb", `{"color":{"h":400,"s":5}}`, vendors.CodeOutOfRange, "", false},
		{"bulb", `{"color":{"h":4}}`, vendors.CodeInvalidValue, "", false},
		{"bulb", `{"color":{"r":1,"g":2,"b":3,"w":4}}`, "", `{"On":null,"Brightness":null,"ColorTemp":null,"Color":{"r":1,"g":2,"b":3,"w":4},"Effect":"","Transition":null}`, false},
		{"bulb", `{"color":{"r":1,"g":2,"b":300}}`, vendors.CodeOutOfRange, "", false},
		{"bulb", `{"color_temp":3000}`, vendors.CodeNotSupported, "", false},
	}...)
	for _, c := range cases {
		p, _, err := parseSetKey(&d, c.key, []byte(c.payload))
		switch {
		case c.code != "" && (err == nil || err.code != c.code):
			t.Errorf("%s %q: got %v, want %s", c.key, c.payload, err, c.code)
		case c.code == "" && err != nil:
			t.Errorf("%s %q: %v", c.key, c.payload, err)
		case c.code == "" && (jsonString(p.cmd.Value) != c.want || p.toggle != c.toggle):
			t.Errorf("%s %q: value %s toggle %v, want %s %v", c.key, c.payload, jsonString(p.cmd.Value), p.toggle, c.want, c.toggle)
		case c.code == "" && p.cmd.DeviceID != "k1":
			t.Errorf("%s: device id %q", c.key, p.cmd.DeviceID)
		}
	}
}

func TestDecodeSet(t *testing.T) {
	for _, c := range []struct {
		payload, code, echo, tx string
	}{
		{`{"switch":"ON","transaction":"x1"}`, "", `{"switch":"ON"}`, `"x1"`},
		{` {"b":1, "a":2} `, "", `{"b":1,"a":2}`, ``},
		{`{"transaction":5}`, "", `{}`, `5`},
		{`{"a":1}{"b":2}`, vendors.CodeInvalidJSON, "", ""},
		{`{"a":}`, vendors.CodeInvalidJSON, "", ""},
		{`"ON"`, vendors.CodeInvalidJSON, "", ""},
		{`null`, vendors.CodeInvalidJSON, "", ""},
		{``, vendors.CodeInvalidJSON, "", ""},
	} {
		o, err := decodeSet([]byte(c.payload))
		if c.code != "" {
			if err == nil || err.code != c.code {
				t.Errorf("%q: %v", c.payload, err)
			}
			continue
		}
		if err != nil || string(o.echo()) != c.echo || string(o.tx) != c.tx {
			t.Errorf("%q: echo %s tx %s err %v", c.payload, o.echo(), o.tx, err)
		}
	}
	d := plug("p")
	if _, err := parseFields(&d, nil); err == nil || err.code != vendors.CodeInvalidValue {
		t.Errorf("empty object: %v", err)
	}
}

func TestCurrentOn(t *testing.T) {
	for _, c := range []struct {
		v         any
		on, known bool
	}{
		{"ON", true, true}, {"off", false, true}, {true, true, true}, {"open", false, false}, {nil, false, false},
		{vendors.LightState{State: "ON"}, true, true}, {map[string]any{"state": "OFF"}, false, true},
	} {
		if on, known := currentOn(c.v); on != c.on || known != c.known {
			t.Errorf("%v: %v %v", c.v, on, known)
		}
	}
}

var resultCodes = map[string]bool{
	vendors.CodeInvalidJSON: true, vendors.CodeUnknownKey: true, vendors.CodeReadOnly: true,
	vendors.CodeInvalidValue: true, vendors.CodeOutOfRange: true, vendors.CodeNotSupported: true,
}

// FuzzParseCommand: no payload panics the parser, every rejection carries a
// known code, and every accepted command has the value type its platform takes.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []struct{ key, payload string }{
		{"", `{"switch":"ON","transaction":1}`},
		{"", `{"light":{"state":"ON","brightness":128,"color":{"r":1,"g":2,"b":3}}}`},
		{"", `{"position":40}`},
		{"switch", "TOGGLE"},
		{"light", `{"color_temp":250,"effect":"rainbow","transition":1}`},
		{"light", `{"color":{"h":360,"s":100}}`},
		{"blind", "STOP"},
		{"fan_speed", "33"},
		{"target", "21.5"},
		{"mode", `"comfort"`},
		{"alarm", "ARM_AWAY"},
		{"firmware", "install"},
		{"restart", "PRESS"},
		{"light", `{"state":`},
		{"", `{"a":1}{`},
	} {
		f.Add(s.key, []byte(s.payload))
	}
	d := kitchen("k1")
	f.Fuzz(func(t *testing.T, key string, payload []byte) {
		var cmds []parsed
		var err *cmdError
		if key == "" {
			o, e := decodeSet(payload)
			if e == nil {
				_ = o.echo()
				cmds, e = parseFields(&d, o.fields)
			}
			err = e
		} else {
			var p parsed
			p, _, err = parseSetKey(&d, key, payload)
			cmds = []parsed{p}
		}
		if err != nil {
			if !resultCodes[err.code] || err.msg == "" {
				t.Fatalf("bad rejection %q: %v", err.code, err)
			}
			return
		}
		for _, c := range cmds {
			e, ok := d.Entity(c.cmd.Key)
			if !ok || !e.Writable {
				t.Fatalf("accepted command for %q", c.cmd.Key)
			}
			checkType(t, e, c)
		}
	})
}

func checkType(t *testing.T, e *vendors.Entity, c parsed) {
	ok := false
	switch v := c.cmd.Value.(type) {
	case bool:
		ok = e.Platform == vendors.Switch
	case vendors.LightCommand:
		ok = e.Platform == vendors.Light
		if v.Brightness != nil && (*v.Brightness < 0 || *v.Brightness > 255) {
			t.Fatalf("brightness %d", *v.Brightness)
		}
		if v.ColorTemp != nil && (*v.ColorTemp < e.Light.MinKelvin || *v.ColorTemp > e.Light.MaxKelvin) {
			t.Fatalf("kelvin %d", *v.ColorTemp)
		}
	case vendors.CoverCommand:
		ok = e.Platform == vendors.Cover
		for _, p := range []*int{v.Position, v.Tilt} {
			if p != nil && (*p < 0 || *p > 100) {
				t.Fatalf("cover %d", *p)
			}
		}
	case vendors.FanCommand:
		ok = e.Platform == vendors.Fan
	case float64:
		ok = e.Platform == vendors.Number && v >= e.Min && v <= e.Max
	case string:
		ok = (e.Platform == vendors.Select || e.Platform == vendors.AlarmControlPanel) && strings.Contains(strings.Join(e.Options, "\x00")+"\x00", v+"\x00")
	case nil:
		ok = e.Platform == vendors.Button || e.Platform == vendors.Update
	}
	if !ok {
		t.Fatalf("%s (%s) got %T %v", e.Key, e.Platform, c.cmd.Value, c.cmd.Value)
	}
}

func BenchmarkParseCommand(b *testing.B) {
	d := kitchen("k1")
	b.Run("set-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := parseSetKey(&d, "switch", []byte("ON")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("set-object-light", func(b *testing.B) {
		p := []byte(`{"light":{"state":"ON","brightness":128,"color_temp":3000},"transaction":"x"}`)
		b.ReportAllocs()
		for b.Loop() {
			o, err := decodeSet(p)
			if err == nil {
				_, err = parseFields(&d, o.fields)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
