package main

import (
	"strings"
	"sync"
	"time"
)

// collector sorts what the bench's subscriber receives: discovery configs,
// device states (bridge and baseline), and every topic to clear at the end.
type collector struct {
	base, cfgPrefix string

	mu          sync.Mutex
	configs     map[string]time.Time // object id → last non-empty config
	cfgMark     map[string]bool      // configs received since markConfigs
	lastConfig  time.Time
	states      map[string]int // "vendor/id" → bridge state messages
	stateN      int64
	stateBytes  int64
	lastState   time.Time
	baselineN   int64
	lastBase    time.Time
	outstanding map[string]time.Time // latency: frame written, state not yet seen
	latencies   []latencySample
	topics      map[string]struct{}
}

// latencySample is one paced event: when its frame was written, how long
// its state took to arrive, and the device ("<vendor>/<id>").
type latencySample struct {
	sent   time.Time
	took   time.Duration
	device string
}

func newCollector(base, prefix string) *collector {
	return &collector{
		base: base + "/", cfgPrefix: prefix + "/device/",
		configs: map[string]time.Time{}, states: map[string]int{},
		outstanding: map[string]time.Time{}, topics: map[string]struct{}{},
	}
}

func (c *collector) onMsg(topic string, payload []byte, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.topics[topic]; !seen {
		c.topics[topic] = struct{}{}
	}
	if rest, ok := strings.CutPrefix(topic, c.cfgPrefix); ok {
		if id, ok := strings.CutSuffix(rest, "/config"); ok && len(payload) > 0 {
			c.configs[id] = at
			c.lastConfig = at
			if c.cfgMark != nil {
				c.cfgMark[id] = true
			}
		}
		return
	}
	rest, ok := strings.CutPrefix(topic, c.base)
	if !ok || len(payload) == 0 {
		return
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 || strings.IndexByte(rest[slash+1:], '/') >= 0 {
		return // not <base>/<vendor>/<id>
	}
	switch rest[:slash] {
	case "bridge":
	case "baseline":
		c.baselineN++
		c.lastBase = at
	default:
		c.states[rest]++
		c.stateN++
		c.stateBytes += int64(len(payload))
		c.lastState = at
		if sent, ok := c.outstanding[rest]; ok {
			c.latencies = append(c.latencies, latencySample{sent, at.Sub(sent), rest})
			delete(c.outstanding, rest)
		}
	}
}

func (c *collector) configCount() (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.configs), c.lastConfig
}

func (c *collector) hasConfig(objectID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.configs[objectID]
	return ok
}

func (c *collector) hasState(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.states[key] > 0
}

func (c *collector) markConfigs() {
	c.mu.Lock()
	c.cfgMark = map[string]bool{}
	c.mu.Unlock()
}

func (c *collector) markedConfigs() (int, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cfgMark), c.lastConfig
}

func (c *collector) stateStats() (n, bytes int64, last time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateN, c.stateBytes, c.lastState
}

func (c *collector) baselineStats() (int64, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.baselineN, c.lastBase
}

// expect records that a frame changing key was written at; it returns false
// when the previous change of key is still on its way (not measured).
func (c *collector) expect(key string, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, busy := c.outstanding[key]; busy {
		return false
	}
	c.outstanding[key] = at
	return true
}

// takeLatencies returns the measured latencies and how many frames were
// never answered, and resets both.
func (c *collector) takeLatencies() ([]latencySample, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, lost := c.latencies, len(c.outstanding)
	c.latencies, c.outstanding = nil, map[string]time.Time{}
	return l, lost
}

func (c *collector) topicList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.topics))
	for t := range c.topics {
		out = append(out, t)
	}
	return out
}
