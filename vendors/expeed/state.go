package expeed

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

const (
	storeDevices = "devices"
	maxLearned   = 500
)

// setOnlineLocked records and reports availability; a.mu is held.
func (a *Adapter) setOnlineLocked(d *devEntry, online bool) {
	d.online, d.onlineKnow = online, true
	if a.sink != nil {
		a.sink.Availability(d.ID, online)
	}
}

// applyRecordsLocked applies samples oldest first and reports the newest
// value per entity. A sample older than what was already applied for a
// datapoint is skipped; untimed samples count as the latest. a.mu is held.
func (a *Adapter) applyRecordsLocked(d *devEntry, recs []record) {
	sortRecords(recs)
	out := map[string]any{}
	learnt := false
	for _, rec := range recs {
		names := make([]string, 0, len(rec.Values))
		for n := range rec.Values {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			raw := rec.Values[name]
			sp := d.specs[name]
			if sp == nil && d.Learned && a.s.LearnDevices {
				learnt = d.learn(map[string]json.RawMessage{name: raw}) || learnt
				sp = d.specs[name]
			}
			if sp == nil {
				if a.logs.ok("unmapped:"+d.ID+":"+name, a.now()) {
					a.log.Debug().Str("device", d.ID).Str("datapoint", clip(name, 64)).Msg("datapoint has no mapping in the config; ignored")
				}
				continue
			}
			if !rec.At.IsZero() {
				if last, ok := d.stamps[name]; ok && rec.At.Before(last) {
					continue
				}
				d.stamps[name] = rec.At
			}
			v, err := sp.decode(raw)
			if err != nil {
				if a.logs.ok("decode:"+d.ID+":"+name, a.now()) {
					a.log.Debug().Err(err).Str("device", d.ID).Str("datapoint", name).Msg("datapoint value not understood; ignored")
				}
				continue
			}
			out[sp.Entity.Key] = v
			d.values[sp.Entity.Key] = v
		}
	}
	d.lastHeard = a.now()
	if learnt {
		a.saveLearnedLocked()
		if a.sink != nil {
			a.sink.Inventory(a.inventory())
		}
	}
	if len(out) > 0 && a.sink != nil {
		a.sink.Update(d.ID, out)
	}
}

