package ewelink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// params is a device's state as the cloud sends it: values are JSON strings,
// json.Number, bools, []any and map[string]any (decoded with UseNumber).
type params map[string]any

// decodeParams decodes a JSON object of device params.
func decodeParams(raw []byte) (params, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return params{}, nil
	}
	v, err := vendorkit.DecodeJSON(raw, true)
	if err != nil {
		return nil, fmt.Errorf("device params: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("device params: not an object: %.20s", raw)
	}
	return m, nil
}

// num reads a number sent as a JSON number or a numeric string; "unavailable",
// empty strings and anything else non-numeric give ok=false.
func num(v any) (float64, bool) { return vendors.FloatOrString(v) }

// integer reads a whole number (string or number).
func integer(v any) (int, bool) {
	f, ok := num(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// text reads a string value; numbers become their decimal text.
func text(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case json.Number:
		return s.String(), true
	case bool:
		return strconv.FormatBool(s), true
	}
	if f, ok := num(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// onOff reads an on/off value: "on"/"off", true/false, 1/0.
func onOff(v any) (on, ok bool) {
	switch s := v.(type) {
	case string:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "on", "true", "1":
			return true, true
		case "off", "false", "0":
			return false, true
		}
		return false, false
	case bool:
		return s, true
	}
	if f, ok := num(v); ok {
		return f != 0, true
	}
	return false, false
}

func onOffState(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

func cloudOnOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// round rounds to n decimals.
func round(f float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(f*p) / p
}

// outlets reads an array of per-outlet objects ({"outlet":n,...}), as in
// switches, configure and pulses, keyed by outlet.
func outlets(v any) map[int]map[string]any {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := map[int]map[string]any{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		n, ok := integer(m["outlet"])
		if !ok || n < 0 || n > 63 {
			continue
		}
		out[n] = m
	}
	return out
}

// outletList turns per-outlet objects back into an array sorted by outlet.
func outletList(m map[int]map[string]any) []any {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	list := make([]any, 0, len(keys))
	for _, k := range keys {
		list = append(list, m[k])
	}
	return list
}

// outletArrays are params whose reports may carry only the changed outlets.
var outletArrays = map[string]bool{"switches": true, "configure": true, "pulses": true}

// nestedObjects are params whose reports may carry only changed fields.
var nestedObjects = map[string]bool{"white": true, "color": true}

// merge applies a partial report to p: outlet arrays merge by outlet, light
// objects by field, everything else is replaced. Nothing absent is reset.
func (p params) merge(update params) {
	for k, v := range update {
		switch {
		case outletArrays[k]:
			cur := outlets(p[k])
			upd := outlets(v)
			if cur == nil || upd == nil {
				p[k] = v
				continue
			}
			for n, m := range upd {
				merged := map[string]any{}
				for kk, vv := range cur[n] {
					merged[kk] = vv
				}
				for kk, vv := range m {
					merged[kk] = vv
				}
				cur[n] = merged
			}
			p[k] = outletList(cur)
		case nestedObjects[k]:
			cur, ok1 := p[k].(map[string]any)
			upd, ok2 := v.(map[string]any)
			if !ok1 || !ok2 {
				p[k] = v
				continue
			}
			merged := map[string]any{}
			for kk, vv := range cur {
				merged[kk] = vv
			}
			for kk, vv := range upd {
				merged[kk] = vv
			}
			p[k] = merged
		default:
			p[k] = v
		}
	}
}

// clone copies p deeply enough that merges into the copy leave p alone.
func (p params) clone() params {
	out := make(params, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// flexInt decodes an int sent as a number or a numeric string.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	v, err := vendorkit.DecodeJSON(b, true)
	if err != nil {
		return err
	}
	if v == nil {
		*f = 0
		return nil
	}
	n, ok := integer(v)
	if !ok {
		return fmt.Errorf("not an integer: %.40s", b)
	}
	*f = flexInt(n)
	return nil
}

// flexString decodes a string sent as a string or a number (sequence ids).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	v, err := vendorkit.DecodeJSON(b, true)
	if err != nil {
		return err
	}
	if v == nil {
		*f = ""
		return nil
	}
	s, ok := text(v)
	if !ok {
		return fmt.Errorf("not a string: %.40s", b)
	}
	*f = flexString(s)
	return nil
}

// flexBool decodes true/false, "true"/"false", 1/0.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	v, err := vendorkit.DecodeJSON(b, true)
	if err != nil {
		return err
	}
	if v == nil {
		*f = false
		return nil
	}
	on, ok := onOff(v)
	if !ok {
		return fmt.Errorf("not a boolean: %.40s", b)
	}
	*f = flexBool(on)
	return nil
}
