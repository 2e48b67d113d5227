package vendortest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Recorder is a vendors.Sink that keeps what an adapter reported, for tests.
type Recorder struct {
	mu           sync.Mutex
	devices      map[string]vendors.Device
	inventories  int
	state        map[string]map[string]any
	online       map[string]bool
	events       []RecordedEvent
	images       map[string]int
	statuses     []vendors.Status
	updateCount  int
	changed      chan struct{}
	invalidCalls []string
}

// RecordedEvent is one sink.Event call.
type RecordedEvent struct {
	Device, Key, Type string
	Attrs             map[string]any
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{
		devices: map[string]vendors.Device{},
		state:   map[string]map[string]any{},
		online:  map[string]bool{},
		images:  map[string]int{},
		changed: make(chan struct{}, 1),
	}
}

func (r *Recorder) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Inventory implements vendors.Sink.
func (r *Recorder) Inventory(devices []vendors.Device) {
	r.mu.Lock()
	r.inventories++
	r.devices = make(map[string]vendors.Device, len(devices))
	for _, d := range devices {
		r.devices[d.ID] = d
	}
	r.mu.Unlock()
	r.notify()
}

// Update implements vendors.Sink.
func (r *Recorder) Update(id string, values map[string]any) {
	r.mu.Lock()
	st := r.state[id]
	if st == nil {
		st = map[string]any{}
		r.state[id] = st
	}
	for k, v := range values {
		st[k] = v
	}
	r.updateCount++
	r.mu.Unlock()
	r.notify()
}

// Availability implements vendors.Sink.
func (r *Recorder) Availability(id string, online bool) {
	r.mu.Lock()
	r.online[id] = online
	r.mu.Unlock()
	r.notify()
}

// Event implements vendors.Sink.
func (r *Recorder) Event(id, key, eventType string, attrs map[string]any) {
	r.mu.Lock()
	r.events = append(r.events, RecordedEvent{id, key, eventType, attrs})
	r.mu.Unlock()
	r.notify()
}

// Image implements vendors.Sink.
func (r *Recorder) Image(id, key string, data []byte) {
	r.mu.Lock()
	r.images[id+"/"+key] += 1
	if len(data) == 0 {
		r.invalidCalls = append(r.invalidCalls, "empty image for "+id+"/"+key)
	}
	r.mu.Unlock()
	r.notify()
}

// Status implements vendors.Sink.
func (r *Recorder) Status(s vendors.Status) {
	r.mu.Lock()
	r.statuses = append(r.statuses, s)
	r.mu.Unlock()
	r.notify()
}

// Devices returns the latest inventory.
func (r *Recorder) Devices() map[string]vendors.Device {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]vendors.Device, len(r.devices))
	for k, v := range r.devices {
		out[k] = v
	}
	return out
}

// Value returns a device's last reported value for key.
func (r *Recorder) Value(id, key string) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.state[id][key]
	return v, ok
}

// Online returns a device's last reported availability.
func (r *Recorder) Online(id string) (online, known bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	online, known = r.online[id]
	return
}

// Statuses returns every status reported.
func (r *Recorder) Statuses() []vendors.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]vendors.Status(nil), r.statuses...)
}

// Events returns every event reported.
func (r *Recorder) Events() []RecordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RecordedEvent(nil), r.events...)
}

// Images returns how many images arrived per "<device>/<key>".
func (r *Recorder) Images() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.images {
		out[k] = v
	}
	return out
}

// WaitFor waits until cond holds, failing the test after timeout.
func (r *Recorder) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !r.Await(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// Await waits until cond holds or timeout passes and reports whether it held.
func (r *Recorder) Await(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return cond()
		case <-r.changed:
		case <-tick.C:
		}
	}
	return true
}

// WaitValue waits until the device reports key ≈ want (see Same).
func (r *Recorder) WaitValue(t testing.TB, timeout time.Duration, id, key string, want any) {
	t.Helper()
	var last any
	ok := r.Await(timeout, func() bool {
		v, _ := r.Value(id, key)
		last = v
		return Same(v, want)
	})
	if !ok {
		t.Fatalf("device %s key %s: want %s, last reported %s", id, key, show(want), show(last))
	}
}

// Same compares reported values loosely: numbers by value (within 1e-6 or
// the tolerance of a Near), everything else by its JSON form; a LightState
// want matches when every field it sets matches.
func Same(got, want any) bool {
	switch w := want.(type) {
	case Near:
		g, ok := number(got)
		return ok && g >= w.Value-w.Tolerance && g <= w.Value+w.Tolerance
	case OneOf:
		for _, o := range w {
			if Same(got, o) {
				return true
			}
		}
		return false
	case vendors.LightState:
		g, ok := got.(vendors.LightState)
		if !ok {
			if p, isPtr := got.(*vendors.LightState); isPtr && p != nil {
				g, ok = *p, true
			}
		}
		if !ok || g.State != w.State {
			return false
		}
		if w.Brightness != nil && (g.Brightness == nil || abs(*g.Brightness-*w.Brightness) > 5) {
			return false
		}
		return true
	}
	if g, ok := number(got); ok {
		if w, ok := number(want); ok {
			return g-w < 1e-6 && w-g < 1e-6
		}
	}
	gb, err1 := json.Marshal(got)
	wb, err2 := json.Marshal(want)
	return err1 == nil && err2 == nil && string(gb) == string(wb)
}

// Near wants a number within Tolerance of Value.
type Near struct{ Value, Tolerance float64 }

// OneOf wants any of its values.
type OneOf []any

func number(v any) (float64, bool) { return vendors.Float(v) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
