package discovery

import (
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// alarmFeatures maps alarm panel commands (Entity.Options) to Home Assistant's
// supported_features; DISARM is always supported and has none.
var alarmFeatures = map[string]string{
	"ARM_HOME":          "arm_home",
	"ARM_AWAY":          "arm_away",
	"ARM_NIGHT":         "arm_night",
	"ARM_VACATION":      "arm_vacation",
	"ARM_CUSTOM_BYPASS": "arm_custom_bypass",
	"TRIGGER":           "trigger",
}

// deviceClassPlatforms take a device_class.
var deviceClassPlatforms = map[vendors.Platform]bool{
	vendors.Sensor: true, vendors.BinarySensor: true, vendors.Switch: true, vendors.Cover: true,
	vendors.Button: true, vendors.Number: true, vendors.Event: true, vendors.Update: true,
}

// component renders one entry of cmps. The device JSON state_topic and the
// availability come from the payload's root (see DevicePayload).
// It fills m, which is empty, so that one map serves every component.
func (c Config) component(m obj, vendor, id, devName string, e *vendors.Entity) {
	m["p"] = string(e.Platform)
	m["unique_id"] = c.UniqueID(vendor, id, e.Key)
	m["default_entity_id"] = c.EntityID(vendor, id, e)
	m["name"] = entityName(devName, e.Name)
	if e.Icon != "" {
		m["icon"] = e.Icon
	}
	if e.Category != "" {
		m["entity_category"] = e.Category
	}
	if e.DisabledByDefault {
		m["enabled_by_default"] = false
	}
	if e.DeviceClass != "" && deviceClassPlatforms[e.Platform] {
		m["device_class"] = e.DeviceClass
	}

	set := c.SetTopic(vendor, id, e.Key)
	switch e.Platform {
	case vendors.Sensor:
		sensor(m, e)
	case vendors.BinarySensor:
		readOnlyCategory(m)
		m["value_template"] = valueTemplate(e.Key)
		m["payload_on"], m["payload_off"] = vendors.On, vendors.Off
	case vendors.Switch:
		m["value_template"] = valueTemplate(e.Key)
		m["command_topic"] = set
		m["payload_on"], m["payload_off"] = vendors.On, vendors.Off
		m["state_on"], m["state_off"] = vendors.On, vendors.Off
	case vendors.Light:
		light(m, e.Light)
		m["state_topic"] = c.EntityTopic(vendor, id, e.Key)
		m["command_topic"] = set
	case vendors.Cover:
		c.cover(m, vendor, id, e)
	case vendors.Fan:
		c.fan(m, vendor, id, e)
	case vendors.Number:
		m["value_template"] = valueTemplate(e.Key)
		m["command_topic"] = set
		if e.Unit != "" {
			m["unit_of_measurement"] = e.Unit
		}
		number(m, e)
	case vendors.Select:
		m["value_template"] = valueTemplate(e.Key)
		m["command_topic"] = set
		m["options"] = e.Options
	case vendors.Button:
		m["command_topic"] = set
		m["payload_press"] = "PRESS"
	case vendors.Event:
		// Events are published unretained to the entity topic as
		// {"event_type": ..., ...attrs}; Home Assistant drops retained ones.
		m["state_topic"] = c.EntityTopic(vendor, id, e.Key)
		m["event_types"] = e.Options
	case vendors.Camera:
		m["topic"] = c.EntityTopic(vendor, id, e.Key) // raw image bytes
	case vendors.Image:
		if e.ContentType == "" {
			// The URL lives in the device JSON state. Home Assistant renews
			// the image (and its state) on every message of url_topic, so the
			// image entity is refreshed with every state publish of the device.
			m["url_topic"] = c.DeviceTopic(vendor, id)
			m["url_template"] = valueTemplate(e.Key)
		} else {
			m["image_topic"] = c.EntityTopic(vendor, id, e.Key)
			m["content_type"] = e.ContentType
		}
	case vendors.Update:
		if e.DeviceClass == "" {
			m["device_class"] = "firmware"
		}
		m["value_template"] = jsonTemplate(e.Key)
		if e.Writable {
			m["command_topic"] = set
			m["payload_install"] = "install"
		}
	case vendors.AlarmControlPanel:
		m["value_template"] = valueTemplate(e.Key)
		m["command_topic"] = set
		m["code_arm_required"] = false
		features := []string{}
		for _, o := range e.Options {
			if f, ok := alarmFeatures[o]; ok {
				features = append(features, f)
			}
		}
		m["supported_features"] = features
	}
}

// readOnlyCategory: Home Assistant refuses sensors and binary sensors in the
// config category, which is for settings.
func readOnlyCategory(m obj) {
	if m["entity_category"] == vendors.CategoryConfig {
		m["entity_category"] = vendors.CategoryDiagnostic
	}
}

func sensor(m obj, e *vendors.Entity) {
	readOnlyCategory(m)
	if numericSensor(e) {
		m["value_template"] = valueTemplate(e.Key)
	} else {
		m["value_template"] = keepTemplate(e.Key)
	}
	if e.DeviceClass == "enum" {
		// Home Assistant refuses options together with a unit or state class.
		m["options"] = e.Options
		return
	}
	if e.Unit != "" {
		m["unit_of_measurement"] = e.Unit
	}
	if e.StateClass != "" {
		m["state_class"] = e.StateClass
	}
	if e.Precision != nil {
		m["suggested_display_precision"] = *e.Precision
	}
}

// number sets min/max/step. Home Assistant needs step ≥ 0.001 and defaults it
// to 1, so a zero step is left out and a smaller one raised.
func number(m obj, e *vendors.Entity) {
	if !e.HasRange {
		return
	}
	m["min"], m["max"] = e.Min, e.Max
	switch {
	case e.Step <= 0:
	case e.Step < 0.001:
		m["step"] = 0.001
	default:
		m["step"] = e.Step
	}
}

func light(m obj, l *vendors.LightSpec) {
	m["schema"] = "json"
	m["supported_color_modes"] = l.ColorModes
	if !l.Supports("onoff") {
		m["brightness"] = true
		m["brightness_scale"] = 255
	}
	if l.Supports("color_temp") {
		m["color_temp_kelvin"] = true
		m["min_kelvin"], m["max_kelvin"] = l.MinKelvin, l.MaxKelvin
	}
	if len(l.Effects) > 0 {
		m["effect"] = true
		m["effect_list"] = l.Effects
	}
	m["flash"] = false // LightCommand has no flash
}

func (c Config) cover(m obj, vendor, id string, e *vendors.Entity) {
	s := e.Cover
	m["value_template"] = valueTemplate(e.Key)
	m["state_open"], m["state_opening"] = vendors.CoverOpen, vendors.CoverOpening
	m["state_closed"], m["state_closing"] = vendors.CoverClosed, vendors.CoverClosing
	m["state_stopped"] = vendors.CoverStopped
	if e.Writable {
		m["command_topic"] = c.SetTopic(vendor, id, e.Key)
		m["payload_open"], m["payload_close"] = vendors.CoverActionOpen, vendors.CoverActionClose
		m["payload_stop"] = nil // null: no stop button
		if s.CanStop {
			m["payload_stop"] = vendors.CoverActionStop
		}
	}
	if s.PositionKey != "" {
		m["position_topic"] = c.DeviceTopic(vendor, id)
		m["position_template"] = numberTemplate(s.PositionKey)
		m["position_open"], m["position_closed"] = 100, 0
		if e.Writable {
			m["set_position_topic"] = c.SetTopic(vendor, id, s.PositionKey)
		}
	}
	if s.TiltKey != "" {
		m["tilt_status_topic"] = c.DeviceTopic(vendor, id)
		m["tilt_status_template"] = numberTemplate(s.TiltKey)
		m["tilt_min"], m["tilt_max"] = 0, 100
		if e.Writable {
			m["tilt_command_topic"] = c.SetTopic(vendor, id, s.TiltKey)
		}
	}
}

// fan: on/off under the entity key, the speed as a percentage under
// PercentageKey. With SpeedCount n (1..99) Home Assistant counts in levels
// 1..n (speed_range_max), so the templates convert between levels and the
// percentages the bridge speaks; otherwise the percentage passes through.
func (c Config) fan(m obj, vendor, id string, e *vendors.Entity) {
	s := e.Fan
	m["state_value_template"] = valueTemplate(e.Key)
	m["command_topic"] = c.SetTopic(vendor, id, e.Key)
	m["payload_on"], m["payload_off"] = vendors.On, vendors.Off
	if s.PercentageKey != "" {
		m["percentage_state_topic"] = c.DeviceTopic(vendor, id)
		m["percentage_command_topic"] = c.SetTopic(vendor, id, s.PercentageKey)
		if n := s.SpeedCount; n > 0 && n < 100 {
			m["speed_range_min"], m["speed_range_max"] = 1, n
			m["percentage_value_template"] = levelTemplate(s.PercentageKey, n)
			m["percentage_command_template"] = percentTemplate(n)
		} else {
			m["speed_range_min"], m["speed_range_max"] = 1, 100
			m["percentage_value_template"] = valueTemplate(s.PercentageKey)
		}
	}
	if s.PresetKey != "" && len(s.PresetModes) > 0 {
		m["preset_mode_state_topic"] = c.DeviceTopic(vendor, id)
		m["preset_mode_command_topic"] = c.SetTopic(vendor, id, s.PresetKey)
		m["preset_mode_value_template"] = valueTemplate(s.PresetKey)
		m["preset_modes"] = s.PresetModes
	}
}
