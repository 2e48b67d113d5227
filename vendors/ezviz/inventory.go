package ezviz

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

type devKind int

const (
	kindCamera  devKind = iota // a single-channel camera or doorbell
	kindNVR                    // a recorder; its channels are devices of their own
	kindChannel                // one NVR channel
	kindHub                    // an alarm hub with protection modes
)

// device is one bridged device: a camera, a doorbell, an NVR, one NVR
// channel, or an alarm hub.
type device struct {
	id       string
	serial   string
	channel  int // the camera channel; 0 for NVRs and hubs
	kind     devKind
	trusted  bool
	name     string
	model    string
	version  string
	via      string
	caps     map[string]string
	entities []vendors.Entity
	// settings are the switch keys read from their own endpoints.
	settings []string
}

func (d *device) has(key string) bool {
	_, ok := d.Entity(key)
	return ok
}

// Entity finds an entity by key.
func (d *device) Entity(key string) (*vendors.Entity, bool) {
	for i := range d.entities {
		if d.entities[i].Key == key {
			return &d.entities[i], true
		}
	}
	return nil, false
}

func (d *device) token() tokenKind {
	if d.trusted {
		return kindTrust
	}
	return kindApp
}

// statusBacked reports entities whose value comes from status/get.
func (d *device) statusBacked() bool {
	for _, k := range []string{keyPrivacy, keyAlarmSound, keyBattery, keySignal, keySDCard, keySleeping} {
		if d.has(k) {
			return true
		}
	}
	return false
}

// discovery is what the bridge learned once about a serial: capabilities,
// channels, detectors and the first readings that decide which entities
// exist. Incomplete discoveries (device offline) are repeated.
type discovery struct {
	caps      map[string]string
	hub, nvr  bool
	channels  []channelItem
	chanCaps  map[int]map[string]string
	detectors []detectorItem
	status    map[int]*statusData
	settings  map[int]map[string]bool
	version   *versionData
	// info is device/info of a trusted device (the trust list has no model).
	info     *deviceItem
	complete bool
	// An incomplete discovery is repeated when the device comes online or
	// at retryAt; a complete one when the firmware changed.
	retryAt       time.Time
	wasOnline     bool
	listedVersion string
}

// due reports whether a serial's discovery should run again.
func (d *discovery) due(l *listed, now time.Time) bool {
	online := l.item.Status.V == 1
	if d.complete {
		return l.item.Version != "" && d.listedVersion != "" && l.item.Version != d.listedVersion
	}
	return online && (!d.wasOnline || !now.Before(d.retryAt))
}

// listed is one serial from the device lists.
type listed struct {
	item     deviceItem
	trusted  bool
	channels map[int]trustItem
}

const pageSize = 50

// maxPages bounds one listing (EZVIZ allows 400 pages; a home has few).
const maxPages = 40

// listPages pages through a list endpoint.
func (a *Adapter) listPages(ctx context.Context, kind tokenKind, path, op string, extra url.Values, p vendorkit.Priority, each func(env *envelope) (int, error)) error {
	for page := 0; page < maxPages; page++ {
		form := url.Values{"pageStart": {strconv.Itoa(page)}, "pageSize": {strconv.Itoa(pageSize)}}
		for k, v := range extra {
			form[k] = v
		}
		env, err := a.api.call(ctx, kind, path, op, form, p)
		if err != nil {
			return err
		}
		n, err := each(env)
		if err != nil {
			return &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz " + op, Err: err}
		}
		if n < pageSize || env.Page == nil || int64((page+1)*pageSize) >= env.Page.Total.V {
			return nil
		}
	}
	return nil
}

