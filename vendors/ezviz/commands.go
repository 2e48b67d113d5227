package ezviz

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Execute carries one command to the cloud. Unknown devices, read-only
// entities and offline devices fail before any call.
func (a *Adapter) Execute(ctx context.Context, cmd vendors.Command) error {
	a.mu.Lock()
	d := a.devices[cmd.DeviceID]
	online := a.online[cmd.DeviceID]
	a.mu.Unlock()
	if d == nil {
		return vendors.ErrUnknownDevice
	}
	e, ok := d.Entity(cmd.Key)
	if !ok {
		return vendors.ErrUnknownKey
	}
	if !e.Writable {
		return vendors.ErrReadOnly
	}
	if err := checkValue(e, cmd.Value); err != nil {
		return err
	}
	if !online {
		return vendors.Errorf(vendors.CodeOffline, "%s is offline", d.id)
	}
	switch e.Platform {
	case vendors.Switch:
		v, ok := cmd.Value.(bool)
		if !ok {
			return vendors.Errorf(vendors.CodeInvalidValue, "%s takes ON or OFF", cmd.Key)
		}
		return a.setSwitch(ctx, d, cmd.Key, v)
	case vendors.Select:
		v, _ := cmd.Value.(string)
		idx := indexOf(e.Options, v)
		if idx < 0 {
			return vendors.Errorf(vendors.CodeInvalidValue, "%s takes one of %s", cmd.Key, strings.Join(e.Options, ", "))
		}
		return a.setAlarmSound(ctx, d, idx)
	case vendors.AlarmControlPanel:
		v, _ := cmd.Value.(string)
		mode, ok := panelToMode[v]
		if !ok || indexOf(e.Options, v) < 0 {
			return vendors.Errorf(vendors.CodeInvalidValue, "%s takes one of %s", cmd.Key, strings.Join(e.Options, ", "))
		}
		if err := a.setDefence(ctx, d, mode); err != nil {
			return err
		}
		a.commanded(d.id, keyAlarm, modeToState[int64(mode)])
		return nil
	case vendors.Button:
		if n, ok := strings.CutPrefix(cmd.Key, presetPrefix); ok {
			idx, err := strconv.Atoi(n)
			if err != nil {
				return vendors.ErrUnknownKey
			}
			return a.movePreset(ctx, d, idx)
		}
		for _, b := range ptzButtons {
			if b.key == cmd.Key {
				return a.ptzPress(ctx, d, b.direction)
			}
		}
	case vendors.Update:
		return a.installFirmware(ctx, d)
	}
	return vendors.Errorf(vendors.CodeNotSupported, "%s cannot be commanded", cmd.Key)
}

func (a *Adapter) setSwitch(ctx context.Context, d *device, key string, v bool) error {
	enable := "0"
	if v {
		enable = "1"
	}
	switch key {
	case keyMotionDetection:
		mode := 0
		if v {
			mode = 1
		}
		if err := a.setDefence(ctx, d, mode); err != nil {
			return err
		}
	case keyPrivacy:
		f := serialForm(d.serial, max(d.channel, 1))
		f.Set("enable", enable)
		if _, err := a.api.call(ctx, d.token(), "/api/lapp/device/scene/switch/set", "privacy_set", f, vendorkit.High, codeAlreadySwitch); err != nil {
			return err
		}
	default:
		s, ok := specFor(key)
		if !ok {
			return vendors.ErrUnknownKey
		}
		f := serialForm(d.serial, max(d.channel, 1))
		f.Set("enable", enable)
		if _, err := a.api.call(ctx, d.token(), s.setPath, key+"_set", f, vendorkit.High, codeAlreadySwitch); err != nil {
			return err
		}
	}
	a.commanded(d.id, key, on(v))
	return nil
}

// setDefence arms or disarms: 0/1 on cameras, 0 sleep, 8 home, 16 away on hubs.
func (a *Adapter) setDefence(ctx context.Context, d *device, mode int) error {
	f := url.Values{"deviceSerial": {d.serial}, "isDefence": {strconv.Itoa(mode)}}
	_, err := a.api.call(ctx, d.token(), "/api/lapp/device/defence/set", "defence_set", f, vendorkit.High, codeAlreadyArmed)
	return err
}

func (a *Adapter) setAlarmSound(ctx context.Context, d *device, idx int) error {
	f := url.Values{"deviceSerial": {d.serial}, "type": {strconv.Itoa(idx)}}
	if _, err := a.api.call(ctx, d.token(), "/api/lapp/device/alarm/sound/set", "alarm_sound_set", f, vendorkit.High); err != nil {
		return err
	}
	a.commanded(d.id, keyAlarmSound, alarmSoundOptions[idx])
	return nil
}

