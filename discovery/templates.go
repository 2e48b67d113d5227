package discovery

import (
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Value templates read one key of the device's JSON state. The state may lack
// a key (not yet known), so a template must never turn a missing key into a
// state. What Home Assistant does with a rendered template (checked against
// homeassistant/components/mqtt):
//
//   - A missing key read as value_json.k renders "" but logs a template
//     warning on every message, and value_json.items (or keys, values, copy)
//     would return the dict's method rather than the key. value_json.get('k', x)
//     has neither problem ("get" is a reserved entity key, so it is always the
//     method).
//   - An empty rendering is ignored (the state is kept) by numeric sensors,
//     binary_sensor, switch, number, select, cover (state and position), fan
//     (state, percentage, preset), alarm_control_panel and update ("{}" too).
//   - "None" (a JSON null in the state) sets the entity to unknown on the same
//     platforms.
//   - Non-numeric sensors (device class none/enum/timestamp/date without unit,
//     state class or precision) take any rendering as their state, "" included,
//     so their template falls back to the entity's current state (this.state)
//     when the key is missing or null.
//
// Keys are entity keys ([a-z0-9_]+), so they need no escaping inside '...'.

// valueTemplate renders the key as is; missing → "" (ignored), null → "None".
func valueTemplate(key string) string {
	return "{{ value_json.get('" + key + "', '') }}"
}

// keepTemplate renders the key, or the entity's current state when the key is
// missing or null: for sensors that would take "" as a state.
func keepTemplate(key string) string {
	return "{% set v = value_json.get('" + key + "') %}{{ this.state if v is none else v }}"
}

// numberTemplate renders the key only when it holds a number (cover position
// and tilt, which have no "unknown" and log anything else).
func numberTemplate(key string) string {
	return "{% set v = value_json.get('" + key + "') %}{{ v if v is number else '' }}"
}

// jsonTemplate renders the object under the key as JSON (update entities);
// missing or null renders "{}", which the update platform ignores.
func jsonTemplate(key string) string {
	return "{{ (value_json.get('" + key + "') or {}) | tojson }}"
}

// levelTemplate turns the percentage under key into a speed level 1..n, for
// fans whose speed_range_max is n. Missing → "" (ignored), null → "None" (reset).
func levelTemplate(key string, n int) string {
	s := strconv.Itoa(n)
	return "{% set v = value_json.get('" + key + "', '') %}{{ (v * " + s + " / 100) | round | int if v is number else v }}"
}

// percentTemplate turns Home Assistant's speed level 1..n back into the
// percentage the bridge takes on set/<key>.
func percentTemplate(n int) string {
	return "{{ (value * 100 / " + strconv.Itoa(n) + ") | round | int }}"
}

// numericSensor mirrors Home Assistant's SensorEntity._numeric_state_expected.
func numericSensor(e *vendors.Entity) bool {
	switch e.DeviceClass {
	case "enum", "timestamp", "date":
		return false
	}
	return e.StateClass != "" || e.Unit != "" || e.Precision != nil || e.DeviceClass != ""
}