// pollList reads the device lists, discovers new devices, updates the
// inventory and publishes online state, arming and firmware.
func (a *Adapter) pollList(ctx context.Context, p vendorkit.Priority) error {
	var all []*listed
	bySerial := map[string]*listed{}
	err := a.listPages(ctx, kindApp, "/api/lapp/device/list", "device_list", nil, p, func(env *envelope) (int, error) {
		items, err := decodeDeviceList(env)
		for _, it := range items {
			it.Serial = strings.ToUpper(strings.TrimSpace(it.Serial))
			if !validSerial(it.Serial) || bySerial[it.Serial] != nil {
				continue
			}
			l := &listed{item: it}
			bySerial[it.Serial] = l
			all = append(all, l)
		}
		return len(items), err
	})
	if err != nil {
		return err
	}
	if a.cfg.Mode == modeTrust {
		trusted := 0
		err := a.listPages(ctx, kindTrust, "/api/lapp/trust/device/list", "trust_device_list", url.Values{"version": {"3.0"}}, p, func(env *envelope) (int, error) {
			items, err := decodeTrustList(env)
			for _, it := range items {
				serial := strings.ToUpper(strings.TrimSpace(it.Serial))
				if !validSerial(serial) {
					continue
				}
				trusted++
				l := bySerial[serial]
				if l == nil {
					l = &listed{item: deviceItem{Serial: serial, Name: firstNonEmpty(it.CustomName, it.DeviceName, serial), Status: it.Status}, trusted: true, channels: map[int]trustItem{}}
					bySerial[serial] = l
					all = append(all, l)
				}
				if l.trusted {
					l.channels[int(it.ChannelNo.or(1))] = it
					if it.Status.V == 1 {
						l.item.Status = it.Status
					}
				}
			}
			return len(items), err
		})
		if err != nil {
			return err
		}
		a.mu.Lock()
		changed := (a.trusted == 0) != (trusted == 0)
		a.trusted = trusted
		sink := a.sink
		a.mu.Unlock()
		if changed && sink != nil {
			sink.Status(a.statusValue(vendors.StateConnected, ""))
		}
	}

	var fresh []string
	for _, l := range all {
		a.mu.Lock()
		d := a.disc[l.item.Serial]
		a.mu.Unlock()
		if d != nil && !d.due(l, a.now()) {
			continue
		}
		nd, err := a.discover(ctx, l, p)
		if err != nil && accountLevel(err) {
			return err
		}
		if err != nil {
			a.log.Warn().Err(err).Str("device", l.item.Serial).Msg("ezviz discovery incomplete")
		}
		if nd != nil {
			nd.listedVersion = l.item.Version
			nd.wasOnline = l.item.Status.V == 1
			if !nd.complete {
				nd.retryAt = a.now().Add(a.cfg.SettingsInterval)
			}
			a.mu.Lock()
			a.disc[l.item.Serial] = nd
			a.mu.Unlock()
			fresh = append(fresh, l.item.Serial)
		}
	}
	// Channel status of recorders (one call per NVR).
	chanOnline := map[string]bool{}
	for _, l := range all {
		a.mu.Lock()
		d := a.disc[l.item.Serial]
		a.mu.Unlock()
		if d == nil || !d.nvr {
			continue
		}
		if l.trusted {
			for ch, it := range l.channels {
				chanOnline[channelID(l.item.Serial, ch)] = it.Status.V == 1
			}
			continue
		}
		if l.item.Status.V != 1 {
			continue
		}
		chans, err := a.cameraList(ctx, l, p)
		if err != nil {
			if accountLevel(err) {
				return err
			}
			continue
		}
		for _, c := range chans {
			chanOnline[channelID(l.item.Serial, int(c.ChannelNo.V))] = c.Status.V == 1
		}
	}
	a.applyInventory(all, chanOnline)
	a.publishListed(all, chanOnline)
	for _, serial := range fresh {
		a.publishDiscovered(serial)
	}
	return nil
}

// publishDiscovered sends the readings discovery made, so a new device has
// its state at once rather than at the next status or settings poll.
func (a *Adapter) publishDiscovered(serial string) {
	a.mu.Lock()
	disc := a.disc[serial]
	var devs []*device
	for _, id := range a.order {
		if d := a.devices[id]; d != nil && d.serial == serial {
			devs = append(devs, d)
		}
	}
	a.mu.Unlock()
	if disc == nil {
		return
	}
	for _, d := range devs {
		if d.kind == kindCamera || d.kind == kindChannel {
			vals := map[string]any{}
			if st := disc.status[d.channel]; st != nil {
				vals = statusValues(d, *st)
			}
			for key, v := range disc.settings[d.channel] {
				if d.has(key) {
					vals[key] = on(v)
				}
			}
			a.publish(d.id, vals, true)
		}
		if d.has(keyFirmware) && disc.version != nil {
			a.publishFirmware(d, disc.version)
		}
	}
	a.expireMotion()
}

