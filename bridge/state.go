package bridge

import (
	"math"

	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// devKey names a device: vendor and the id as it appears in topics.
type devKey struct{ vendor, id string }

func (k devKey) String() string { return k.vendor + "/" + k.id }

// device is the bridge's cached view of one device. Fields are guarded by
// Bridge.mu, except those marked publisher-owned.
type device struct {
	key      devKey
	dev      *vendors.Device // latest inventory entry; never mutated
	override discovery.Override
	owners   []owner
	lights   []string // keys of light entities

	values      []kv // sorted by key
	lastSeen    int64
	online      bool
	onlineKnown bool

	pending uint8 // publish flags
	queued  bool  // in Bridge.dirty
	gone    bool

	// stateTopic is kept, as every state goes to it; the availability and
	// config topics, used seldom, are made when needed (ten thousand devices
	// would keep 1.5 MB of them).
	stateTopic string

	// publisher-owned
	configHash  uint64
	configError bool
}

type owner struct {
	acct *account
	seen uint64
}

type kv struct {
	key string
	val any
}

// Publish flags.
const (
	fState uint8 = 1 << iota
	fAvail
	fLight
	fConfig
	fConfigForce
)

// set stores key's value and reports whether it changed.
func (d *device) set(key string, v any) bool {
	lo, hi := 0, len(d.values)
	for lo < hi {
		m := (lo + hi) / 2
		if d.values[m].key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(d.values) && d.values[lo].key == key {
		if vendors.EqualValue(d.values[lo].val, v) {
			return false
		}
		d.values[lo].val = v
		return true
	}
	if d.values == nil && d.dev != nil {
		// most devices end with about one value per entity: sized once,
		// not doubled into up to twice that
		d.values = make([]kv, 0, len(d.dev.Entities))
	}
	d.values = append(d.values, kv{})
	copy(d.values[lo+1:], d.values[lo:])
	d.values[lo] = kv{key, v}
	return true
}

func (d *device) availTopic() string { return d.stateTopic + "/availability" }

func (b *Bridge) configTopic(d *device) string { return b.topics.ConfigTopic(d.key.vendor, d.key.id) }

func (d *device) get(key string) (any, bool) {
	for _, e := range d.values {
		if e.key == key {
			return e.val, true
		}
	}
	return nil, false
}

func (d *device) isLight(key string) bool {
	for _, l := range d.lights {
		if l == key {
			return true
		}
	}
	return false
}

// owner records that a reported the device now; it reports whether a owns it.
func (d *device) touch(a *account, seq uint64) bool {
	for i := range d.owners {
		if d.owners[i].acct == a {
			d.owners[i].seen = seq
			return true
		}
	}
	return false
}

// route is the account to send commands to: the one that reported the device
// most recently and is not in permanent error.
func (d *device) route() *account {
	var best *owner
	for i := range d.owners {
		o := &d.owners[i]
		if o.acct.permanent {
			continue
		}
		if best == nil || o.seen > best.seen {
			best = o
		}
	}
	if best == nil {
		return nil
	}
	return best.acct
}

func (d *device) removeOwner(a *account) {
	for i := range d.owners {
		if d.owners[i].acct == a {
			d.owners = append(d.owners[:i], d.owners[i+1:]...)
			return
		}
	}
}

// name is the device's display name (the override's, else the cloud's).
func (d *device) name() string {
	if d.override.Name != "" {
		return d.override.Name
	}
	return d.dev.Name
}

// normalize gives values one representation per kind, so change detection
// and encoding see numbers as float64 and state structs by value.
func normalize(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return v // not x: re-boxing would allocate
	case string, bool, nil:
		return v
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return normalize(float64(x))
	case *vendors.LightState:
		if x == nil {
			return nil
		}
		return *x
	case *vendors.UpdateState:
		if x == nil {
			return nil
		}
		return *x
	}
	return v
}

// cleanID returns discovery.SanitizeID(id) without allocating when id is
// already clean (the usual case on the hot path).
func cleanID(id string) string {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return discovery.SanitizeID(id)
		}
	}
	return id
}
