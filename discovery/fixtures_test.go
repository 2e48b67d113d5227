package discovery

import (
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

var testConfig = Config{BaseTopic: "cloud2mqtt", Prefix: "homeassistant", Version: "1.2.3"}

// fixture is one device as an adapter would report it, with its golden name.
type fixture struct {
	name     string
	vendor   string
	device   vendors.Device
	override Override
}

func prec(n int) *int { return &n }

// plugEntities is a typical metering plug: 8 entities.
func plugEntities() []vendors.Entity {
	return []vendors.Entity{
		{Key: "switch", Platform: vendors.Switch, DeviceClass: "outlet", Writable: true},
		{Key: "power", Platform: vendors.Sensor, Name: "Power", DeviceClass: "power", Unit: "W", StateClass: "measurement", Precision: prec(1)},
		{Key: "energy", Platform: vendors.Sensor, Name: "Energy", DeviceClass: "energy", Unit: "kWh", StateClass: "total_increasing", Precision: prec(2)},
		{Key: "voltage", Platform: vendors.Sensor, Name: "Voltage", DeviceClass: "voltage", Unit: "V", StateClass: "measurement"},
		{Key: "current", Platform: vendors.Sensor, Name: "Current", DeviceClass: "current", Unit: "A", StateClass: "measurement", Precision: prec(2)},
		{Key: "temperature", Platform: vendors.Sensor, Name: "Device temperature", DeviceClass: "temperature", Unit: "°C", StateClass: "measurement", Category: vendors.CategoryDiagnostic},
		{Key: "rssi", Platform: vendors.Sensor, Name: "Signal strength", DeviceClass: "signal_strength", Unit: "dBm", StateClass: "measurement", Category: vendors.CategoryDiagnostic, DisabledByDefault: true},
		{Key: "restart", Platform: vendors.Button, Name: "Restart", DeviceClass: "restart", Category: vendors.CategoryConfig, Writable: true},
	}
}

func fixtures() []fixture {
	return []fixture{
		{name: "switch_plug", vendor: "ewelink", device: vendors.Device{
			ID: "1000abcdef", Name: "Kitchen plug", Manufacturer: "SONOFF", Model: "S40", SWVersion: "1.4.2",
			Entities: plugEntities(),
		}},
		{name: "switch_channels", vendor: "shelly", device: vendors.Device{
			ID: "shellyplus2pm-a8032ab12345", Name: "Hall", Manufacturer: "Shelly", Model: "Plus 2PM", ModelID: "SNSW-102P16EU",
			MAC: "A8:03:2A:B1:23:45",
			Entities: []vendors.Entity{
				{Key: "switch_0", Platform: vendors.Switch, Name: "Channel 1", Writable: true},
				{Key: "switch_1", Platform: vendors.Switch, Name: "Hall channel 2", Writable: true}, // repeats the device name
				{Key: "power_0", Platform: vendors.Sensor, Name: "Power 1", DeviceClass: "power", Unit: "W", StateClass: "measurement"},
			},
		}},
		{name: "light_onoff", vendor: "ewelink", device: vendors.Device{
			ID: "1000light01", Name: "Porch light",
			Entities: []vendors.Entity{{Key: "light", Platform: vendors.Light, Writable: true, Light: &vendors.LightSpec{ColorModes: []string{"onoff"}}}},
		}},
		{name: "light_brightness", vendor: "shelly", device: vendors.Device{
			ID: "dimmer2-40f520000001", Name: "Dimmer",
			Entities: []vendors.Entity{{Key: "light", Platform: vendors.Light, Writable: true, Light: &vendors.LightSpec{ColorModes: []string{"brightness"}}}},
		}},
		{name: "light_color", vendor: "ewelink", device: vendors.Device{
			ID: "1000bulb01", Name: "Desk lamp", Manufacturer: "SONOFF", Model: "B05-BL",
			Entities: []vendors.Entity{{Key: "light", Platform: vendors.Light, Writable: true, Light: &vendors.LightSpec{
				ColorModes: []string{"color_temp", "rgb"}, MinKelvin: 2700, MaxKelvin: 6500, Effects: []string{"Colorful", "Breath", "Flash"},
			}}},
		}},
		{name: "cover_position", vendor: "shelly", device: vendors.Device{
			ID: "shellyplus2pm-cover01", Name: "Living room blind",
			Entities: []vendors.Entity{{Key: "cover", Platform: vendors.Cover, DeviceClass: "shutter", Writable: true,
				Cover: &vendors.CoverSpec{PositionKey: "position", TiltKey: "tilt", CanStop: true}}},
		}},
		{name: "cover_nostop", vendor: "ewelink", device: vendors.Device{
			ID: "1000garage", Name: "Garage door",
			Entities: []vendors.Entity{{Key: "cover", Platform: vendors.Cover, DeviceClass: "garage", Writable: true, Cover: &vendors.CoverSpec{}}},
		}},
		{name: "fan", vendor: "ewelink", device: vendors.Device{
			ID: "1000fan01", Name: "Ceiling fan", Model: "IFAN03",
			Entities: []vendors.Entity{
				{Key: "fan", Platform: vendors.Fan, Writable: true, Fan: &vendors.FanSpec{
					PercentageKey: "speed", SpeedCount: 3, PresetKey: "fan_mode", PresetModes: []string{"auto", "sleep"}}},
				{Key: "fan_light", Platform: vendors.Light, Name: "Light", Writable: true, Light: &vendors.LightSpec{ColorModes: []string{"onoff"}}},
			},
		}},
		{name: "fan_percent", vendor: "shelly", device: vendors.Device{
			ID: "fan-percent", Name: "Air purifier",
			Entities: []vendors.Entity{{Key: "fan", Platform: vendors.Fan, Writable: true, Fan: &vendors.FanSpec{PercentageKey: "speed"}}},
		}},
		{name: "sensors", vendor: "ewelink", device: vendors.Device{
			ID: "1000th01", Name: "Bedroom climate", Manufacturer: "SONOFF", Model: "SNZB-02",
			Entities: []vendors.Entity{
				{Key: "temperature", Platform: vendors.Sensor, Name: "Temperature", DeviceClass: "temperature", Unit: "°C", StateClass: "measurement", Precision: prec(1)},
				{Key: "humidity", Platform: vendors.Sensor, Name: "Humidity", DeviceClass: "humidity", Unit: "%", StateClass: "measurement"},
				{Key: "battery", Platform: vendors.Sensor, Name: "Battery", DeviceClass: "battery", Unit: "%", StateClass: "measurement", Category: vendors.CategoryConfig},
				{Key: "window", Platform: vendors.BinarySensor, Name: "Window", DeviceClass: "window"},
				{Key: "leak", Platform: vendors.BinarySensor, Name: "Leak", DeviceClass: "moisture"},
				{Key: "comfort", Platform: vendors.Sensor, Name: "Comfort", DeviceClass: "enum", Options: []string{"dry", "comfortable", "wet"}},
				{Key: "last_seen", Platform: vendors.Sensor, Name: "Last seen", DeviceClass: "timestamp", Category: vendors.CategoryDiagnostic, DisabledByDefault: true, Icon: "mdi:clock-outline"},
			},
		}},
		{name: "controls", vendor: "shelly", device: vendors.Device{
			ID: "thermostat-01", Name: "Radiator",
			Entities: []vendors.Entity{
				{Key: "target", Platform: vendors.Number, Name: "Target temperature", DeviceClass: "temperature", Unit: "°C", Writable: true, Min: 5, Max: 30, Step: 0.5, HasRange: true},
				{Key: "offset", Platform: vendors.Number, Name: "Offset", Category: vendors.CategoryConfig, Writable: true, Min: -5, Max: 5, HasRange: true},
				{Key: "mode", Platform: vendors.Select, Name: "Mode", Writable: true, Options: []string{"auto", "manual", "boost"}},
				{Key: "calibrate", Platform: vendors.Button, Name: "Calibrate", Writable: true},
			},
		}},
		{name: "doorbell", vendor: "ezviz", device: vendors.Device{
			ID: "BD1234567", Name: "Front door", Manufacturer: "EZVIZ", Model: "DB1C", Serial: "BD1234567",
			Entities: []vendors.Entity{
				{Key: "ring", Platform: vendors.Event, DeviceClass: "doorbell", Options: []string{"ring"}},
				{Key: "motion", Platform: vendors.Event, Name: "Motion", DeviceClass: "motion", Options: []string{"motion", "human"}},
			},
		}},
		{name: "camera", vendor: "ezviz", device: vendors.Device{
			ID: "C6N-D12345678", Name: "Garden camera", Manufacturer: "EZVIZ", Model: "C6N", HWVersion: "V2",
			Entities: []vendors.Entity{
				{Key: "snapshot", Platform: vendors.Camera},
				{Key: "last_alarm", Platform: vendors.Image, Name: "Last alarm"},
				{Key: "last_motion", Platform: vendors.Image, Name: "Last motion", ContentType: "image/jpeg"},
				{Key: "privacy", Platform: vendors.Switch, Name: "Privacy mode", Icon: "mdi:eye-off", Writable: true},
			},
		}},
		{name: "update", vendor: "shelly", device: vendors.Device{
			ID: "shellyplus1-update", Name: "Boiler relay", SWVersion: "1.3.0",
			Entities: []vendors.Entity{
				{Key: "switch", Platform: vendors.Switch, Writable: true},
				{Key: "firmware", Platform: vendors.Update, Name: "Firmware", Category: vendors.CategoryConfig, Writable: true},
			},
		}},
		{name: "alarm", vendor: "ezviz", device: vendors.Device{
			ID: "A1S-98765", Name: "Alarm hub", Manufacturer: "EZVIZ",
			Entities: []vendors.Entity{{Key: "alarm", Platform: vendors.AlarmControlPanel, Writable: true,
				Options: []string{"ARM_HOME", "ARM_AWAY", "DISARM", "TRIGGER"}}},
		}},
		{name: "via", vendor: "ezviz", device: vendors.Device{
			ID: "NVR123-ch2", Name: "Driveway", Manufacturer: "EZVIZ", Via: "NVR123",
			Entities: []vendors.Entity{{Key: "snapshot", Platform: vendors.Camera}, {Key: "motion", Platform: vendors.BinarySensor, Name: "Motion", DeviceClass: "motion"}},
		}},
		{name: "override", vendor: "expeed", device: vendors.Device{
			ID: "panel/7:lobby", Name: "Door station 7", Manufacturer: "expeed", Model: "EP-7", ModelID: "ep7-v2",
			SWVersion: "4.1", HWVersion: "rev B", Serial: "EXP-0007", MAC: "00:1a:2b:3c:4d:5e",
			Entities: []vendors.Entity{{Key: "door", Platform: vendors.Switch, Name: "Door opener", Icon: "mdi:door", Writable: true}},
		}, override: Override{Name: "Lobby entrance", Area: "Lobby"}},
	}
}

var bridgeAccounts = []Account{{Vendor: "ewelink", Name: "home"}, {Vendor: "shelly", Name: "Cottage 'north'"}}
