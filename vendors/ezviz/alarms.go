package ezviz

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// alarmCursor remembers which alarm messages were handled. Alarms reach
// the list late sometimes, so every poll reads back alarmOverlap and skips
// the ids it has seen; after a restart, alarms up to floor count as seen.
type alarmCursor struct {
	loaded   bool
	floor    int64 // ms
	newest   int64 // ms
	saved    int64
	seen     map[string]int64
	motionAt map[string]time.Time
}

type storedAlarms struct {
	NewestMS int64 `json:"newest_ms"`
}

const (
	alarmStoreName = "alarms"
	alarmOverlap   = 2 * time.Minute
	// alarmHorizon is how far back EZVIZ lets the alarm list look (7 days).
	alarmHorizon = 7*24*time.Hour - time.Hour
)

func (a *Adapter) loadAlarmCursor() {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &a.alarms
	if c.loaded {
		return
	}
	c.loaded = true
	c.seen = map[string]int64{}
	c.motionAt = map[string]time.Time{}
	c.floor = a.now().UnixMilli()
	if a.env.Store != nil {
		var st storedAlarms
		if found, err := a.env.Store.Load(alarmStoreName, &st); err == nil && found && st.NewestMS > 0 && st.NewestMS < c.floor {
			c.floor = st.NewestMS
		}
	}
	c.newest = c.floor
	c.saved = c.floor
}

// pollAlarms reads new alarm messages (status=2: read and unread) and turns
// them into motion state and events.
func (a *Adapter) pollAlarms(ctx context.Context) error {
	now := a.now()
	a.mu.Lock()
	start := a.alarms.newest - alarmOverlap.Milliseconds()
	trusted := a.cfg.Mode == modeTrust && a.trusted > 0
	a.mu.Unlock()
	if oldest := now.Add(-alarmHorizon).UnixMilli(); start < oldest {
		start = oldest
	}
	form := url.Values{
		"status":    {"2"},
		"alarmType": {"-1"},
		"startTime": {strconv.FormatInt(start, 10)},
		"endTime":   {strconv.FormatInt(now.UnixMilli(), 10)},
	}
	var got []alarmItem
	kinds := []tokenKind{kindApp}
	if trusted {
		kinds = append(kinds, kindTrust)
	}
	for _, kind := range kinds {
		err := a.listPages(ctx, kind, "/api/lapp/alarm/list", "alarm_list", form, vendorkit.Low, func(env *envelope) (int, error) {
			items, err := decodeAlarms(env)
			got = append(got, items...)
			return len(items), err
		})
		if err != nil {
			return err
		}
	}
	a.handleAlarms(got)
	return nil
}

// handleAlarms routes new alarms to motion and event entities.
func (a *Adapter) handleAlarms(items []alarmItem) {
	sort.Slice(items, func(i, j int) bool { return items[i].Time.V < items[j].Time.V })
	type fire struct {
		id, key, typ string
		attrs        map[string]any
	}
	var fires []fire
	a.mu.Lock()
	c := &a.alarms
	sink := a.sink
	for _, it := range items {
		id := string(it.ID)
		t := it.Time.V
		if _, dup := c.seen[id]; dup {
			continue
		}
		c.seen[id] = t
		if t > c.newest {
			c.newest = t
		}
		dev := a.alarmDeviceLocked(it)
		if dev == nil {
			continue
		}
		typ := it.Type.V
		if motionAlarmTypes[typ] {
			if dev.has(keyMotion) {
				if at := time.UnixMilli(t); at.After(c.motionAt[dev.id]) {
					c.motionAt[dev.id] = at
				}
			}
			continue
		}
		if t <= c.floor {
			continue
		}
		for _, ek := range eventKinds {
			if containsInt(ek.alarmTypes, typ) && dev.has(ek.key) {
				fires = append(fires, fire{dev.id, ek.key, ek.eventType, map[string]any{
					"alarm_id":   id,
					"alarm_type": typ,
					"name":       it.Name,
					"time":       time.UnixMilli(t).UTC().Format(time.RFC3339),
				}})
			}
		}
	}
	for id, t := range c.seen {
		if t < c.newest-(alarmOverlap+time.Minute).Milliseconds() {
			delete(c.seen, id)
		}
	}
	save := c.newest != c.saved
	c.saved = c.newest
	newest := c.newest
	a.mu.Unlock()
	if save && a.env.Store != nil {
		if err := a.env.Store.Save(alarmStoreName, storedAlarms{NewestMS: newest}); err != nil {
			a.log.Warn().Err(err).Msg("ezviz alarm cursor not saved")
		}
	}
	if sink != nil {
		for _, f := range fires {
			sink.Event(f.id, f.key, f.typ, f.attrs)
		}
	}
	a.expireMotion()
}

// alarmDeviceLocked finds the device an alarm belongs to: an NVR channel,
// else the device itself.
func (a *Adapter) alarmDeviceLocked(it alarmItem) *device {
	serial := it.Serial
	if ch := it.ChannelNo.V; ch > 0 {
		if d := a.devices[channelID(serial, int(ch))]; d != nil {
			return d
		}
	}
	return a.devices[serial]
}

// expireMotion publishes each motion sensor's state: ON while the newest
// motion alarm is younger than motion_hold.
func (a *Adapter) expireMotion() {
	now := a.now()
	type upd struct {
		id string
		on bool
	}
	var ups []upd
	a.mu.Lock()
	for _, id := range a.order {
		d := a.devices[id]
		if d == nil || !d.has(keyMotion) {
			continue
		}
		at := a.alarms.motionAt[id]
		ups = append(ups, upd{id, !at.IsZero() && now.Sub(at) < a.cfg.MotionHold})
	}
	a.mu.Unlock()
	for _, u := range ups {
		a.publish(u.id, map[string]any{keyMotion: on(u.on)}, false)
	}
}

// armMotionTimer sets t to fire when the next motion sensor turns off.
func (a *Adapter) armMotionTimer(t *time.Timer) {
	now := a.now()
	next := time.Hour
	a.mu.Lock()
	for _, at := range a.alarms.motionAt {
		if off := at.Add(a.cfg.MotionHold).Sub(now); off > 0 && off < next {
			next = off + time.Millisecond
		}
	}
	a.mu.Unlock()
	t.Reset(next)
}

func containsInt(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
