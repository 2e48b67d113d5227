package bridge

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// account is one configured vendor account and the Sink its adapter writes to.
type account struct {
	b       *Bridge
	vendor  string
	name    string
	id      string // "<vendor>/<name>"
	adapter vendors.Adapter
	log     zerolog.Logger

	// guarded by b.mu
	st          vendors.Status
	permanent   bool
	inventoried bool
	devs        map[devKey]struct{}

	queues []chan *job
}

func newAccount(b *Bridge, vendor, name string, a vendors.Adapter) *account {
	n := b.opts.CommandWorkers
	size := max(1, (b.opts.CommandQueue+n-1)/n)
	queues := make([]chan *job, n)
	for i := range queues {
		queues[i] = make(chan *job, size)
	}
	return &account{
		queues:  queues,
		b:       b,
		vendor:  vendor,
		name:    name,
		id:      vendor + "/" + name,
		adapter: a,
		log:     b.log.With().Str("vendor", vendor).Str("account", name).Logger(),
		st:      vendors.Status{State: vendors.StateConnecting},
		devs:    map[devKey]struct{}{},
	}
}

var _ vendors.Sink = (*account)(nil)

// run runs the adapter until ctx ends, restarting it with backoff when it
// fails; a permanent error stops the account.
func (a *account) run(ctx context.Context) {
	a.b.m.AccountStatus(a.vendor, a.name, string(vendors.StateConnecting))
	sup := vendorkit.Supervisor{
		Backoff:     a.b.opts.RestartBackoff,
		StableAfter: 10 * time.Minute,
		OnRetry: func(err error, wait time.Duration) {
			a.log.Warn().Err(err).Dur("retry_in", wait).Msg("adapter failed; restarting")
			a.Status(vendors.Status{State: vendors.StateBackoff, LastError: errText(err)})
		},
	}
	err := sup.Run(ctx, a.runOnce)
	if ctx.Err() == nil && vendors.IsPermanent(err) {
		a.fail(err)
	}
}

// runOnce runs the adapter once; a panic becomes an error.
func (a *account) runOnce(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error().Str("panic", fmt.Sprint(r)).Str("stack", string(debug.Stack())).Msg("adapter panicked")
			err = fmt.Errorf("adapter panicked: %v", r)
		}
	}()
	return a.adapter.Run(ctx, a)
}

