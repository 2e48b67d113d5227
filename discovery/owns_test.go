package discovery

import (
	"math"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func nan() float64 { return math.NaN() }

func TestOwns(t *testing.T) {
	d := vendors.Device{ID: "1000abcdef", Name: "Plug", Entities: []vendors.Entity{{Key: "switch", Platform: vendors.Switch, Writable: true}}}
	mine, err := testConfig.DevicePayload("ewelink", &d, Override{})
	if err != nil {
		t.Fatal(err)
	}
	eu := Config{BaseTopic: "cloud2mqtt_eu", Prefix: "homeassistant", Version: "1.2.3"}
	theirs, err := eu.DevicePayload("ewelink", &d, Override{})
	if err != nil {
		t.Fatal(err)
	}
	bridge, err := testConfig.BridgePayload(bridgeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	z2m := `{"availability":[{"topic":"zigbee2mqtt/bridge/state"}],"device":{"identifiers":["zigbee2mqtt_0x00158d0001"],"name":"Lamp"},"origin":{"name":"Zigbee2MQTT","sw":"2.1.0"},"unique_id":"0x00158d0001_light_zigbee2mqtt"}`
	abbreviated := `{"o":{"name":"cloud2mqtt"},"dev":{"ids":"cloud2mqtt_shelly_x"},"avty":[{"t":"cloud2mqtt/bridge/state"}],"cmps":{}}`
	fullNames := `{"origin":{"name":"cloud2mqtt"},"device":{"identifiers":["other","cloud2mqtt_shelly_x"]},"availability":[{"topic":"cloud2mqtt/bridge/state"}]}`

	for _, c := range []struct {
		name    string
		cfg     Config
		payload string
		want    bool
	}{
		{"own device", testConfig, string(mine), true},
		{"own bridge", testConfig, string(bridge), true},
		{"abbreviated keys", testConfig, abbreviated, true},
		{"full key names, second identifier", testConfig, fullNames, true},
		{"other instance, prefixed base", testConfig, string(theirs), false},
		{"other instance sees ours", eu, string(mine), false},
		{"other instance owns its own", eu, string(theirs), true},
		{"another origin", testConfig, strings.Replace(string(mine), `"name":"cloud2mqtt"`, `"name":"bla2mqtt"`, 1), false},
		{"zigbee2mqtt", testConfig, z2m, false},
		{"no availability", testConfig, `{"o":{"name":"cloud2mqtt"},"dev":{"ids":["cloud2mqtt_ewelink_1"]}}`, false},
		{"no device", testConfig, `{"o":{"name":"cloud2mqtt"},"availability":[{"topic":"cloud2mqtt/bridge/state"}]}`, false},
		{"no origin", testConfig, `{"dev":{"ids":["cloud2mqtt_ewelink_1"]},"availability":[{"topic":"cloud2mqtt/bridge/state"}]}`, false},
		{"identifier without separator", testConfig, `{"o":{"name":"cloud2mqtt"},"dev":{"ids":["cloud2mqttx"]},"availability":[{"topic":"cloud2mqtt/bridge/state"}]}`, false},
		{"empty", testConfig, ``, false},
		{"empty object", testConfig, `{}`, false},
		{"invalid JSON", testConfig, `{"o":`, false},
		{"not an object", testConfig, `["cloud2mqtt"]`, false},
		{"wrong types", testConfig, `{"o":"cloud2mqtt","dev":{"ids":[1,2]},"availability":"x"}`, false},
		{"null", testConfig, `null`, false},
	} {
		if got := c.cfg.Owns([]byte(c.payload)); got != c.want {
			t.Errorf("%s: Owns = %v, want %v", c.name, got, c.want)
		}
	}
}
