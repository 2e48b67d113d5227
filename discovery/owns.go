package discovery

import (
	"encoding/json"
	"strings"
)

// Owns reports whether a retained discovery payload was published by this
// instance, so that the start-up sweep never touches other programs' configs:
// origin cloud2mqtt, a device identifier under this base topic, and this
// instance's bridge/state among the availability topics. The last check keeps
// apart base topics that prefix one another ("cloud2mqtt" and
// "cloud2mqtt_eu": identifiers "cloud2mqtt_eu_ewelink_1" start with
// "cloud2mqtt_" too). Abbreviated and full key names are both read.
func (c Config) Owns(payload []byte) bool {
	var p map[string]any
	if json.Unmarshal(payload, &p) != nil {
		return false
	}
	o, _ := pick(p, "o", "origin").(map[string]any)
	if name, _ := o["name"].(string); name != OriginName {
		return false
	}
	dev, _ := pick(p, "dev", "device").(map[string]any)
	prefix := SanitizeID(c.BaseTopic) + "_"
	owned := false
	switch ids := pick(dev, "ids", "identifiers").(type) {
	case string:
		owned = strings.HasPrefix(ids, prefix)
	case []any:
		for _, id := range ids {
			if s, ok := id.(string); ok && strings.HasPrefix(s, prefix) {
				owned = true
			}
		}
	}
	if !owned {
		return false
	}
	state := c.BridgeTopic("state")
	avty, _ := pick(p, "availability", "avty").([]any)
	for _, a := range avty {
		m, _ := a.(map[string]any)
		if t, _ := pick(m, "topic", "t").(string); t == state {
			return true
		}
	}
	return false
}

func pick(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}
