package bridge

import (
	"encoding/json"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"math"
	"strconv"
	"time"
)

// appendState renders a device's JSON state: its values in key order, then
// last_seen. Scalars are encoded by hand (no allocation); the rest through
// encoding/json.
func appendState(b []byte, values []kv, lastSeen int64) []byte {
	b = append(b, '{')
	n := 0
	for _, e := range values {
		if e.key == "last_seen" {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, e.key)
		b = append(b, ':')
		b = appendValue(b, e.val)
	}
	if lastSeen != 0 {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"last_seen":"`...)
		b = time.Unix(0, lastSeen).UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		return appendFloat(b, x)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// appendFloat encodes like encoding/json: shortest form, exponent only for
// very small or large magnitudes.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// appendString writes s as a JSON string, without HTML escaping.
func appendString(b []byte, s string) []byte { return discovery.AppendJSONString(b, s, false) }
