package shelly

import (
	"bytes"
	"encoding/json"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// A device's status rests as JSON. Most of it is read once, when the view
// is built from a full status, and then only the few components a device
// reports readings for change; as decoded maps a status took about eight
// times the bytes of its JSON (BenchmarkFleetMemory). After a full status
// the whole status rests as one JSON object (device.rest); the first delta
// splits it into components, each frozen until a status or delta touches
// it, and then decoded for good.

// frozen is one status component at rest, as its JSON.
type frozen []byte

// MarshalJSON writes the component as it is (not as base64).
func (f frozen) MarshalJSON() ([]byte, error) { return f, nil }

// restWhole lets a status rest as one JSON object, the form that takes the
// least memory: no map, no box per component. A status that cannot be
// encoded (it cannot happen: it holds what JSON decoded) stays as it is.
func restWhole(st map[string]any) (map[string]any, []byte) {
	raw, err := json.Marshal(st)
	if err != nil {
		return st, nil
	}
	return nil, raw
}

// statusJSON encodes a status, frozen components as they are; {} for none.
func statusJSON(st map[string]any) json.RawMessage {
	raw, err := json.Marshal(st)
	if err != nil || st == nil {
		return json.RawMessage("{}")
	}
	return raw
}

// status is the device's status for merging into: a resting status is
// split into its components, each frozen (not decoded) until touched.
func (d *device) status() map[string]any {
	if d.st == nil {
		d.st = map[string]any{}
		_ = vendorkit.EachJSONField(d.rest, func(k string, raw []byte) error {
			if raw[0] == '{' || raw[0] == '[' {
				// a copy each, so the whole object is not kept for the
				// components that stay frozen
				d.st[k] = frozen(bytes.Clone(raw))
			} else {
				d.st[k] = frozen(raw).decode()
			}
			return nil
		})
		d.rest = nil
	}
	return d.st
}

// statusTree is the device's status decoded whole, to read (a full build,
// a snapshot); a resting status is decoded for the moment and stays at rest.
func (d *device) statusTree() map[string]any {
	if d.st == nil {
		return wholeStatus(d.rest)
	}
	return decoded(d.st)
}

// wholeStatus decodes a status kept as one JSON object ({} for none).
func wholeStatus(raw []byte) map[string]any {
	m, _ := frozen(raw).decode().(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// decode returns the component as decoded from a frame: JSON's own values
// read back exactly (floats round-trip through their shortest form).
func (f frozen) decode() any {
	v, err := vendorkit.DecodeJSON(f, false)
	if err != nil {
		return nil // encoded by this package: unreachable
	}
	return v
}

// thaw returns st[k], decoding it for good when it is frozen.
func thaw(st map[string]any, k string) any {
	v := st[k]
	if f, ok := v.(frozen); ok {
		v = f.decode()
		st[k] = v
	}
	return v
}

// thawKeys thaws the components upd is about to be merged into.
func thawKeys(st, upd map[string]any) {
	for k := range upd {
		thaw(st, k)
	}
}

// decoded is st with its frozen components decoded, for a full build of the
// view; st itself when none is frozen. st stays as it was.
func decoded(st map[string]any) map[string]any {
	var out map[string]any
	for k, v := range st {
		if f, ok := v.(frozen); ok {
			if out == nil {
				out = make(map[string]any, len(st))
				for k2, v2 := range st {
					out[k2] = v2
				}
			}
			out[k] = f.decode()
		}
	}
	if out == nil {
		return st
	}
	return out
}
