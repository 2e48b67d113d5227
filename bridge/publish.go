package bridge

import (
	"context"
	"hash/fnv"
	"slices"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// publishLoop is the only goroutine that publishes retained device topics.
// Sinks mark devices dirty and wake it; a device changed ten times before it
// runs is published once, with its latest state.
func (b *Bridge) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			b.step() // flush what is pending (results of the last commands)
			return
		case <-b.wake:
		case m := <-b.out:
			b.send(m)
		}
		b.step()
	}
}

// step publishes everything pending.
func (b *Bridge) step() {
	b.flushHeld()
	b.drainOut()
	b.publishBridge()
	for {
		b.batch = b.takeDirty(b.batch[:0])
		if len(b.batch) == 0 {
			if b.restateAll() {
				continue
			}
			break
		}
		for chunk := range slices.Chunk(b.batch, 64) {
			b.works = b.prepare(chunk, b.works[:0])
			for i := range b.works {
				b.publishDevice(&b.works[i])
				b.works[i] = work{}
			}
			b.drainOut()
		}
		clear(b.batch)
	}
	b.publishImages()
	b.publishBridge()
}

func (b *Bridge) drainOut() {
	for {
		select {
		case m := <-b.out:
			b.send(m)
		default:
			return
		}
	}
}

// takeDirty swaps the dirty queue for the empty spare.
func (b *Bridge) takeDirty(spare []*device) []*device {
	b.mu.Lock()
	defer b.mu.Unlock()
	taken := b.dirty
	b.dirty = spare
	return taken
}

// work is what to publish for one device, snapshotted under the lock.
type work struct {
	d      *device
	flags  uint8
	gone   bool
	dev    *vendors.Device
	ov     discovery.Override
	state  []byte
	avail  string
	lights []lightPayload
}

type lightPayload struct {
	topic   string
	payload []byte
}

func (b *Bridge) prepare(batch []*device, ws []work) []work {
	scratch := b.scratch[:0]
	b.mu.Lock()
	defer func() {
		b.mu.Unlock()
		b.scratch = scratch
	}()
	for _, d := range batch {
		w := work{d: d, flags: d.pending, gone: d.gone, dev: d.dev, ov: d.override}
		d.pending, d.queued = 0, false
		if w.gone {
			ws = append(ws, w)
			continue
		}
		if w.flags&fState != 0 && len(d.values) > 0 {
			scratch = appendState(scratch[:0], d.values, d.lastSeen)
			w.state = append([]byte(nil), scratch...)
		}
		if w.flags&fAvail != 0 && d.onlineKnown {
			w.avail = "offline"
			if d.online {
				w.avail = "online"
			}
		}
		if w.flags&fLight != 0 {
			for _, key := range d.lights {
				if v, ok := d.get(key); ok {
					scratch = appendValue(scratch[:0], v)
					w.lights = append(w.lights, lightPayload{b.topics.EntityTopic(d.key.vendor, d.key.id, key), append([]byte(nil), scratch...)})
				}
			}
		}
		ws = append(ws, w)
	}
	return ws
}

func (b *Bridge) publishDevice(w *work) {
	d := w.d
	if w.gone {
		b.clearDevice(d)
		return
	}
	if w.flags&(fConfig|fConfigForce) != 0 {
		b.publishConfig(d, w.dev, w.ov, w.flags&fConfigForce != 0)
	}
	if w.state != nil {
		b.pub(d.stateTopic, 0, true, w.state, "state")
	}
	for _, l := range w.lights {
		b.pub(l.topic, 0, true, l.payload, "light")
	}
	if w.avail != "" {
		b.pub(d.availTopic(), 1, true, []byte(w.avail), "availability")
	}
}

// clearDevice empties every retained topic of a removed device.
func (b *Bridge) clearDevice(d *device) {
	if !b.opts.DisableDiscovery {
		b.pub(b.configTopic(d), 1, true, nil, "config")
	}
	b.pub(d.stateTopic, 1, true, nil, "state")
	b.pub(d.availTopic(), 1, true, nil, "availability")
	for _, key := range d.lights {
		b.pub(b.topics.EntityTopic(d.key.vendor, d.key.id, key), 1, true, nil, "light")
	}
}

// publishConfig publishes d's discovery config when it is new or changed
// (or force is set).
func (b *Bridge) publishConfig(d *device, dev *vendors.Device, ov discovery.Override, force bool) {
	if b.opts.DisableDiscovery {
		return
	}
	payload, err := b.render.DevicePayload(d.key.vendor, dev, ov)
	if err != nil {
		if !d.configError {
			d.configError = true
			b.log.Warn().Err(err).Str("device", d.key.String()).Msg("discovery config not rendered")
		}
		b.m.MQTTPublishFailed("config")
		return
	}
	d.configError = false
	h := hash(payload)
	if h == d.configHash && !force {
		return
	}
	if b.pub(b.configTopic(d), 1, true, payload, "config") {
		d.configHash = h
	}
}

func (b *Bridge) publishImages() {
	b.mu.Lock()
	if len(b.images) == 0 {
		b.mu.Unlock()
		return
	}
	imgs := b.images
	b.images = map[imageKey][]byte{}
	for k := range imgs {
		if k.dev.gone {
			delete(imgs, k)
		}
	}
	b.mu.Unlock()
	for k, data := range imgs {
		b.pub(b.topics.EntityTopic(k.dev.key.vendor, k.dev.key.id, k.key), 0, false, data, "image")
	}
}

