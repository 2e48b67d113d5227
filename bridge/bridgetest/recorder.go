package bridgetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
)

// Recorder keeps every message received on a subscription.
type Recorder struct {
	t         testing.TB
	c         mqttx.Client
	syncTopic string

	mu      sync.Mutex
	msgs    []mqttx.Message
	changed chan struct{} // closed and replaced on every message
}

// Subscribe records filter on a new client; the retained messages matching it
// have arrived when Subscribe returns.
func Subscribe(t testing.TB, url, filter string) *Recorder {
	t.Helper()
	return subscribe(t, Client(t, url), filter)
}

func subscribe(t testing.TB, c mqttx.Client, filter string) *Recorder {
	t.Helper()
	r := &Recorder{t: t, c: c, syncTopic: "c2mtest_sync/" + RandomID(8), changed: make(chan struct{})}
	if err := c.Subscribe(filter, 1, r.add); err != nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	if err := c.Subscribe(r.syncTopic, 1, r.add); err != nil {
		t.Fatalf("subscribe %s: %v", r.syncTopic, err)
	}
	r.Sync()
	return r
}

func (r *Recorder) add(m mqttx.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// Sync returns once every message the broker had routed to this recorder
// before the call has arrived: it sends itself a marker and waits for it.
func (r *Recorder) Sync() {
	r.t.Helper()
	marker := []byte(RandomID(8))
	if err := r.c.Publish(r.syncTopic, 1, false, marker); err != nil {
		r.t.Fatalf("sync publish: %v", err)
	}
	r.Wait(r.syncTopic, func(m mqttx.Message) bool { return bytes.Equal(m.Payload, marker) }, 10*time.Second)
}

// Wait returns the first message on topic (received before or after the
// call) for which pred holds (nil pred: any); the test fails after timeout.
func (r *Recorder) Wait(topic string, pred func(mqttx.Message) bool, timeout time.Duration) mqttx.Message {
	r.t.Helper()
	m, ok := r.WaitOK(topic, pred, timeout)
	if !ok {
		r.t.Fatalf("no matching message on %s within %s; got %d on it: %s", topic, timeout, len(r.On(topic)), r.describe(topic))
	}
	return m
}

// WaitOK is Wait without failing the test.
func (r *Recorder) WaitOK(topic string, pred func(mqttx.Message) bool, timeout time.Duration) (mqttx.Message, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		r.mu.Lock()
		msgs, changed := r.msgs, r.changed
		r.mu.Unlock()
		for ; seen < len(msgs); seen++ {
			if m := msgs[seen]; m.Topic == topic && (pred == nil || pred(m)) {
				return m, true
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			return mqttx.Message{}, false
		}
	}
}

// WaitPayload waits for a message on topic with exactly this payload.
func (r *Recorder) WaitPayload(topic, payload string, timeout time.Duration) mqttx.Message {
	r.t.Helper()
	return r.Wait(topic, func(m mqttx.Message) bool { return string(m.Payload) == payload }, timeout)
}

// Messages returns a copy of everything received, sync markers excluded.
func (r *Recorder) Messages() []mqttx.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]mqttx.Message, 0, len(r.msgs))
	for _, m := range r.msgs {
		if m.Topic != r.syncTopic {
			out = append(out, m)
		}
	}
	return out
}

// On returns the messages received on topic.
func (r *Recorder) On(topic string) []mqttx.Message {
	var out []mqttx.Message
	for _, m := range r.Messages() {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// Last returns the latest message on topic.
func (r *Recorder) Last(topic string) (mqttx.Message, bool) {
	on := r.On(topic)
	if len(on) == 0 {
		return mqttx.Message{}, false
	}
	return on[len(on)-1], true
}

// Reset forgets every message received so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.msgs = nil
	r.mu.Unlock()
}

func (r *Recorder) describe(topic string) string {
	var b bytes.Buffer
	for i, m := range r.On(topic) {
		if i == 5 {
			b.WriteString(" ...")
			break
		}
		p := m.Payload
		if len(p) > 200 {
			p = p[:200]
		}
		b.WriteString(" [")
		b.Write(p)
		b.WriteString("]")
	}
	return b.String()
}

// Retained returns what the broker holds retained on topic now (read with a
// fresh subscription); ok is false when nothing is retained.
func Retained(t testing.TB, url, topic string) (payload []byte, ok bool) {
	t.Helper()
	all := RetainedUnder(t, url, topic)
	p, ok := all[topic]
	return p, ok
}

// RetainedUnder returns every retained message matching filter now.
func RetainedUnder(t testing.TB, url, filter string) map[string][]byte {
	t.Helper()
	c := Client(t, url)
	defer c.Disconnect()
	r := subscribe(t, c, filter)
	out := map[string][]byte{}
	for _, m := range r.Messages() {
		if m.Retained && len(m.Payload) > 0 {
			out[m.Topic] = m.Payload
		}
	}
	return out
}
