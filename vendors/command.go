package vendors

// Command is one validated command for one entity. The bridge checks it against
// the entity before an adapter sees it, so adapters can trust the value's type:
//
//	switch              bool (true = on; TOGGLE is resolved from the known state)
//	light               LightCommand
//	cover               CoverCommand
//	fan                 FanCommand
//	number              float64 (within Min..Max)
//	select              string (one of Options)
//	button              nil
//	alarm_control_panel string (one of Options)
//	update              nil (install)
type Command struct {
	DeviceID string
	Key      string
	Value    any
}

// LightCommand is a JSON-schema light command; nil fields are left as they are.
type LightCommand struct {
	On         *bool
	Brightness *int // 0–255
	ColorTemp  *int // kelvin
	Color      *Color
	Effect     string
	Transition *float64
}

// CoverCommand is exactly one of Action (OPEN, CLOSE, STOP), Position or Tilt (0–100).
type CoverCommand struct {
	Action   string
	Position *int
	Tilt     *int
}

// Cover actions.
const (
	CoverActionOpen  = "OPEN"
	CoverActionClose = "CLOSE"
	CoverActionStop  = "STOP"
)

// FanCommand sets a fan's power, speed percentage or preset; nil fields are left as they are.
type FanCommand struct {
	On         *bool
	Percentage *int
	Preset     string
}
