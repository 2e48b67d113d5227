package vendors

// Platform is the Home Assistant MQTT platform an entity is exposed as.
type Platform string

const (
	Sensor            Platform = "sensor"
	BinarySensor      Platform = "binary_sensor"
	Switch            Platform = "switch"
	Light             Platform = "light"
	Cover             Platform = "cover"
	Fan               Platform = "fan"
	Number            Platform = "number"
	Select            Platform = "select"
	Button            Platform = "button"
	Event             Platform = "event"
	Camera            Platform = "camera"
	Image             Platform = "image"
	Update            Platform = "update"
	AlarmControlPanel Platform = "alarm_control_panel"
)

// Entity categories.
const (
	CategoryConfig     = "config"
	CategoryDiagnostic = "diagnostic"
)

// State values shared by adapters and the bridge.
const (
	On  = "ON"
	Off = "OFF"
)

// Device is one physical (or logical) device as a cloud reports it, normalized.
// ID is the vendor's own id; the bridge scopes it by vendor.
type Device struct {
	ID           string
	Name         string
	Manufacturer string
	Model        string
	ModelID      string
	SWVersion    string
	HWVersion    string
	Serial       string
	MAC          string
	// Via is the vendor id of the device this one is reached through (an NVR for
	// its channels, a Zigbee gateway for its sub-devices); empty for the bridge.
	Via      string
	Entities []Entity
}

// Entity returns the entity with the given key.
func (d *Device) Entity(key string) (*Entity, bool) {
	for i := range d.Entities {
		if d.Entities[i].Key == key {
			return &d.Entities[i], true
		}
	}
	return nil, false
}

// Entity is one feature of a device. Key names it in the device's JSON state and
// in command topics; it matches [a-z0-9_]+ and is never one of the reserved
// topic words (availability, set, get, result).
type Entity struct {
	Key      string
	Platform Platform
	// Name is shown after the device name in Home Assistant; empty marks the
	// device's main entity (discovery sends name: null).
	Name              string
	DeviceClass       string
	Unit              string
	StateClass        string
	Category          string
	Icon              string
	Writable          bool
	DisabledByDefault bool
	// Precision is the suggested display precision (sensors); nil leaves it to HA.
	Precision *int
	// Options are the choices of a select, the event types of an event entity,
	// the values of an enum sensor, or the supported commands of an alarm panel
	// (ARM_HOME, ARM_AWAY, ARM_NIGHT, ARM_VACATION, DISARM).
	Options []string
	// Min, Max and Step bound a number; HasRange says they are set.
	Min, Max, Step float64
	HasRange       bool
	// ContentType of camera/image entities (default image/jpeg).
	ContentType string

	Light *LightSpec
	Cover *CoverSpec
	Fan   *FanSpec
}

// LightSpec describes a JSON-schema light.
type LightSpec struct {
	// ColorModes as Home Assistant names them: onoff, brightness, color_temp,
	// hs, rgb, rgbw, white. onoff or brightness must be the only mode if used.
	ColorModes []string
	MinKelvin  int
	MaxKelvin  int
	Effects    []string
}

// Supports reports whether the light has the colour mode.
func (l *LightSpec) Supports(mode string) bool {
	for _, m := range l.ColorModes {
		if m == mode {
			return true
		}
	}
	return false
}

// CoverSpec describes a cover. The cover state (open/opening/closed/closing/
// stopped) lives under the entity key; the position (0–100, 100 = open) under
// PositionKey when the cover reports one.
type CoverSpec struct {
	PositionKey string
	TiltKey     string
	CanStop     bool
}

// FanSpec describes a fan. On/off lives under the entity key; the speed as a
// percentage under PercentageKey, a preset under PresetKey.
type FanSpec struct {
	PercentageKey string
	SpeedCount    int
	PresetKey     string
	PresetModes   []string
}

// Cover states.
const (
	CoverOpen    = "open"
	CoverOpening = "opening"
	CoverClosed  = "closed"
	CoverClosing = "closing"
	CoverStopped = "stopped"
)

// LightState is a light's state in Home Assistant's JSON-schema form.
type LightState struct {
	State      string `json:"state"`
	Brightness *int   `json:"brightness,omitempty"`
	ColorMode  string `json:"color_mode,omitempty"`
	ColorTemp  *int   `json:"color_temp,omitempty"` // kelvin
	Color      *Color `json:"color,omitempty"`
	Effect     string `json:"effect,omitempty"`
}

// Color is an RGB(W) colour, or hue/saturation for hs lights.
type Color struct {
	R int      `json:"r"`
	G int      `json:"g"`
	B int      `json:"b"`
	W *int     `json:"w,omitempty"`
	H *float64 `json:"h,omitempty"`
	S *float64 `json:"s,omitempty"`
}

// UpdateState is the state of a firmware update entity.
type UpdateState struct {
	InstalledVersion string `json:"installed_version"`
	LatestVersion    string `json:"latest_version"`
	InProgress       bool   `json:"in_progress"`
	Percentage       *int   `json:"update_percentage"`
}

// IntPtr is a convenience for the optional ints of the state types.
func IntPtr(v int) *int { return &v }

var reservedKeys = map[string]bool{"availability": true, "set": true, "get": true, "result": true}

// ValidKey reports whether s can be an entity key.
// It runs for every entity of every mapped report, so it is a loop, not a regexp.
func ValidKey(s string) bool {
	if s == "" || reservedKeys[s] {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
