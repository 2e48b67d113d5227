package discovery

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// DefaultBaseTopic is mqtt.base_topic when the configuration does not set it.
const DefaultBaseTopic = "cloud2mqtt"

// BridgeConfigTopic is the discovery topic of the bridge's own device.
func (c Config) BridgeConfigTopic() string {
	return c.Prefix + "/device/" + c.BridgeID() + "/config"
}

// BridgePayload renders the discovery config of the bridge's own device: per
// account a connectivity and a "re-authentication needed" problem binary
// sensor, and the number of devices. All read c.BridgeTopic("info"):
//
//	{"version", "commit", "start_time", "base_topic", "discovery_prefix",
//	 "devices": <count>,
//	 "accounts": [{"id": "<vendor>/<account>", "vendor", "account", "status",
//	               "last_error", "devices", "reauth_needed": bool,
//	               "reauth_url", "budget": {}, "info": {}}]}
//
// The account templates select their account by id; a missing account renders
// "" (ignored), so the sensors keep their state.
func (c Config) BridgePayload(accounts []Account) ([]byte, error) {
	info := c.BridgeTopic("info")
	cmps := obj{
		"devices": obj{
			"p":                 string(vendors.Sensor),
			"unique_id":         c.BridgeID() + "_devices",
			"default_entity_id": "sensor." + slug(c.BridgeID()+"_devices"),
			"name":              "Devices",
			"icon":              "mdi:devices",
			"state_class":       "measurement",
			"entity_category":   vendors.CategoryDiagnostic,
			"value_template":    valueTemplate("devices"),
		},
	}
	seen := map[string]bool{}
	var errs []error
	for _, a := range accounts {
		if a.Vendor == "" || a.Name == "" {
			errs = append(errs, fmt.Errorf("account %q/%q: vendor and name must be set", a.Vendor, a.Name))
			continue
		}
		id := a.Vendor + "/" + a.Name
		if seen[id] {
			errs = append(errs, fmt.Errorf("account %s: listed twice", id))
			continue
		}
		seen[id] = true
		key := slug(a.Vendor + "_" + a.Name)
		for n := 2; cmps[key+"_connection"] != nil; n++ { // "Home" and "home"
			key = slug(a.Vendor+"_"+a.Name) + "_" + strconv.Itoa(n)
		}
		sel := "{% set a = (value_json.get('accounts') or []) | selectattr('id', 'eq', " + strconv.Quote(id) + ") | list %}"
		label := a.Vendor + " " + a.Name
		cmps[key+"_connection"] = c.bridgeEntity(key+"_connection", obj{
			"name":           label + " connection",
			"device_class":   "connectivity",
			"value_template": sel + "{{ ('ON' if a[0].get('status') == 'connected' else 'OFF') if a else '' }}",
		})
		cmps[key+"_reauth"] = c.bridgeEntity(key+"_reauth", obj{
			"name":           label + " re-authentication needed",
			"device_class":   "problem",
			"value_template": sel + "{{ ('ON' if a[0].get('reauth_needed') else 'OFF') if a else '' }}",
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("discovery: bridge: %w", err)
	}
	name := "cloud2mqtt bridge"
	if c.BaseTopic != DefaultBaseTopic {
		name += " (" + c.BaseTopic + ")"
	}
	dev := obj{"ids": []string{c.BridgeID()}, "name": name, "mf": "cloud2mqtt", "mdl": "cloud2mqtt"}
	if c.Version != "" {
		dev["sw"] = c.Version
	}
	return json.Marshal(obj{
		"dev":          dev,
		"o":            c.origin(),
		"cmps":         cmps,
		"availability": []obj{{"topic": c.BridgeTopic("state")}},
		"state_topic":  info,
	})
}

func (c Config) bridgeEntity(key string, m obj) obj {
	m["p"] = string(vendors.BinarySensor)
	m["unique_id"] = c.BridgeID() + "_" + key
	m["default_entity_id"] = "binary_sensor." + slug(c.BridgeID()+"_"+key)
	m["entity_category"] = vendors.CategoryDiagnostic
	m["payload_on"], m["payload_off"] = vendors.On, vendors.Off
	return m
}
