package ezviz

import (
	"context"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// targets returns the devices a poll step covers: one id, or all.
func (a *Adapter) targets(id string) []*device {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*device
	for _, did := range a.order {
		if id != "" && did != id {
			continue
		}
		if d := a.devices[did]; d != nil {
			out = append(out, d)
		}
	}
	return out
}

func (a *Adapter) isOnline(d *device) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.online[d.id]
}

// pollStatus reads status/get (and, for trusted devices, device/info for
// the arming state, which the trust list lacks).
func (a *Adapter) pollStatus(ctx context.Context, id string, p vendorkit.Priority) error {
	for _, d := range a.targets(id) {
		if !a.isOnline(d) {
			continue
		}
		if d.trusted && d.kind != kindChannel && (d.has(keyAlarm) || d.has(keyMotionDetection)) {
			info, err := a.deviceInfo(ctx, d.token(), d.serial, p)
			if err != nil {
				if accountLevel(err) {
					return err
				}
				a.log.Debug().Err(err).Str("device", d.id).Msg("ezviz device info failed")
			} else if info.Defence.Set {
				vals := map[string]any{}
				a.defenceValues(d, info.Defence.V, vals)
				a.publish(d.id, vals, true)
			}
		}
		if !d.statusBacked() {
			continue
		}
		st, err := a.readStatus(ctx, d.token(), d.serial, d.channel, p)
		if err != nil {
			if accountLevel(err) {
				return err
			}
			a.log.Debug().Err(err).Str("device", d.id).Msg("ezviz status failed")
			continue
		}
		a.publish(d.id, statusValues(d, st), true)
	}
	return nil
}

// statusValues maps status/get to entity values, skipping "not reported".
func statusValues(d *device, st statusData) map[string]any {
	vals := map[string]any{}
	if d.has(keyPrivacy) {
		if v := st.Privacy.or(-1); v == 0 || v == 1 {
			vals[keyPrivacy] = on(v == 1)
		}
	}
	if d.has(keyAlarmSound) {
		if v := st.AlarmSound.or(-1); v >= 0 && v < int64(len(alarmSoundOptions)) {
			vals[keyAlarmSound] = alarmSoundOptions[v]
		}
	}
	if d.has(keyBattery) {
		if v := st.Battery.or(-1); v >= 0 && v <= 100 {
			vals[keyBattery] = int(v)
		}
	}
	if d.has(keySignal) {
		if v := st.Signal.or(-1); v >= 0 && v <= 100 {
			vals[keySignal] = int(v)
		}
	}
	if d.has(keySDCard) && st.DiskNum.or(0) > 0 {
		vals[keySDCard] = sdState(st.DiskState)
	}
	if d.has(keySleeping) {
		if v := st.WakeUp.or(-1); v == 0 || v == 1 {
			vals[keySleeping] = on(v == 1)
		}
	}
	return vals
}

// pollSettings reads the switches with their own endpoints and the firmware versions.
func (a *Adapter) pollSettings(ctx context.Context, id string, p vendorkit.Priority) error {
	for _, d := range a.targets(id) {
		if !a.isOnline(d) {
			continue
		}
		vals := map[string]any{}
		for _, key := range d.settings {
			s, _ := specFor(key)
			v, err := a.readSetting(ctx, d.token(), d.serial, d.channel, s, p)
			if err != nil {
				if accountLevel(err) {
					return err
				}
				a.log.Debug().Err(err).Str("device", d.id).Str("key", key).Msg("ezviz setting read failed")
				continue
			}
			vals[key] = on(v)
		}
		a.publish(d.id, vals, true)
		if d.has(keyFirmware) {
			v, err := a.readVersion(ctx, d.token(), d.serial, p)
			if err != nil {
				if accountLevel(err) {
					return err
				}
				continue
			}
			a.publishFirmware(d, &v)
		}
	}
	return nil
}

// fwState is what the update entity shows.
type fwState struct {
	installed, latest string
	inProgress        bool
	percent           *int
}

// publishFirmware merges version facts into the update entity.
func (a *Adapter) publishFirmware(d *device, v *versionData) {
	a.mu.Lock()
	fw := a.firmwareLocked(d.id)
	if v != nil {
		if v.Current != "" {
			fw.installed = v.Current
		}
		if v.Latest != "" {
			fw.latest = v.Latest
		}
	}
	if fw.installed == "" {
		fw.installed = d.version
	}
	st := vendors.UpdateState{InstalledVersion: fw.installed, LatestVersion: firstNonEmpty(fw.latest, fw.installed), InProgress: fw.inProgress, Percentage: fw.percent}
	a.mu.Unlock()
	a.publish(d.id, map[string]any{keyFirmware: st}, false)
}

func (a *Adapter) firmwareLocked(id string) *fwState {
	if a.fw == nil {
		a.fw = map[string]*fwState{}
	}
	fw := a.fw[id]
	if fw == nil {
		fw = &fwState{}
		a.fw[id] = fw
	}
	return fw
}

// pollUpgrades follows started firmware installs: upgrade/status status 0
// upgrading (with progress), 1 rebooting, 2 done, 3 failed.
func (a *Adapter) pollUpgrades(ctx context.Context) error {
	a.mu.Lock()
	var ids []string
	for id := range a.upgrading {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	for _, id := range ids {
		ds := a.targets(id)
		if len(ds) == 0 {
			a.mu.Lock()
			delete(a.upgrading, id)
			a.mu.Unlock()
			continue
		}
		d := ds[0]
		env, err := a.api.call(ctx, d.token(), "/api/lapp/device/upgrade/status", "upgrade_status", serialForm(d.serial, 0), vendorkit.Low)
		if err != nil {
			if accountLevel(err) {
				return err
			}
			continue
		}
		u, err := decodeUpgrade(env)
		if err != nil {
			continue
		}
		a.mu.Lock()
		fw := a.firmwareLocked(id)
		done := false
		switch u.Status.V {
		case 0:
			fw.inProgress = true
			fw.percent = vendors.IntPtr(int(min(max(u.Progress.V, 0), 100)))
		case 1:
			fw.inProgress = true
			fw.percent = vendors.IntPtr(100)
		default: // 2 done, 3 failed
			fw.inProgress = false
			fw.percent = nil
			done = true
			delete(a.upgrading, id)
		}
		a.mu.Unlock()
		if done {
			if u.Status.V == 3 {
				a.log.Warn().Str("device", id).Msg("ezviz firmware upgrade failed")
			}
			if v, err := a.readVersion(ctx, d.token(), d.serial, vendorkit.Low); err == nil {
				a.publishFirmware(d, &v)
				continue
			} else if accountLevel(err) {
				return err
			}
		}
		a.publishFirmware(d, nil)
	}
	return nil
}