// send publishes one queued message.
func (b *Bridge) send(m outMsg) {
	if m.sweep && !b.stillStale(m.topic) {
		return
	}
	if m.qos > 0 && !m.retained && len(b.held) > 0 {
		b.hold(m) // behind the held ones, in order
		return
	}
	if !b.pub(m.topic, m.qos, m.retained, m.payload, m.kind) {
		b.hold(m)
	}
}

// maxHeld bounds the messages kept through an MQTT outage.
const maxHeld = 256

// hold keeps an unretained QoS 1 message (a result, response or event) that
// could not go out because the connection is down, to send it once the
// bridge is connected again: a command carried out during an outage is still
// answered. Retained topics need no holding; everything retained is
// published again after a reconnect.
func (b *Bridge) hold(m outMsg) {
	if m.retained || m.qos == 0 || b.client.IsConnected() && len(b.held) == 0 {
		return
	}
	if len(b.held) == maxHeld {
		b.m.PublishDropped(b.held[0].kind)
		b.held = b.held[1:]
	}
	b.held = append(b.held, m)
}

// flushHeld sends the held messages, in order, while the connection is up.
func (b *Bridge) flushHeld() {
	for len(b.held) > 0 && b.client.IsConnected() {
		m := b.held[0]
		if !b.pub(m.topic, m.qos, m.retained, m.payload, m.kind) {
			return
		}
		b.held[0] = outMsg{}
		b.held = b.held[1:]
	}
}

func (b *Bridge) pub(topic string, qos byte, retained bool, payload []byte, kind string) bool {
	if err := b.client.Publish(topic, qos, retained, payload); err != nil {
		b.m.MQTTPublishFailed(kind)
		b.log.Debug().Err(err).Str("topic", topic).Msg("publish failed")
		return false
	}
	b.m.MQTTPublished(kind)
	return true
}

// What a republish sends again.
type republishScope uint8

const (
	configsOnly      republishScope = iota // discovery/republish requests
	configsAndStates                       // a Home Assistant birth
	everything                             // a reconnect: bridge/info and bridge/devices too
)

// republish publishes again, configs even if unchanged: every config goes
// first, then (with states) every state and availability, so Home Assistant
// has its entities before their states arrive. Only a reconnect sends
// bridge/info and bridge/devices again (the broker may have lost them); a
// Home Assistant birth does not touch them, and the device list is megabytes
// with ten thousand devices.
func (b *Bridge) republish(scope republishScope) {
	b.mu.Lock()
	b.flags.configForce, b.flags.config = true, true
	if scope == everything {
		b.flags.info, b.flags.list = true, true
	}
	b.flags.restate = b.flags.restate || scope >= configsAndStates
	for _, d := range b.devices {
		b.enqueue(d, fConfig|fConfigForce)
	}
	b.mu.Unlock()
	b.signal()
}

// restateAll queues every device's state, availability and lights, and
// bridge/state, when a republish asked for them; it reports whether it
// queued any device.
func (b *Bridge) restateAll() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.flags.restate {
		return false
	}
	b.flags.restate = false
	b.flags.state = true // bridge/state goes with them
	for _, d := range b.devices {
		b.enqueue(d, fState|fAvail|fLight)
	}
	return len(b.dirty) > 0
}

// publishBridge publishes the bridge's own topics that are due; info and the
// device list at most once per ListInterval.
func (b *Bridge) publishBridge() {
	b.mu.Lock()
	f := b.flags
	now := b.opts.Now()
	due := func(last time.Time) bool { return now.Sub(last) >= b.opts.ListInterval }
	b.flags.state, b.flags.config, b.flags.configForce = false, false, false
	sendInfo := f.info && (f.state || due(b.lastInfo))
	sendList := f.list && (f.state || due(b.lastList))
	if sendInfo {
		b.flags.info, b.lastInfo = false, now
	}
	if sendList {
		b.flags.list, b.lastList = false, now
	}
	if (f.info && !sendInfo) || (f.list && !sendList) {
		b.armListTimer(now)
	}
	b.mu.Unlock()

	if f.state {
		b.pub(b.topics.BridgeTopic("state"), 1, true, []byte("online"), "bridge")
	}
	if f.config {
		b.publishBridgeConfig(f.configForce)
	}
	if sendInfo {
		b.publishInfo()
	}
	if sendList {
		b.publishDeviceList()
	}
}

// armListTimer wakes the publisher when the next info/list publish is due; b.mu is held.
func (b *Bridge) armListTimer(now time.Time) {
	if b.listTimer != nil {
		return
	}
	last := b.lastInfo
	if b.lastList.Before(last) {
		last = b.lastList
	}
	wait := b.opts.ListInterval - now.Sub(last)
	if wait < 0 {
		wait = 0
	}
	b.listTimer = time.AfterFunc(wait, func() {
		b.mu.Lock()
		b.listTimer = nil
		b.mu.Unlock()
		b.signal()
	})
}

func hash(p []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(p)
	return h.Sum64() | 1 // never 0, which means "not published"
}
