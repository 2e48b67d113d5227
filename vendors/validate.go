package vendors

import (
	"errors"
	"fmt"
)

// sensorUnits lists the units Home Assistant accepts for the device classes
// adapters use; a device class with a wrong unit breaks statistics.
var sensorUnits = map[string][]string{
	"power":           {"W", "kW"},
	"energy":          {"Wh", "kWh"},
	"voltage":         {"V", "mV"},
	"current":         {"A", "mA"},
	"temperature":     {"°C", "°F"},
	"humidity":        {"%"},
	"battery":         {"%"},
	"signal_strength": {"dBm", "dB"},
	"illuminance":     {"lx"},
	"pm25":            {"µg/m³"},
	"pm10":            {"µg/m³"},
	"carbon_dioxide":  {"ppm"},
	"apparent_power":  {"VA"},
	"reactive_power":  {"var"},
	"power_factor":    {"%", ""},
	"frequency":       {"Hz"},
	"duration":        {"s", "min", "h", "ms"},
	"data_size":       {"B", "kB", "MB", "GB"},
	"timestamp":       {""},
	"enum":            {""},
}

// Validate checks a device's entities for what Home Assistant would refuse or
// misread: bad keys, duplicate keys, missing options or ranges, device classes
// with the wrong unit or state class.
func (d *Device) Validate() error {
	var errs []error
	if d.ID == "" {
		errs = append(errs, errors.New("device without id"))
	}
	seen := map[string]bool{}
	for i := range d.Entities {
		e := &d.Entities[i]
		if seen[e.Key] {
			errs = append(errs, fmt.Errorf("entity %q: duplicate key", e.Key))
		}
		seen[e.Key] = true
		if err := e.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("entity %q: %w", e.Key, err))
		}
	}
	return errors.Join(errs...)
}

// Validate checks one entity.
func (e *Entity) Validate() error {
	if !ValidKey(e.Key) {
		return fmt.Errorf("key must match [a-z0-9_]+ and not be a reserved word")
	}
	switch e.Platform {
	case Sensor:
		if units, ok := sensorUnits[e.DeviceClass]; ok && !contains(units, e.Unit) {
			return fmt.Errorf("device class %s takes unit %v, not %q", e.DeviceClass, units, e.Unit)
		}
		if e.DeviceClass == "energy" && e.StateClass != "total" && e.StateClass != "total_increasing" {
			return fmt.Errorf("energy needs state class total or total_increasing")
		}
		if e.DeviceClass == "enum" && len(e.Options) == 0 {
			return fmt.Errorf("enum sensor needs options")
		}
		if e.Writable {
			return fmt.Errorf("a sensor cannot be writable")
		}
	case BinarySensor, Camera, Image, Event:
		if e.Writable {
			return fmt.Errorf("a %s cannot be writable", e.Platform)
		}
		if e.Platform == Event && len(e.Options) == 0 {
			return fmt.Errorf("event needs event types in options")
		}
	case Select, AlarmControlPanel:
		if len(e.Options) == 0 {
			return fmt.Errorf("%s needs options", e.Platform)
		}
		if !e.Writable {
			return fmt.Errorf("a %s must be writable (Home Assistant requires a command topic)", e.Platform)
		}
	case Number:
		if !e.HasRange || e.Min >= e.Max || e.Step < 0 {
			return fmt.Errorf("number needs min < max and step ≥ 0")
		}
		if !e.Writable {
			return fmt.Errorf("a number must be writable (use a sensor for a read-only value)")
		}
	case Button:
		if !e.Writable {
			return fmt.Errorf("a button must be writable")
		}
	case Light:
		if e.Light == nil || len(e.Light.ColorModes) == 0 {
			return fmt.Errorf("light needs color modes")
		}
		for _, m := range e.Light.ColorModes {
			if (m == "onoff" || m == "brightness") && len(e.Light.ColorModes) > 1 {
				return fmt.Errorf("color mode %s must be the only one", m)
			}
		}
		if e.Light.Supports("color_temp") && (e.Light.MinKelvin <= 0 || e.Light.MaxKelvin <= e.Light.MinKelvin) {
			return fmt.Errorf("color_temp light needs min_kelvin < max_kelvin")
		}
	case Cover:
		if e.Cover == nil {
			return fmt.Errorf("cover needs a cover spec")
		}
	case Fan:
		if e.Fan == nil {
			return fmt.Errorf("fan needs a fan spec")
		}
	case Switch, Update:
	default:
		return fmt.Errorf("unknown platform %q", e.Platform)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
