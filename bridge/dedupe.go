package bridge

import (
	"hash/fnv"
	"sync"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
)

// dedupe remembers the last command messages, so that a QoS 1 message the
// broker delivers again (DUP set, because our acknowledgement was lost with
// the connection) is not carried out twice.
type dedupe struct {
	mu   sync.Mutex
	ring [256]uint64
	next int
}

// seen records m and reports whether it is a redelivery of a message
// already handled.
func (d *dedupe) seen(m mqttx.Message) bool {
	h := fnv.New64a()
	_, _ = h.Write([]byte(m.Topic))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(m.Payload)
	sum := h.Sum64()
	d.mu.Lock()
	defer d.mu.Unlock()
	if m.Duplicate {
		for _, s := range d.ring {
			if s == sum {
				return true
			}
		}
	}
	d.ring[d.next] = sum
	d.next = (d.next + 1) % len(d.ring)
	return false
}