// discover reads what decides a device's entities. Device-level failures
// leave it incomplete; it is repeated on a later poll.
func (a *Adapter) discover(ctx context.Context, l *listed, p vendorkit.Priority) (*discovery, error) {
	serial := l.item.Serial
	kind := kindApp
	if l.trusted {
		kind = kindTrust
	}
	d := &discovery{chanCaps: map[int]map[string]string{}, status: map[int]*statusData{}, settings: map[int]map[string]bool{}, complete: true}
	caps, err := a.capacity(ctx, kind, serial, 0, p)
	if err != nil {
		return nil, err
	}
	d.caps = caps
	if l.trusted {
		if info, err := a.deviceInfo(ctx, kind, serial, p); err == nil {
			d.info = &info
			l.item = mergeInfo(l.item, info)
		} else if accountLevel(err) {
			return nil, err
		}
	}
	online := l.item.Status.V == 1
	d.hub = capOn(caps, "support_protection_mode")
	if d.hub {
		dets, err := a.detectors(ctx, kind, serial, p)
		if err != nil {
			if accountLevel(err) {
				return nil, err
			}
			d.complete = false
		}
		d.detectors = dets
	} else {
		chans, err := a.cameraList(ctx, l, p)
		if err != nil {
			if accountLevel(err) {
				return nil, err
			}
			d.complete = false
		}
		d.channels = chans
		cat := strings.ToUpper(l.item.ParentCategory)
		d.nvr = cat == "NVR" || cat == "DVR" || len(chans) > 1
	}
	for _, ch := range d.cameraChannels() {
		if d.nvr {
			cc, err := a.capacity(ctx, kind, serial, ch, p)
			if err != nil {
				if accountLevel(err) {
					return nil, err
				}
				d.complete = false
				continue
			}
			d.chanCaps[ch] = cc
		}
		if !online {
			d.complete = false
			continue
		}
		st, err := a.readStatus(ctx, kind, serial, ch, p)
		if err != nil {
			if accountLevel(err) {
				return nil, err
			}
			d.complete = false
		} else {
			d.status[ch] = &st
		}
		set, complete, err := a.probeSettings(ctx, kind, serial, ch, d.capsFor(ch), p)
		if err != nil {
			return nil, err
		}
		d.settings[ch] = set
		d.complete = d.complete && complete
	}
	if capOn(caps, "support_upgrade") && online {
		v, err := a.readVersion(ctx, kind, serial, p)
		if err != nil {
			if accountLevel(err) {
				return nil, err
			}
		} else {
			d.version = &v
		}
	}
	if !online {
		d.complete = false
	}
	return d, nil
}

// cameraChannels lists the channels with a camera: none on a hub, every
// channel of a recorder, channel 1 (or the listed one) of a camera.
func (d *discovery) cameraChannels() []int {
	switch {
	case d.hub:
		return nil
	case d.nvr:
		var out []int
		for _, c := range d.channels {
			if n := int(c.ChannelNo.V); n > 0 {
				out = append(out, n)
			}
		}
		sort.Ints(out)
		return out
	case len(d.channels) == 1 && d.channels[0].ChannelNo.V > 0:
		return []int{int(d.channels[0].ChannelNo.V)}
	}
	return []int{1}
}

func (d *discovery) capsFor(ch int) map[string]string {
	if d.nvr {
		return d.chanCaps[ch]
	}
	return d.caps
}

func (d *discovery) channelName(ch int) string {
	for _, c := range d.channels {
		if int(c.ChannelNo.V) == ch {
			return c.ChannelName
		}
	}
	return ""
}

// settingSpec is one switch with its own status endpoint.
type settingSpec struct {
	key        string
	capFlag    string // "" = no capability flag exists: probe the endpoint
	statusPath string
	setPath    string
}

var settingSpecs = []settingSpec{
	{keyIRLight, "support_close_infrared_light", "/api/lapp/device/infrared/switch/get", "/api/lapp/device/infrared/switch/set"},
	{keyAudio, "support_audio_onoff", "/api/lapp/camera/video/sound/status", "/api/lapp/camera/video/sound/set"},
	{keyPromptSound, "", "/api/lapp/device/sound/switch/status", "/api/lapp/device/sound/switch/set"},
}

