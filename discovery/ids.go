package discovery

import (
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// UniqueID is <base>_<vendor>_<id>_<key>: the entity's unique_id. The base
// topic is part of it so that two instances on one broker never collide.
func (c Config) UniqueID(vendor, id, key string) string {
	return c.ObjectID(vendor, id) + "_" + key
}

// EntityID is the default_entity_id Home Assistant gives the entity when it is
// first discovered: <platform>.<vendor>_<id>_<key>, lowercased, every character
// outside [a-z0-9_] replaced by '_'. Runs of '_' are collapsed and trimmed too,
// because Home Assistant refuses entity ids with "__" or a leading or trailing
// '_'.
func (c Config) EntityID(vendor, id string, e *vendors.Entity) string {
	return string(e.Platform) + "." + slug(vendor+"_"+id+"_"+e.Key)
}

// BridgeID is <base>_bridge: the identifier of the bridge's own device, and
// the via_device of every top-level device.
func (c Config) BridgeID() string { return SanitizeID(c.BaseTopic) + "_bridge" }

// slug makes s a valid Home Assistant object id: [a-z0-9_], no "__", no '_' at
// either end.
func slug(s string) string {
	s = strings.ToLower(s)
	b := make([]byte, 0, len(s))
	under := true // swallow leading '_'
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b = append(b, c)
			under = false
			continue
		}
		if !under {
			b = append(b, '_')
			under = true
		}
	}
	for len(b) > 0 && b[len(b)-1] == '_' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "unnamed"
	}
	return string(b)
}