func (a *Adapter) ptzLock(id string) *sync.Mutex {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.ptz[id]
	if m == nil {
		m = &sync.Mutex{}
		a.ptz[id] = m
	}
	return m
}

// ptzPress moves the head for ptz_step: start, wait, stop. EZVIZ requires a
// stop after every start before any other PTZ call, so the stop is sent even
// when ctx ends meanwhile, and presses on one camera never overlap.
func (a *Adapter) ptzPress(ctx context.Context, d *device, direction int) error {
	m := a.ptzLock(d.id)
	m.Lock()
	defer m.Unlock()
	f := serialForm(d.serial, max(d.channel, 1))
	f.Set("direction", strconv.Itoa(direction))
	start := url.Values{"speed": {"1"}}
	for k, v := range f {
		start[k] = v
	}
	if _, err := a.api.call(ctx, d.token(), "/api/lapp/device/ptz/start", "ptz_start", start, vendorkit.High); err != nil {
		return err
	}
	t := time.NewTimer(a.cfg.PTZStep)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Timeout)
	defer cancel()
	_, err := a.api.call(stopCtx, d.token(), "/api/lapp/device/ptz/stop", "ptz_stop", f, vendorkit.High)
	return err
}

func (a *Adapter) movePreset(ctx context.Context, d *device, idx int) error {
	if idx < 1 || idx > *a.cfg.PTZPresets {
		return vendors.ErrUnknownKey
	}
	m := a.ptzLock(d.id)
	m.Lock()
	defer m.Unlock()
	f := serialForm(d.serial, max(d.channel, 1))
	f.Set("index", strconv.Itoa(idx))
	_, err := a.api.call(ctx, d.token(), "/api/lapp/device/preset/move", "preset_move", f, vendorkit.High)
	return err
}

// installFirmware starts an upgrade; progress follows from upgrade/status.
// 60013 (already the latest) and 60014 (already upgrading) are not errors.
func (a *Adapter) installFirmware(ctx context.Context, d *device) error {
	env, err := a.api.call(ctx, d.token(), "/api/lapp/device/upgrade", "upgrade", serialForm(d.serial, 0), vendorkit.High, codeAlreadyLatest, codeUpgrading)
	if err != nil {
		return err
	}
	if env != nil && string(env.Code) == codeAlreadyLatest {
		return nil
	}
	a.mu.Lock()
	a.upgrading[d.id] = true
	fw := a.firmwareLocked(d.id)
	fw.inProgress = true
	fw.percent = vendors.IntPtr(0)
	a.mu.Unlock()
	a.publishFirmware(d, nil)
	select {
	case a.upgradeStart <- struct{}{}:
	default:
	}
	return nil
}

// Refresh reads a device (or all) now; cameras also take a snapshot when
// their 4 s capture spacing allows.
func (a *Adapter) Refresh(ctx context.Context, id string) error {
	if id == "" {
		if err := a.pollList(ctx, vendorkit.Low); err != nil {
			return err
		}
		if err := a.pollStatus(ctx, "", vendorkit.Low); err != nil {
			return err
		}
		return a.snapshotAll(ctx, vendorkit.Low)
	}
	a.mu.Lock()
	d := a.devices[id]
	online := a.online[id]
	a.mu.Unlock()
	if d == nil {
		return vendors.ErrUnknownDevice
	}
	if d.kind != kindChannel {
		info, err := a.deviceInfo(ctx, d.token(), d.serial, vendorkit.High)
		if err != nil {
			return err
		}
		online = info.Status.V == 1
		a.setOnline(d.id, online)
		if info.Defence.Set {
			vals := map[string]any{}
			a.defenceValues(d, info.Defence.V, vals)
			a.publish(d.id, vals, true)
		}
	}
	if !online {
		return nil
	}
	if d.statusBacked() {
		st, err := a.readStatus(ctx, d.token(), d.serial, d.channel, vendorkit.High)
		if err != nil {
			return err
		}
		a.publish(d.id, statusValues(d, st), true)
	}
	if err := a.snapshot(ctx, d, vendorkit.High); err != nil && !errors.Is(err, errTooSoon) {
		return err
	}
	return nil
}

// checkValue re-checks the value type the bridge validated, before any
// other state is looked at.
func checkValue(e *vendors.Entity, v any) error {
	switch e.Platform {
	case vendors.Switch:
		if _, ok := v.(bool); !ok {
			return vendors.Errorf(vendors.CodeInvalidValue, "%s takes ON or OFF", e.Key)
		}
	case vendors.Select, vendors.AlarmControlPanel:
		s, _ := v.(string)
		if indexOf(e.Options, s) < 0 {
			return vendors.Errorf(vendors.CodeInvalidValue, "%s takes one of %s", e.Key, strings.Join(e.Options, ", "))
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