func specFor(key string) (settingSpec, bool) {
	for _, s := range settingSpecs {
		if s.key == key {
			return s, true
		}
	}
	return settingSpec{}, false
}

// probeSettings reads the switches a camera channel supports: those its
// capabilities name, and the prompt sound, for which no flag exists, unless
// the cloud answers 60020 (not supported).
func (a *Adapter) probeSettings(ctx context.Context, kind tokenKind, serial string, ch int, caps map[string]string, p vendorkit.Priority) (map[string]bool, bool, error) {
	out := map[string]bool{}
	complete := true
	for _, s := range settingSpecs {
		if s.capFlag != "" && !capOn(caps, s.capFlag) {
			continue
		}
		v, err := a.readSetting(ctx, kind, serial, ch, s, p)
		switch {
		case err == nil:
			out[s.key] = v
		case accountLevel(err):
			return nil, false, err
		case errors.Is(err, vendors.ErrNotSupported):
		default:
			complete = false
		}
	}
	return out, complete, nil
}

// applyInventory rebuilds the device set from the lists and discoveries and
// sends the inventory when it changed.
// Devices are marked online for commands before the inventory goes out, so
// a command right after the inventory is not refused as offline.
func (a *Adapter) applyInventory(all []*listed, chanOnline map[string]bool) {
	var devs []*device
	listedOnline := map[string]bool{}
	a.mu.Lock()
	for _, l := range all {
		d := a.disc[l.item.Serial]
		if d == nil {
			continue
		}
		for _, dev := range a.buildDevices(l, d) {
			online := l.item.Status.V == 1
			if co, ok := chanOnline[dev.id]; ok && dev.kind == kindChannel {
				online = online && co
			}
			listedOnline[dev.id] = online
			devs = append(devs, dev)
		}
	}
	newMap := make(map[string]*device, len(devs))
	order := make([]string, 0, len(devs))
	for _, d := range devs {
		newMap[d.id] = d
		order = append(order, d.id)
		a.online[d.id] = listedOnline[d.id]
	}
	for id := range a.devices {
		if newMap[id] == nil {
			delete(a.published, id)
			delete(a.online, id)
			delete(a.availSent, id)
		}
	}
	a.devices = newMap
	a.order = order
	inv := make([]vendors.Device, 0, len(devs))
	for _, d := range devs {
		inv = append(inv, d.public())
	}
	b, _ := json.Marshal(inv)
	sig := string(b)
	changed := sig != a.invSig
	a.invSig = sig
	sink := a.sink
	a.mu.Unlock()
	if changed && sink != nil {
		a.log.Info().Int("devices", len(inv)).Msg("ezviz inventory")
		sink.Inventory(inv)
	}
}

// buildDevices turns one listed serial into bridged devices.
func (a *Adapter) buildDevices(l *listed, d *discovery) []*device {
	it := l.item
	if d.info != nil {
		it = mergeInfo(it, *d.info)
	}
	base := &device{
		id: it.Serial, serial: it.Serial, trusted: l.trusted, name: firstNonEmpty(it.Name, it.Serial),
		model: firstNonEmpty(it.Type, it.Model), version: it.Version, caps: d.caps,
	}
	switch {
	case d.hub:
		base.kind = kindHub
		base.entities = hubEntities(d)
		return []*device{base}
	case d.nvr:
		base.kind = kindNVR
		base.entities = nvrEntities(d.caps)
		out := []*device{base}
		for _, ch := range d.cameraChannels() {
			caps := d.chanCaps[ch]
			if caps == nil {
				caps = map[string]string{}
			}
			c := &device{
				id: channelID(it.Serial, ch), serial: it.Serial, channel: ch, kind: kindChannel, trusted: l.trusted,
				name: firstNonEmpty(d.channelName(ch), base.name+" channel "+strconv.Itoa(ch)), model: base.model,
				via: base.id, caps: caps,
			}
			c.entities, c.settings = cameraEntities(caps, d.status[ch], d.settings[ch], false, *a.cfg.PTZPresets)
			out = append(out, c)
		}
		return out
	}
	base.kind = kindCamera
	ch := d.cameraChannels()[0]
	base.channel = ch
	base.entities, base.settings = cameraEntities(d.caps, d.status[ch], d.settings[ch], true, *a.cfg.PTZPresets)
	if isDoorbell(d.caps, it) {
		base.entities = append(base.entities, eventEntity(keyDoorbell))
	}
	return []*device{base}
}

