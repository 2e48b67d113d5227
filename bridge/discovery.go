package bridge

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func (b *Bridge) configFilter() string { return b.topics.Prefix + "/device/+/config" }

// override returns the user's override of a device and whether it is disabled.
func (b *Bridge) override(k devKey, rawID string) (discovery.Override, bool) {
	o, ok := b.opts.Overrides[k.String()]
	if !ok {
		o, ok = b.opts.Overrides[k.vendor+"/"+rawID]
	}
	if !ok {
		return discovery.Override{}, false
	}
	return discovery.Override{Name: o.Name, Area: o.Area}, o.Disabled
}

func cloneDevice(src *vendors.Device) *vendors.Device {
	d := *src
	d.Entities = vendors.InternEntities(src.Entities)
	return &d
}

func sameDevice(a, b *vendors.Device) bool { return reflect.DeepEqual(a, b) }

func lightKeys(d *vendors.Device) []string {
	var keys []string
	for _, e := range d.Entities {
		if e.Platform == vendors.Light {
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// publishBridgeConfig publishes the discovery config of the bridge's own device.
func (b *Bridge) publishBridgeConfig(force bool) {
	if b.opts.DisableDiscovery {
		return
	}
	accounts := make([]discovery.Account, len(b.accounts))
	for i, a := range b.accounts {
		accounts[i] = discovery.Account{Vendor: a.vendor, Name: a.name}
	}
	payload, err := b.render.BridgePayload(accounts)
	if err != nil {
		b.log.Warn().Err(err).Msg("bridge discovery config not rendered")
		b.m.MQTTPublishFailed("config")
		return
	}
	if h := hash(payload); force || h != b.bridgeConfigHash {
		if b.pub(b.topics.BridgeConfigTopic(), 1, true, payload, "config") {
			b.bridgeConfigHash = h
		}
	}
}

// onConfig collects the retained discovery configs this instance owns, for
// the start-up sweep.
func (b *Bridge) onConfig(m mqttx.Message) {
	if !m.Retained || len(m.Payload) == 0 || m.Topic == b.topics.BridgeConfigTopic() {
		return
	}
	if _, _, ours := b.configOwner(m.Topic); !ours || !b.render.Owns(m.Payload) {
		return
	}
	b.m.MQTTReceived("discovery")
	b.mu.Lock()
	if !b.sweepDone {
		b.sweep[m.Topic] = true
	}
	b.mu.Unlock()
}

// configOwner parses <prefix>/device/<base>_<vendor>_<id>/config. ours is
// false when the object id is not under this base topic; vendor is empty
// when no configured account has the vendor.
func (b *Bridge) configOwner(topic string) (vendor, id string, ours bool) {
	obj, ok := strings.CutPrefix(topic, b.topics.Prefix+"/device/")
	if !ok {
		return "", "", false
	}
	if obj, ok = strings.CutSuffix(obj, "/config"); !ok {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(obj, discovery.SanitizeID(b.topics.BaseTopic)+"_")
	if !ok {
		return "", "", false
	}
	for _, a := range b.accounts {
		if id, ok := strings.CutPrefix(rest, a.vendor+"_"); ok {
			return a.vendor, id, true
		}
	}
	return "", "", true
}

// startSweep ends the collection of retained configs after SweepWait and
// clears the stale ones of vendors whose accounts have all reported.
func (b *Bridge) startSweep() {
	if b.opts.DisableDiscovery {
		return
	}
	time.AfterFunc(b.opts.SweepWait, func() {
		if err := b.client.Unsubscribe(b.configFilter()); err != nil {
			b.log.Debug().Err(err).Msg("unsubscribe discovery configs")
		}
		b.mu.Lock()
		b.sweepDone = true
		stale := b.sweepReady("")
		b.mu.Unlock()
		b.log.Debug().Int("stale", len(stale)).Msg("discovery sweep")
		for _, t := range stale {
			b.queueOut(outMsg{topic: t, retained: true, qos: 1, kind: "config", sweep: true})
		}
		b.signal()
	})
}

// sweepReady returns the collected config topics that are stale now: their
// vendor is no longer configured, or every account of their vendor has sent
// an inventory without the device. vendor limits the check ("" = all).
// b.mu is held.
func (b *Bridge) sweepReady(vendor string) []string {
	if !b.sweepDone || len(b.sweep) == 0 {
		return nil
	}
	var stale []string
	for topic := range b.sweep {
		v, id, _ := b.configOwner(topic)
		if vendor != "" && v != vendor {
			continue
		}
		if v != "" && !b.vendorInventoried(v) {
			continue
		}
		delete(b.sweep, topic)
		if v == "" || b.devices[devKey{v, id}] == nil {
			stale = append(stale, topic)
		}
	}
	return stale
}

func (b *Bridge) vendorInventoried(vendor string) bool {
	for _, a := range b.accounts {
		if a.vendor == vendor && !a.inventoried {
			return false
		}
	}
	return true
}

// stillStale checks a sweep clear again just before it is sent, so a device
// that came back meanwhile keeps its config.
func (b *Bridge) stillStale(topic string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, id, _ := b.configOwner(topic)
	return v == "" || b.devices[devKey{v, id}] == nil
}

// onHAStatus republishes everything a random while after Home Assistant
// announces itself, so many bridges do not answer at once.
func (b *Bridge) onHAStatus(m mqttx.Message) {
	b.m.MQTTReceived("ha_status")
	if m.Retained || strings.TrimSpace(string(m.Payload)) != "online" {
		return
	}
	if !b.birthPending.CompareAndSwap(false, true) {
		return
	}
	delay := time.Duration(rand.Int64N(int64(b.opts.BirthDelay) + 1))
	b.log.Info().Dur("delay", delay).Msg("home assistant online; publishing everything again")
	time.AfterFunc(delay, func() {
		b.birthPending.Store(false)
		b.republish(configsAndStates)
	})
}
