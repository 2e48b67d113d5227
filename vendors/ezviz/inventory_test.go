package ezviz_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

func keys(d vendors.Device) string {
	var ks []string
	for _, e := range d.Entities {
		ks = append(ks, e.Key)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// TestInventoryFollowsCapabilities: each fixture offers exactly the entities
// its capabilities (and the endpoints it answers) allow.
func TestInventoryFollowsCapabilities(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{})
	devs := r.inventory()
	want := map[string]string{
		ezvizsim.IndoorPTZ:  "alarm_sound audio camera firmware ir_light motion motion_detection preset_1 preset_2 preset_3 preset_4 privacy prompt_sound ptz_down ptz_left ptz_right ptz_up sd_card signal",
		ezvizsim.Outdoor:    "alarm_sound audio camera firmware ir_light motion motion_detection prompt_sound signal",
		ezvizsim.Doorbell:   "battery camera doorbell firmware motion motion_detection signal sleeping",
		ezvizsim.NVR:        "firmware motion_detection",
		ezvizsim.NVR + "_1": "camera motion privacy",
		ezvizsim.NVR + "_2": "camera motion",
		ezvizsim.AlarmHub:   "alarm contact firmware gas smoke water",
	}
	if len(devs) != len(want) {
		t.Errorf("got %d devices, want %d", len(devs), len(want))
	}
	for id, w := range want {
		d, ok := devs[id]
		if !ok {
			t.Errorf("device %s missing", id)
			continue
		}
		if got := keys(d); got != w {
			t.Errorf("%s entities:\n got  %s\n want %s", id, got, w)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	for _, ch := range []string{"_1", "_2"} {
		if v := devs[ezvizsim.NVR+ch].Via; v != ezvizsim.NVR {
			t.Errorf("channel %s via %q, want the NVR", ch, v)
		}
	}
	if devs[ezvizsim.NVR+"_1"].Name != "Garden" {
		t.Errorf("channel name %q, want the channel's own name", devs[ezvizsim.NVR+"_1"].Name)
	}
	indoor, hub := devs[ezvizsim.IndoorPTZ], devs[ezvizsim.AlarmHub]
	cam, _ := indoor.Entity("camera")
	if cam.Platform != vendors.Camera || cam.ContentType != "image/jpeg" || cam.Name != "" {
		t.Errorf("camera entity %+v", cam)
	}
	panel, _ := hub.Entity("alarm")
	if strings.Join(panel.Options, ",") != "ARM_HOME,ARM_AWAY,DISARM" {
		t.Errorf("alarm panel options %v", panel.Options)
	}
	// First readings arrive with the inventory.
	r.waitValue(ezvizsim.IndoorPTZ, "privacy", vendors.Off)
	r.waitValue(ezvizsim.IndoorPTZ, "sd_card", "ok")
	r.waitValue(ezvizsim.Outdoor, "ir_light", vendors.Off)
	r.waitValue(ezvizsim.Doorbell, "battery", 87)
	r.waitValue(ezvizsim.Doorbell, "sleeping", vendors.Off)
	r.waitValue(ezvizsim.AlarmHub, "alarm", "disarmed")
	r.waitValue(ezvizsim.Outdoor, "firmware", vendors.UpdateState{InstalledVersion: "V5.2.7 build 220601", LatestVersion: "V5.3.2 build 230901"})
}

// TestAvailabilityAndSleep: offline devices and channels, and sleeping
// battery devices, are reported.
func TestAvailabilityAndSleep(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{})
	r.inventory()
	r.rec.WaitFor(t, 5e9, "online", func() bool { o, k := r.rec.Online(ezvizsim.Outdoor); return o && k })
	r.sim.SetOnline(ezvizsim.Outdoor, false)
	r.sim.SetChannelOnline(ezvizsim.NVR, 2, false)
	r.sim.SetAsleep(ezvizsim.Doorbell, true)
	r.rec.WaitFor(t, 5e9, "outdoor offline", func() bool { o, k := r.rec.Online(ezvizsim.Outdoor); return !o && k })
	r.rec.WaitFor(t, 5e9, "channel 2 offline", func() bool { o, k := r.rec.Online(ezvizsim.NVR + "_2"); return !o && k })
	if o, _ := r.rec.Online(ezvizsim.NVR + "_1"); !o {
		t.Error("channel 1 went offline with channel 2")
	}
	r.waitValue(ezvizsim.Doorbell, "sleeping", vendors.On)
	// Offline: refused locally.
	before := len(r.sim.Requests())
	if err := r.exec(ezvizsim.Outdoor, "ir_light", true); vendors.Code(err) != vendors.CodeOffline {
		t.Errorf("command to offline device: %v", err)
	}
	for _, q := range r.sim.Requests()[before:] {
		if q.Serial == ezvizsim.Outdoor {
			t.Errorf("offline command reached the cloud: %s", q.Op)
		}
	}
	// Asleep: the cloud answers 20008.
	if err := r.exec(ezvizsim.Doorbell, "motion_detection", false); vendors.Code(err) != vendors.CodeNoResponse {
		t.Errorf("command to sleeping doorbell: %v (code %s), want DEVICE_NO_RESPONSE", err, vendors.Code(err))
	}
	r.sim.SetOnline(ezvizsim.Outdoor, true)
	r.rec.WaitFor(t, 5e9, "outdoor back", func() bool { o, _ := r.rec.Online(ezvizsim.Outdoor); return o })
}

// TestDeviceRemovedAndAdded: the inventory follows the account.
func TestDeviceRemovedAndAdded(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{})
	r.inventory()
	r.sim.RemoveDevice(ezvizsim.Outdoor)
	r.rec.WaitFor(t, 5e9, "outdoor removed", func() bool { _, ok := r.rec.Devices()[ezvizsim.Outdoor]; return !ok })
	extra := ezvizsim.Fixtures("9")[0]
	r.sim.AddDevice(extra)
	r.rec.WaitFor(t, 5e9, "new camera", func() bool { _, ok := r.rec.Devices()[extra.Serial]; return ok })
}
