// Package discovery turns the normalized device model into the MQTT topic
// scheme and Home Assistant device-based discovery payloads. It is pure: no
// MQTT, no I/O.
package discovery

// Config is what every topic and payload depends on.
type Config struct {
	BaseTopic string // mqtt.base_topic, e.g. "cloud2mqtt"
	Prefix    string // Home Assistant discovery prefix, e.g. "homeassistant"
	Version   string // cloud2mqtt version, for the origin block
}

// SanitizeID replaces every character outside [A-Za-z0-9_-] with '_'.
func SanitizeID(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// DeviceTopic is <base>/<vendor>/<id>: the device's retained JSON state.
func (c Config) DeviceTopic(vendor, id string) string {
	return c.BaseTopic + "/" + vendor + "/" + SanitizeID(id)
}

// AvailabilityTopic is <base>/<vendor>/<id>/availability.
func (c Config) AvailabilityTopic(vendor, id string) string {
	return c.DeviceTopic(vendor, id) + "/availability"
}

// EntityTopic is <base>/<vendor>/<id>/<key>: a light's own JSON state, an
// event entity's (unretained) events, a camera's image bytes.
func (c Config) EntityTopic(vendor, id, key string) string {
	return c.DeviceTopic(vendor, id) + "/" + key
}

// SetTopic is <base>/<vendor>/<id>/set/<key>.
func (c Config) SetTopic(vendor, id, key string) string {
	return c.DeviceTopic(vendor, id) + "/set/" + key
}

// BridgeTopic is <base>/bridge/<name> (state, info, devices, event, ...).
func (c Config) BridgeTopic(name string) string { return c.BaseTopic + "/bridge/" + name }

// ObjectID is <base>_<vendor>_<id>: the discovery object id and the device identifier.
func (c Config) ObjectID(vendor, id string) string {
	return SanitizeID(c.BaseTopic) + "_" + vendor + "_" + SanitizeID(id)
}

// ConfigTopic is <prefix>/device/<base>_<vendor>_<id>/config.
func (c Config) ConfigTopic(vendor, id string) string {
	return c.Prefix + "/device/" + c.ObjectID(vendor, id) + "/config"
}