// mergeInfo fills a trust-list entry with device/info fields.
func mergeInfo(it, info deviceItem) deviceItem {
	it.Model = firstNonEmpty(info.Model, it.Model)
	it.ParentCategory = firstNonEmpty(info.ParentCategory, it.ParentCategory)
	it.Category = firstNonEmpty(info.Category, it.Category)
	if !it.Defence.Set {
		it.Defence = info.Defence
	}
	return it
}

func channelID(serial string, ch int) string { return serial + "_" + strconv.Itoa(ch) }

func isDoorbell(caps map[string]string, it deviceItem) bool {
	s := strings.ToLower(it.Category + " " + it.ParentCategory)
	return capOn(caps, "support_chime") || strings.Contains(s, "doorbell")
}

// cameraEntities builds a camera channel's entities from its capabilities,
// its first status and the switches it answered; top says the channel is
// the device itself (arming and firmware live on the device).
func cameraEntities(caps map[string]string, st *statusData, settings map[string]bool, top bool, presets int) ([]vendors.Entity, []string) {
	var es []vendors.Entity
	var setKeys []string
	if capOn(caps, "support_capture") {
		es = append(es, vendors.Entity{Key: keyCamera, Platform: vendors.Camera, ContentType: "image/jpeg"})
	}
	if capOn(caps, "support_defence") || capOn(caps, "support_pir_detect") {
		es = append(es, vendors.Entity{Key: keyMotion, Platform: vendors.BinarySensor, Name: "Motion", DeviceClass: "motion"})
	}
	if top && capOn(caps, "support_defence") {
		es = append(es, sw(keyMotionDetection, "Motion detection", "", "mdi:motion-sensor", false))
	}
	if capOn(caps, "support_privacy") {
		es = append(es, sw(keyPrivacy, "Privacy", "", "mdi:eye-off", false))
	}
	for _, s := range settingSpecs {
		if _, ok := settings[s.key]; !ok {
			continue
		}
		setKeys = append(setKeys, s.key)
		switch s.key {
		case keyIRLight:
			es = append(es, sw(keyIRLight, "IR light", vendors.CategoryConfig, "mdi:weather-night", false))
		case keyAudio:
			es = append(es, sw(keyAudio, "Audio recording", vendors.CategoryConfig, "mdi:microphone", false))
		case keyPromptSound:
			es = append(es, sw(keyPromptSound, "Prompt sound", vendors.CategoryConfig, "mdi:volume-high", true))
		}
	}
	if top && capOn(caps, "support_alarm_voice") {
		es = append(es, vendors.Entity{Key: keyAlarmSound, Platform: vendors.Select, Name: "Alarm sound", Category: vendors.CategoryConfig, Icon: "mdi:alarm-bell", Writable: true, Options: alarmSoundOptions})
	}
	if top && capOn(caps, "support_battery_manage") {
		es = append(es, vendors.Entity{Key: keyBattery, Platform: vendors.Sensor, Name: "Battery", DeviceClass: "battery", Unit: "%", StateClass: "measurement"})
	}
	if top && st != nil && st.Signal.or(-1) >= 0 {
		es = append(es, vendors.Entity{Key: keySignal, Platform: vendors.Sensor, Name: "Signal", Unit: "%", StateClass: "measurement", Category: vendors.CategoryDiagnostic, Icon: "mdi:wifi", DisabledByDefault: true})
	}
	if top && st != nil && st.DiskNum.or(0) > 0 {
		es = append(es, vendors.Entity{Key: keySDCard, Platform: vendors.Sensor, Name: "SD card", DeviceClass: "enum", Options: sdOptions, Category: vendors.CategoryDiagnostic, Icon: "mdi:sd"})
	}
	if top && (capOn(caps, "support_sleep") || (st != nil && st.WakeUp.or(-1) >= 0)) {
		es = append(es, vendors.Entity{Key: keySleeping, Platform: vendors.BinarySensor, Name: "Sleeping", Category: vendors.CategoryDiagnostic, Icon: "mdi:sleep"})
	}
	if top && capOn(caps, "support_upgrade") {
		es = append(es, firmwareEntity())
	}
	if capOn(caps, "support_ptz") {
		for _, b := range ptzButtons {
			if capOn(caps, b.capFlag) {
				es = append(es, vendors.Entity{Key: b.key, Platform: vendors.Button, Name: b.name, Icon: "mdi:pan", Writable: true})
			}
		}
		if capOn(caps, "ptz_preset") {
			for n := 1; n <= presets; n++ {
				es = append(es, presetEntity(n))
			}
		}
	}
	return es, setKeys
}

