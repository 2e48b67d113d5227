package ewelink

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// thing is one cloud device as the adapter tracks it.
type thing struct {
	id     string
	name   string
	apikey string // the owner's apikey (differs from ours for shared devices)
	uiid   int
	online bool
	parent string // Zigbee gateway deviceid
	brand  string
	model  string
	// modelID is extra.model (the firmware/model code).
	modelID string
	mac     string
	tags    map[string]any
	// cur are the decoded params; nil while they rest as JSON (rest): the
	// device list's until the device first reports, and its own again once
	// it has been quiet (restIfQuiet). Decoded, they take several times the
	// bytes.
	cur  params
	rest []byte
	// used says the decoded params were read since the last restIfQuiet.
	used  bool
	spec  spec
	known bool // the uiid is in the table

	device vendors.Device
	owners []feature // owners[i] serves device.Entities[i]
	sig    string    // entity keys, to notice a changed entity set

	// motion is a cover's movement in progress: opening, closing or "".
	motion string
	// seen remembers event sources (trigTime, rfTrig) already reported;
	// nil until the first.
	seen map[string]string
	book *energyBook
	// avail is the availability last reported (nil: never).
	avail *bool
}

// params are the device's params, decoded from rest on first use.
func (t *thing) params() params {
	if t.cur == nil {
		t.cur, _ = decodeParams(t.rest) // rest was decoded once already
		if t.cur == nil {
			t.cur = params{}
		}
		t.rest = nil
	}
	t.used = true
	return t.cur
}

// restParams lets the params rest as raw, their JSON, until next used; raw
// is the thing's to keep, and never changed.
func (t *thing) restParams(raw []byte) {
	t.cur, t.rest = nil, raw
}

// restIfQuiet lets decoded params rest as JSON again when nothing read
// them since the last call, and reports whether it did. A device that has
// reported keeps its params decoded — several times the bytes, one Go map
// per outlet object — so without this a fleet where every device reports
// now and then would hold every device's params decoded.
func (t *thing) restIfQuiet() bool {
	if t.cur == nil {
		return false
	}
	if t.used {
		t.used = false
		return false
	}
	raw, err := json.Marshal(t.cur)
	if err != nil {
		return false // a value JSON cannot hold (set by a command): keep it decoded
	}
	t.restParams(raw)
	return true
}

// shapeParams are the scalar params a device's entities or details are
// read from by value (not only by presence).
var shapeParams = map[string]bool{"workMode": true, "parentid": true, "fwVersion": true, "staMac": true}

// needsBuild reports whether merging upd could change the device's entities
// or details. They depend on which params exist, on object and array params
// (channel lists, outlet configuration), on shapeParams, and on the values
// valueShaped features look at; a report that only changes scalar readings
// of params the device already has, none of them reshaping a feature,
// cannot change them, and skipping the rebuild for it keeps the hot path
// lean. FuzzUIIDParams checks this against a full build.
func (t *thing) needsBuild(upd params) bool {
	for k, v := range upd {
		old, had := t.params()[k]
		if !had || shapeParams[k] || !isScalar(v) || !isScalar(old) {
			return true
		}
		for _, f := range t.spec.features {
			if r, ok := f.(valueShaped); ok && r.reshapes(k, old, v) {
				return true
			}
		}
	}
	return false
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, float64, bool:
		return true
	}
	return false
}

// build (re)computes the device's entities from its spec and params and
// reports whether the entity set changed.
func (t *thing) build() bool {
	t.spec = specFor(t.uiid, t.params())
	var ents []vendors.Entity
	var owners []feature
	for _, f := range t.spec.features {
	next:
		for _, e := range f.entities(t) {
			for i := range ents {
				if ents[i].Key == e.Key {
					continue next
				}
			}
			owners = append(owners, f)
			ents = append(ents, e)
		}
	}
	keys := make([]string, len(ents))
	for i, e := range ents {
		keys[i] = e.Key + ":" + string(e.Platform)
	}
	sig := strings.Join(keys, ",")
	changed := sig != t.sig
	t.sig = sig
	t.owners = owners
	sw, _ := text(t.params()["fwVersion"])
	mac, _ := text(t.params()["staMac"])
	if mac == "" {
		mac = t.mac
	}
	model := t.model
	if model == "" {
		model = t.spec.family
	}
	t.device = vendors.Device{
		ID:           t.id,
		Name:         t.name,
		Manufacturer: orDefault(t.brand, "eWeLink"),
		Model:        model,
		ModelID:      t.modelID,
		SWVersion:    sw,
		HWVersion:    "uiid " + itoa(t.uiid),
		MAC:          mac,
		Via:          t.parent,
		Entities:     vendors.InternEntities(ents),
	}
	return changed
}

// values computes every entity value from the params, for the sink, which
// keeps the device's state and publishes what changed (the adapter keeps no
// second copy).
func (t *thing) values() map[string]any { return t.valuesAfter(nil) }

// valuesAfter is values after a report that merged upd into the params and
// left the entities as they were: only the values of features that may read
// a param in upd, since the others cannot have changed. Every other change
// of the params (a listing, a command, a rebuild) is followed by values.
func (t *thing) valuesAfter(upd params) map[string]any {
	out := map[string]any{}
	// upd's keys, read once rather than once per feature; nil: every feature.
	var small [8]string
	var changed []string
	if upd != nil && len(upd) <= len(small) {
		changed = small[:0]
		for k := range upd {
			changed = append(changed, k)
		}
	}
	for _, f := range t.spec.features {
		if r, ok := f.(paramReader); ok && changed != nil && !readsAny(r, changed) {
			continue
		}
		f.values(t, out)
	}
	for k := range out {
		if t.owner(k) == nil && !t.stateKey(k) {
			delete(out, k)
		}
	}
	return out
}

// owner is the feature that serves the entity key (nil: none).
func (t *thing) owner(key string) feature {
	for i := range t.device.Entities {
		if t.device.Entities[i].Key == key {
			return t.owners[i]
		}
	}
	return nil
}

// remember records an event source's stamp; it reports false when the
// source already had that stamp.
func (t *thing) remember(source, stamp string) bool {
	if t.seen[source] == stamp {
		return false
	}
	if t.seen == nil {
		t.seen = map[string]string{}
	}
	t.seen[source] = stamp
	return true
}

// stateKey reports keys that are state without being entities (a cover's
// position, a fan's percentage).
func (t *thing) stateKey(k string) bool {
	for i := range t.device.Entities {
		e := &t.device.Entities[i]
		if e.Cover != nil && e.Cover.PositionKey == k {
			return true
		}
		if e.Fan != nil && e.Fan.PercentageKey == k {
			return true
		}
	}
	return false
}

// entity returns the entity with key.
func (t *thing) entity(key string) (*vendors.Entity, bool) {
	return t.device.Entity(key)
}

// channelName is the user's name for an outlet (tags.ck_channel_name).
func (t *thing) channelName(outlet int) string {
	names, ok := t.tags["ck_channel_name"].(map[string]any)
	if !ok {
		return ""
	}
	s, _ := text(names[itoa(outlet)])
	return strings.TrimSpace(s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
