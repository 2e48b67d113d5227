package shelly

import (
	"math"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Shelly payloads are device-specific and loosely typed (a flag may be 0/1,
// true/false or "1"); these accessors read decoded JSON tolerantly and never
// panic on a wrong type.

func obj(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func arr(v any) ([]any, bool) {
	a, ok := v.([]any)
	return a, ok
}

// num reads a finite number (or a numeric string).
func num(v any) (float64, bool) { return vendors.FloatOrString(v) }

// flag reads a boolean that may arrive as a bool, 0/1 or "1"/"true"/"on".
func flag(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case float64:
		if b == 0 || b == 1 {
			return b == 1, true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "1", "true", "on":
			return true, true
		case "0", "false", "off":
			return false, true
		}
	}
	return false, false
}

func str(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// path walks nested objects: path(m, "aenergy", "total").
func path(m map[string]any, keys ...string) (any, bool) {
	var cur any = m
	for _, k := range keys {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = o[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func numAt(m map[string]any, keys ...string) (float64, bool) {
	v, ok := path(m, keys...)
	if !ok {
		return 0, false
	}
	return num(v)
}

func flagAt(m map[string]any, keys ...string) (bool, bool) {
	v, ok := path(m, keys...)
	if !ok {
		return false, false
	}
	return flag(v)
}

func strAt(m map[string]any, keys ...string) (string, bool) {
	v, ok := path(m, keys...)
	if !ok {
		return "", false
	}
	return str(v)
}

// intIn reads an integer within [lo, hi], rounding a fractional value.
func intIn(v any, lo, hi int) (int, bool) {
	f, ok := num(v)
	if !ok {
		return 0, false
	}
	n := int(math.Round(f))
	if n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// round6 trims float noise from unit conversions (Wh → kWh).
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// mergeStatus merges a partial status into the last known one: objects merge
// recursively, arrays merge element by element (Gen1 relays[], meters[]) and
// take the new length, everything else is replaced. A missing field never
// resets a value.
func mergeStatus(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = mergeValue(dst[k], v, 0)
	}
}

const maxMergeDepth = 32

func mergeValue(old, v any, depth int) any {
	if depth > maxMergeDepth {
		return v
	}
	switch nv := v.(type) {
	case map[string]any:
		om, ok := old.(map[string]any)
		if !ok {
			return cloneValue(nv, depth)
		}
		out := make(map[string]any, len(om)+len(nv))
		for k, x := range om {
			out[k] = x
		}
		for k, x := range nv {
			out[k] = mergeValue(om[k], x, depth+1)
		}
		return out
	case []any:
		oa, _ := old.([]any)
		out := make([]any, len(nv))
		for i, x := range nv {
			var prev any
			if i < len(oa) {
				prev = oa[i]
			}
			if _, isObj := x.(map[string]any); isObj {
				out[i] = mergeValue(prev, x, depth+1)
			} else {
				out[i] = x
			}
		}
		return out
	}
	return v
}

// sameKinds reports whether merging v into old (as mergeValue does) keeps
// every field old has, with the same JSON kind, and adds none.
func sameKinds(old, v any, depth int) bool {
	if depth > maxMergeDepth {
		return false
	}
	switch nv := v.(type) {
	case map[string]any:
		om, ok := old.(map[string]any)
		if !ok {
			return false
		}
		for k, x := range nv {
			if o, had := om[k]; !had || !sameKinds(o, x, depth+1) {
				return false
			}
		}
		return true
	case []any:
		_, ok := old.([]any)
		return ok
	case string:
		_, ok := old.(string)
		return ok
	case bool:
		_, ok := old.(bool)
		return ok
	case float64: // statuses are decoded without json.Number
		_, ok := old.(float64)
		return ok
	case nil:
		return old == nil
	}
	return false
}

// cloneValue copies maps and slices so a stored status never aliases a
// decoded frame.
func cloneValue(v any, depth int) any {
	if depth > maxMergeDepth {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneValue(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e, depth+1)
		}
		return out
	}
	return v
}

// truncate bounds payloads in debug logs.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