func firmwareEntity() vendors.Entity {
	return vendors.Entity{Key: keyFirmware, Platform: vendors.Update, Name: "Firmware", DeviceClass: "firmware", Category: vendors.CategoryConfig, Writable: true}
}

func nvrEntities(caps map[string]string) []vendors.Entity {
	var es []vendors.Entity
	if capOn(caps, "support_defence") {
		es = append(es, sw(keyMotionDetection, "Motion detection", "", "mdi:motion-sensor", false))
	}
	if capOn(caps, "support_upgrade") {
		es = append(es, firmwareEntity())
	}
	return es
}

func hubEntities(d *discovery) []vendors.Entity {
	var es []vendors.Entity
	if capOn(d.caps, "support_defence") {
		es = append(es, vendors.Entity{Key: keyAlarm, Platform: vendors.AlarmControlPanel, Options: panelOptions, Writable: true})
	}
	for _, ek := range eventKinds {
		for _, det := range d.detectors {
			if containsString(ek.detectors, strings.ToUpper(det.Type)) {
				es = append(es, eventEntity(ek.key))
				break
			}
		}
	}
	if capOn(d.caps, "support_upgrade") {
		es = append(es, firmwareEntity())
	}
	return es
}

func eventEntity(key string) vendors.Entity {
	for _, ek := range eventKinds {
		if ek.key == key {
			return vendors.Entity{Key: ek.key, Platform: vendors.Event, Name: ek.name, DeviceClass: ek.deviceClass, Options: []string{ek.eventType}}
		}
	}
	panic("ezviz: unknown event kind " + key)
}

// public is the device as the bridge sees it.
func (d *device) public() vendors.Device {
	return vendors.Device{
		ID: d.id, Name: d.name, Manufacturer: "EZVIZ", Model: d.model, SWVersion: d.version,
		Serial: d.serial, Via: d.via, Entities: vendors.InternEntities(d.entities),
	}
}

// publishListed sends online state, arming and installed firmware from the lists.
func (a *Adapter) publishListed(all []*listed, chanOnline map[string]bool) {
	for _, l := range all {
		a.mu.Lock()
		ids := []string{}
		for _, id := range a.order {
			if d := a.devices[id]; d != nil && d.serial == l.item.Serial {
				ids = append(ids, id)
			}
		}
		a.mu.Unlock()
		online := l.item.Status.V == 1
		for _, id := range ids {
			a.mu.Lock()
			d := a.devices[id]
			a.mu.Unlock()
			if d == nil {
				continue
			}
			if d.kind == kindChannel {
				co, ok := chanOnline[id]
				a.setOnline(id, online && (co || !ok))
				continue
			}
			a.setOnline(id, online)
			vals := map[string]any{}
			if l.item.Defence.Set && !l.trusted {
				a.defenceValues(d, l.item.Defence.V, vals)
			}
			if len(vals) > 0 {
				a.publish(id, vals, true)
			}
			if l.item.Version != "" && d.has(keyFirmware) {
				a.publishFirmware(d, &versionData{Current: l.item.Version})
			}
		}
	}
}

// defenceValues maps the defence field to the device's arming entity.
func (a *Adapter) defenceValues(d *device, v int64, vals map[string]any) {
	if d.has(keyAlarm) {
		if st, ok := modeToState[v]; ok {
			vals[keyAlarm] = st
		}
	} else if d.has(keyMotionDetection) {
		vals[keyMotionDetection] = on(v != 0)
	}
}

func validSerial(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