// fail stops the account for good: status error, and the devices only it
// reaches go offline.
func (a *account) fail(err error) {
	b := a.b
	a.log.Error().Err(err).Msg("account stopped: permanent error")
	b.mu.Lock()
	a.permanent = true
	for k := range a.devs {
		d := b.devices[k]
		if d == nil || d.route() != nil {
			continue
		}
		if !d.onlineKnown || d.online {
			d.online, d.onlineKnown = false, true
			b.enqueue(d, fAvail)
		}
	}
	b.flags.list = true
	b.mu.Unlock()
	a.Status(vendors.Status{State: vendors.StateError, LastError: errText(err), Reauth: true})
	b.unpark(false)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Inventory implements vendors.Sink: devices is the account's full list.
func (a *account) Inventory(devices []vendors.Device) {
	b := a.b
	var events []outMsg
	b.mu.Lock()
	first := !a.inventoried
	changed := first
	seen := make(map[devKey]struct{}, len(devices))
	for i := range devices {
		src := &devices[i]
		if err := src.Validate(); err != nil {
			a.log.Warn().Err(err).Str("device", src.ID).Msg("invalid device skipped")
			continue
		}
		k := devKey{a.vendor, cleanID(src.ID)}
		ov, disabled := b.override(k, src.ID)
		if disabled {
			continue
		}
		if _, dup := seen[k]; dup {
			a.log.Warn().Str("device", k.String()).Msg("two devices share one id; keeping the last")
		}
		seen[k] = struct{}{}
		b.seq++
		d := b.devices[k]
		if d == nil {
			d = b.newDevice(k, src, ov)
			d.owners = append(d.owners, owner{a, b.seq})
			b.devices[k] = d
			b.enqueue(d, fConfig)
			changed = true
			if !first {
				events = append(events, b.bridgeEvent("device_added", deviceEventData(d, a)))
			}
			continue
		}
		if !d.touch(a, b.seq) {
			d.owners = append(d.owners, owner{a, b.seq})
			changed = true
		}
		if d.override != ov || !sameDevice(d.dev, src) {
			d.dev = cloneDevice(src)
			d.override = ov
			d.lights = lightKeys(d.dev)
			b.enqueue(d, fConfig)
			changed = true
		}
	}
	for k := range a.devs {
		if _, ok := seen[k]; ok {
			continue
		}
		d := b.devices[k]
		if d == nil {
			continue
		}
		d.removeOwner(a)
		changed = true
		if len(d.owners) == 0 {
			delete(b.devices, k)
			d.gone = true
			b.enqueue(d, 0)
			events = append(events, b.bridgeEvent("device_removed", deviceEventData(d, a)))
		}
	}
	a.devs = seen
	a.inventoried = true
	if changed {
		// An unchanged list (a polling cloud sends one every poll) must not
		// rebuild bridge/devices: for 10 000 devices that is tens of ms.
		b.flags.info, b.flags.list = true, true
	}
	stale := b.sweepReady(a.vendor)
	b.mu.Unlock()

	for _, e := range events {
		b.queueOut(e)
	}
	for _, t := range stale {
		b.queueOut(outMsg{topic: t, retained: true, qos: 1, kind: "config", sweep: true})
	}
	b.signal()
	b.unpark(false)
}

func (b *Bridge) newDevice(k devKey, src *vendors.Device, ov discovery.Override) *device {
	d := &device{key: k, dev: cloneDevice(src), override: ov}
	d.lights = lightKeys(d.dev)
	d.stateTopic = b.topics.DeviceTopic(k.vendor, k.id)
	return d
}

// Update implements vendors.Sink. The bridge keeps the values map's
// contents; the adapter must not change it afterwards.
func (a *account) Update(id string, values map[string]any) {
	b := a.b
	k := devKey{a.vendor, cleanID(id)}
	now := b.opts.Now().UnixNano()
	b.mu.Lock()
	d := b.devices[k]
	if d == nil {
		b.mu.Unlock()
		b.unknownDevice(a, k)
		return
	}
	b.seq++
	d.touch(a, b.seq)
	d.lastSeen = now
	var flags uint8
	for key, v := range values {
		if d.set(key, normalize(v)) {
			flags |= fState
			if d.isLight(key) {
				flags |= fLight
			}
		}
	}
	if flags != 0 {
		b.enqueue(d, flags)
	}
	b.mu.Unlock()
	if flags != 0 {
		b.signal()
	}
}

// Availability implements vendors.Sink.
func (a *account) Availability(id string, online bool) {
	b := a.b
	k := devKey{a.vendor, cleanID(id)}
	b.mu.Lock()
	d := b.devices[k]
	if d == nil {
		b.mu.Unlock()
		b.unknownDevice(a, k)
		return
	}
	b.seq++
	d.touch(a, b.seq)
	changed := !d.onlineKnown || d.online != online
	if changed {
		d.online, d.onlineKnown = online, true
		b.enqueue(d, fAvail)
		b.flags.list, b.flags.info = true, true
	}
	b.mu.Unlock()
	if changed {
		b.signal()
	}
}

// Event implements vendors.Sink.
func (a *account) Event(id, key, eventType string, attrs map[string]any) {
	b := a.b
	k := devKey{a.vendor, cleanID(id)}
	b.mu.Lock()
	d := b.devices[k]
	b.mu.Unlock()
	if d == nil {
		b.unknownDevice(a, k)
		return
	}
	m := make(map[string]any, len(attrs)+1)
	maps.Copy(m, attrs)
	m["event_type"] = eventType
	payload, err := jsonMarshal(m)
	if err != nil {
		a.log.Warn().Err(err).Str("device", k.String()).Str("key", key).Msg("event not encodable")
		return
	}
	b.queueOut(outMsg{topic: b.topics.EntityTopic(k.vendor, k.id, key), payload: payload, kind: "event"})
}

// Image implements vendors.Sink: the latest image per entity is published.
func (a *account) Image(id, key string, data []byte) {
	b := a.b
	if len(data) > b.opts.MaxImage {
		b.m.PublishDropped("image")
		a.log.Warn().Str("device", id).Str("key", key).Int("bytes", len(data)).Int("max", b.opts.MaxImage).Msg("image too large; dropped")
		return
	}
	k := devKey{a.vendor, cleanID(id)}
	b.mu.Lock()
	d := b.devices[k]
	if d != nil {
		b.images[imageKey{d, key}] = append([]byte(nil), data...)
	}
	b.mu.Unlock()
	if d == nil {
		b.unknownDevice(a, k)
		return
	}
	b.signal()
}

// Status implements vendors.Sink.
func (a *account) Status(s vendors.Status) {
	b := a.b
	s.Budget = maps.Clone(s.Budget)
	s.Info = maps.Clone(s.Info)
	b.mu.Lock()
	if a.permanent && s.State != vendors.StateError {
		// A stopped account stays in error whatever a late report says.
		b.mu.Unlock()
		return
	}
	prev := a.st.State
	a.st = s
	b.flags.info = true
	b.mu.Unlock()

	b.m.AccountStatus(a.vendor, a.name, string(s.State))
	data := map[string]any{"id": a.id, "vendor": a.vendor, "account": a.name}
	switch {
	case prev != vendors.StateConnected && s.State == vendors.StateConnected:
		a.log.Info().Msg("account connected")
		b.queueOut(b.bridgeEvent("account_connected", data))
	case prev == vendors.StateConnected && s.State != vendors.StateConnected:
		a.log.Warn().Str("state", string(s.State)).Str("error", s.LastError).Msg("account disconnected")
		data["state"], data["error"] = string(s.State), s.LastError
		b.queueOut(b.bridgeEvent("account_disconnected", data))
	}
	b.signal()
}

func (b *Bridge) unknownDevice(a *account, k devKey) {
	if _, loaded := b.loggedUnknown.LoadOrStore(k, true); !loaded {
		a.log.Debug().Str("device", k.String()).Msg("update for a device not in the inventory ignored")
	}
}
