package vendors

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Float reads a finite number held as any Go numeric type or json.Number,
// as values arrive from JSON decoders and adapters.
func Float(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case int32:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint64:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return finite(f)
}

// FloatOrString is Float that also reads a numeric string ("21.5",
// " 3 "), as clouds and MQTT commands often send numbers.
func FloatOrString(v any) (float64, bool) {
	s, ok := v.(string)
	if !ok {
		return Float(v)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, false
	}
	return finite(f)
}

func finite(f float64) (float64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