// applyPush changes state after a push was decoded and checked.
func (a *Adapter) applyPush(p push) {
	switch p.MsgType {
	case msgSetting:
		if !a.pending.deliver(p.MessageID, p.SetFailed, time.Now()) {
			a.log.Debug().Str("message_id", clip(p.MessageID, 64)).Msg("setting result for no waiting command; kept a minute")
		}
		return
	case msgOnline, msgData:
	default:
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.devices[p.DeviceID]
	if d == nil {
		if d = a.learnDeviceLocked(p); d == nil {
			return
		}
	}
	if d.Learned && d.Key == "" && p.DeviceKey != "" {
		d.Key = p.DeviceKey
		a.redact(p.DeviceKey)
		a.saveLearnedLocked()
	}
	if p.DeviceSN != "" && d.Serial == "" {
		d.Serial = p.DeviceSN
	}
	if p.MsgType == msgOnline {
		online := p.Status == a.calib.value
		d.lastHeard = a.now()
		a.setOnlineLocked(d, online)
		a.calibrateLocked(d, online)
		return
	}
	if !d.onlineKnow || !d.online {
		a.setOnlineLocked(d, true) // a data upload proves the device is on line
	}
	a.applyRecordsLocked(d, p.Records)
}

// learnDeviceLocked adds a device that pushed but is not configured, when
// learn_devices allows; otherwise it logs it (throttled).
func (a *Adapter) learnDeviceLocked(p push) *devEntry {
	id := p.DeviceID
	if !a.s.LearnDevices || len(id) > 128 || len(a.devices) >= maxLearned {
		if a.logs.ok("unknown:"+id, a.now()) {
			a.log.Info().Str("device", clip(id, 128)).Int64("msg_type", p.MsgType).
				Bool("learn_devices", a.s.LearnDevices).Msg("push from a device not in the config")
		}
		return nil
	}
	d := newEntry(id, p.DeviceKey)
	d.Learned, d.Serial = true, p.DeviceSN
	a.redact(p.DeviceKey)
	a.devices[id] = d
	for _, rec := range p.Records {
		d.learn(rec.Values)
	}
	a.saveLearnedLocked()
	a.log.Info().Str("device", id).Int("datapoints", len(d.specs)).Msg("learnt a device from its push")
	if a.sink != nil {
		a.sink.Inventory(a.inventory())
	}
	return d
}

func (a *Adapter) saveLearnedLocked() {
	var list []learnedDevice
	for _, id := range a.ids() {
		if d := a.devices[id]; d.Learned {
			list = append(list, d.toLearned())
		}
	}
	if err := a.store.Save(storeDevices, list); err != nil {
		a.log.Error().Err(err).Msg("cannot persist learnt devices")
	}
}

func (a *Adapter) loadLearnedLocked() {
	if !a.s.LearnDevices {
		return
	}
	var list []learnedDevice
	if _, err := a.store.Load(storeDevices, &list); err != nil {
		a.log.Warn().Err(err).Msg("cannot read learnt devices")
		return
	}
	for _, l := range list {
		if l.ID == "" || a.devices[l.ID] != nil || len(a.devices) >= maxLearned {
			continue
		}
		a.redact(l.Key)
		a.devices[l.ID] = entryFromLearned(l)
	}
}

// calibration settles which device_status value an online push carries: the
// seed's push table says 0, its query API says 1 = online. The query is
// trusted; after push_calibrate_after contradictions in a row (and no
// agreement) the push mapping flips, once.
type calibration struct {
	value          int64
	contradictions int
	flipped        bool
	settled        bool
	inflight       map[string]bool
}

func (a *Adapter) calibrateLocked(d *devEntry, pushOnline bool) {
	if !a.s.calibrate || a.calib.settled || d.Key == "" || a.calib.inflight[d.ID] || a.sink == nil {
		return
	}
	if a.calib.inflight == nil {
		a.calib.inflight = map[string]bool{}
	}
	a.calib.inflight[d.ID] = true
	id, key := d.ID, d.Key
	a.scheduleLocked(a.s.PushCalibrateDelay, func(ctx context.Context) {
		online, err := a.queryStatus(ctx, id, key, vendorkit.Low)
		a.mu.Lock()
		delete(a.calib.inflight, id)
		if err != nil {
			a.mu.Unlock()
			a.log.Debug().Err(err).Str("device", id).Msg("status query for push calibration failed")
			return
		}
		changed := a.judgeLocked(id, pushOnline, online)
		a.mu.Unlock()
		if changed {
			a.reportKeep()
		}
	})
}

// judgeLocked compares a push with the query that followed it; it reports
// whether the mapping changed.
func (a *Adapter) judgeLocked(id string, pushOnline, queryOnline bool) bool {
	if d := a.devices[id]; d != nil {
		a.setOnlineLocked(d, queryOnline)
	}
	c := &a.calib
	if c.settled {
		return false
	}
	if pushOnline == queryOnline {
		c.settled = true
		c.contradictions = 0
		a.log.Info().Int64("push_status_online_value", c.value).Msg("push online encoding agrees with the status query")
		return false
	}
	c.contradictions++
	if c.contradictions < a.s.PushCalibrateAfter {
		return false
	}
	c.contradictions = 0
	if c.flipped {
		c.settled = true
		a.log.Warn().Msg("push device_status disagrees with the status query under both encodings; calibration stopped, the status query stays authoritative")
		return false
	}
	c.flipped = true
	c.value = 1 - c.value
	a.log.Warn().Int64("push_status_online_value", c.value).Int("contradictions", a.s.PushCalibrateAfter).
		Msg("push device_status contradicts the status query; push online encoding flipped")
	return true
}
