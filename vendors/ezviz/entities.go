package ezviz

import (
	"fmt"
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Entity keys. They are stable: Home Assistant entity ids derive from them.
const (
	keyCamera          = "camera"
	keyMotion          = "motion"
	keyMotionDetection = "motion_detection"
	keyAlarm           = "alarm"
	keyPrivacy         = "privacy"
	keyIRLight         = "ir_light"
	keyAudio           = "audio"
	keyPromptSound     = "prompt_sound"
	keyAlarmSound      = "alarm_sound"
	keyBattery         = "battery"
	keySignal          = "signal"
	keySDCard          = "sd_card"
	keySleeping        = "sleeping"
	keyFirmware        = "firmware"
	keyDoorbell        = "doorbell"
	keyContact         = "contact"
	keySmoke           = "smoke"
	keyGas             = "gas"
	keyWater           = "water"
	presetPrefix       = "preset_"
)

// Alarm panel states (Home Assistant's) and the EZVIZ protection modes they
// stand for: disarm = at home (8), arm home = sleep (0), arm away = away (16),
// as Home Assistant's own EZVIZ integration maps them.
var (
	panelOptions = []string{"ARM_HOME", "ARM_AWAY", "DISARM"}
	panelToMode  = map[string]int{"ARM_HOME": 0, "ARM_AWAY": 16, "DISARM": 8}
	modeToState  = map[int64]string{0: "armed_home", 16: "armed_away", 8: "disarmed"}
)

// Alarm sound modes (alarmSoundMode / alarm/sound/set type).
var alarmSoundOptions = []string{"short", "long", "mute"}

// SD card states, one character per slot in diskState.
var sdOptions = []string{"ok", "error", "unformatted", "formatting", "none"}

// ptzButton is one PTZ direction button.
type ptzButton struct {
	key, name string
	direction int
	capFlag   string // capability flag that must be "1"
}

var ptzButtons = []ptzButton{
	{"ptz_up", "PTZ up", 0, "ptz_top_bottom"},
	{"ptz_down", "PTZ down", 1, "ptz_top_bottom"},
	{"ptz_left", "PTZ left", 2, "ptz_left_right"},
	{"ptz_right", "PTZ right", 3, "ptz_left_right"},
	{"ptz_zoom_in", "Zoom in", 8, "ptz_zoom"},
	{"ptz_zoom_out", "Zoom out", 9, "ptz_zoom"},
}

// eventKinds maps an event entity to its alarm types (protocol reference
// §5.12) and the hub detector types that produce it.
var eventKinds = []struct {
	key, name   string
	eventType   string
	deviceClass string
	alarmTypes  []int64
	detectors   []string
}{
	{keyDoorbell, "Doorbell", "ring", "doorbell", []int64{10016}, nil},
	{keyContact, "Contact", "alarm", "", []int64{10004, 10019}, []string{"MAGNETOMETER", "MOVE_MAGNETOMETER"}},
	{keySmoke, "Smoke", "alarm", "", []int64{10005}, []string{"FIRE"}},
	{keyGas, "Gas", "alarm", "", []int64{10006}, []string{"GAS"}},
	{keyWater, "Water leak", "alarm", "", []int64{10008}, []string{"WATERLOGGING"}},
}

// motionAlarmTypes are the alarm types that mean motion on a camera.
var motionAlarmTypes = map[int64]bool{10000: true, 10002: true, 10010: true, 10013: true, 10014: true, 12000: true}

func sw(key, name, category, icon string, disabled bool) vendors.Entity {
	return vendors.Entity{Key: key, Platform: vendors.Switch, Name: name, Category: category, Icon: icon, Writable: true, DisabledByDefault: disabled}
}

func presetKey(n int) string { return presetPrefix + strconv.Itoa(n) }

func presetEntity(n int) vendors.Entity {
	return vendors.Entity{Key: presetKey(n), Platform: vendors.Button, Name: fmt.Sprintf("Preset %d", n), Icon: "mdi:cctv", Writable: true}
}

func on(b bool) string {
	if b {
		return vendors.On
	}
	return vendors.Off
}

// capOn reports a capability flag set to "1".
func capOn(caps map[string]string, flag string) bool { return caps[flag] == "1" }

// sdState summarizes diskState (one character per slot, '-' empty).
func sdState(disk string) string {
	state := "none"
	for _, c := range disk {
		switch c {
		case '0':
			if state == "none" {
				state = "ok"
			}
		case '1':
			return "error"
		case '2':
			state = "unformatted"
		case '3':
			state = "formatting"
		}
	}
	return state
}
