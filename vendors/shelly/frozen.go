package shelly

import (
	"encoding/json"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// frozen is a status component at rest, kept as its JSON. Most components
// are read once, when the view is built from a full status, and then only
// the few a device reports readings for change; as decoded maps a status
// took about eight times the bytes of its JSON (BenchmarkFleetMemory). A
// component is decoded back, for good, when a status or delta touches it.
type frozen []byte

// freeze stores the object and array values of st as JSON.
func freeze(st map[string]any) {
	for k, v := range st {
		switch v.(type) {
		case map[string]any, []any:
			// A decoded status holds only what JSON can carry, so this
			// cannot fail; if it did, the value stays decoded.
			if raw, err := json.Marshal(v); err == nil {
				st[k] = frozen(raw)
			}
		}
	}
}

// decode returns the component as decoded from a frame: JSON's own values
// read back exactly (floats round-trip through their shortest form).
func (f frozen) decode() any {
	v, err := vendorkit.DecodeJSON(f, false)
	if err != nil {
		return nil // freeze wrote it: unreachable
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
