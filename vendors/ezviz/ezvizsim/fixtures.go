package ezvizsim

import "time"

// Device is one simulated EZVIZ device. Fields are read and changed under
// the simulator's lock; use the Sim methods from outside.
type Device struct {
	Serial   string
	Name     string
	Model    string
	Category string // parentCategory: IPC, NVR, A1, BatteryDoorbell...
	// UserOwned devices belong to another EZVIZ user: the app reaches them
	// only after that user trusts them to the app.
	UserOwned bool
	Trusted   bool
	TrustID   string
	Online    bool
	Asleep    bool
	// Defence is 0/1 on cameras, 0 sleep / 8 home / 16 away on hubs.
	Defence    int
	Version    string
	Latest     string
	Caps       map[string]string
	Channels   []*Channel
	AlarmSound int
	// PromptSound is 0/1, or -1 when the device has none (60020).
	PromptSound int
	Battery     int // -1 not reported
	Signal      int // -1 not reported
	DiskState   string
	Detectors   []Detector
	Presets     map[int]bool

	upgradeStart time.Time
	upgrading    bool
}

// Channel is one camera channel (channel 1 of a camera, or an NVR input).
type Channel struct {
	No      int
	Name    string
	Online  bool
	Caps    map[string]string
	Privacy int
	// IR and Audio are 0/1, -1 when unsupported.
	IR    int
	Audio int

	lastCapture time.Time
	ptzActive   bool
	ptzDir      int
	// Pan is where the head points (moved by PTZ and presets).
	Pan int
}

// Detector is one alarm hub detector.
type Detector struct {
	Serial   string
	Type     string // MAGNETOMETER, FIRE, GAS, WATERLOGGING, PIR, ...
	Location string
}

func (d *Device) init() {
	if d.Caps == nil {
		d.Caps = map[string]string{}
	}
	if d.Presets == nil {
		d.Presets = map[int]bool{}
	}
	for _, c := range d.Channels {
		if c.Caps == nil {
			c.Caps = d.Caps
		}
	}
}

func (d *Device) channel(no int) *Channel {
	for _, c := range d.Channels {
		if c.No == no {
			return c
		}
	}
	return nil
}

func (d *Device) hub() bool { return d.Caps["support_protection_mode"] == "1" }

// Fixture serials (suffix "" for the first set).
const (
	IndoorPTZ = "C6N100001"
	Outdoor   = "C3X200002"
	Doorbell  = "DB1300003"
	NVR       = "N4K400004"
	AlarmHub  = "A1H500005"
)

// Fixtures returns the standard devices: an indoor PTZ camera, an outdoor
// camera, a battery doorbell, an NVR with two channels and an alarm hub.
// suffix is appended to serials (and names) to scale the set.
func Fixtures(suffix string) []*Device {
	caps := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	name := func(n string) string {
		if suffix == "" {
			return n
		}
		return n + " " + suffix
	}
	indoor := &Device{
		Serial: IndoorPTZ + suffix, Name: name("Living room"), Model: "CS-C6N-A0-1C2WFR", Category: "IPC",
		Online: true, Defence: 1, Version: "V5.3.0 build 230215", Latest: "V5.3.0 build 230215",
		Caps: caps("support_capture", "1", "support_defence", "1", "support_privacy", "1",
			"support_close_infrared_light", "1", "support_audio_onoff", "1", "support_alarm_voice", "1",
			"support_upgrade", "1", "support_ptz", "1", "ptz_top_bottom", "1", "ptz_left_right", "1",
			"ptz_zoom", "0", "ptz_preset", "1", "support_talk", "1", "support_encrypt", "1"),
		Channels:   []*Channel{{No: 1, Name: name("Living room"), Online: true, IR: 1, Audio: 1}},
		AlarmSound: 0, PromptSound: 1, Battery: -1, Signal: 82, DiskState: "0---------------",
		Presets: map[int]bool{1: true, 2: true, 3: true, 4: true},
	}
	outdoor := &Device{
		Serial: Outdoor + suffix, Name: name("Driveway"), Model: "CS-C3X", Category: "IPC",
		Online: true, Defence: 0, Version: "V5.2.7 build 220601", Latest: "V5.3.2 build 230901",
		Caps: caps("support_capture", "1", "support_defence", "1", "support_close_infrared_light", "1",
			"support_audio_onoff", "1", "support_alarm_voice", "1", "support_upgrade", "1", "support_ptz", "0",
			"support_privacy", "0"),
		Channels:   []*Channel{{No: 1, Name: name("Driveway"), Online: true, IR: 0, Audio: 1}},
		AlarmSound: 1, PromptSound: 0, Battery: -1, Signal: 64, DiskState: "",
	}
	doorbell := &Device{
		Serial: Doorbell + suffix, Name: name("Front door"), Model: "CS-DB2", Category: "BatteryDoorbell",
		Online: true, Defence: 1, Version: "V5.1.4 build 221020", Latest: "V5.1.4 build 221020",
		Caps: caps("support_capture", "1", "support_pir_detect", "1", "support_defence", "1",
			"support_battery_manage", "1", "support_sleep", "1", "support_chime", "1", "support_talk", "1",
			"support_upgrade", "1"),
		Channels:   []*Channel{{No: 1, Name: name("Front door"), Online: true, IR: -1, Audio: -1}},
		AlarmSound: 0, PromptSound: -1, Battery: 87, Signal: 71,
	}
	nvr := &Device{
		Serial: NVR + suffix, Name: name("Recorder"), Model: "CS-X5S-8W", Category: "NVR",
		Online: true, Defence: 1, Version: "V4.1.0 build 210512", Latest: "V4.1.0 build 210512",
		Caps: caps("support_defence", "1", "support_upgrade", "1", "support_capture", "0"),
		Channels: []*Channel{
			{No: 1, Name: name("Garden"), Online: true, IR: -1, Audio: -1,
				Caps: caps("support_capture", "1", "support_defence", "1", "support_privacy", "1")},
			{No: 2, Name: name("Garage"), Online: true, IR: -1, Audio: -1,
				Caps: caps("support_capture", "1", "support_defence", "1")},
		},
		PromptSound: -1, Battery: -1, Signal: -1, DiskState: "00",
	}
	hub := &Device{
		Serial: AlarmHub + suffix, Name: name("Alarm hub"), Model: "CS-A1-32W", Category: "A1",
		Online: true, Defence: 8, Version: "V1.2.0 build 200101", Latest: "V1.2.0 build 200101",
		Caps:        caps("support_defence", "1", "support_protection_mode", "1", "support_upgrade", "1"),
		PromptSound: -1, Battery: -1, Signal: -1,
		Detectors: []Detector{
			{Serial: "Q1" + suffix, Type: "MAGNETOMETER", Location: "Front door contact"},
			{Serial: "Q2" + suffix, Type: "FIRE", Location: "Kitchen smoke"},
			{Serial: "Q3" + suffix, Type: "GAS", Location: "Boiler gas"},
			{Serial: "Q4" + suffix, Type: "WATERLOGGING", Location: "Laundry leak"},
			{Serial: "Q5" + suffix, Type: "PIR", Location: "Hall motion"},
		},
	}
	return []*Device{indoor, outdoor, doorbell, nvr, hub}
}
