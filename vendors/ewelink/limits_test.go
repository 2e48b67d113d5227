package ewelink

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
)

// fakeClock is a vendorkit.Clock the test moves by hand.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []*fakeWait
}

type fakeWait struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &fakeWait{at: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- c.now
		return w.ch
	}
	c.waits = append(c.waits, w)
	return w.ch
}

// pending are the durations asked for by sleepers not yet woken.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, w := range c.waits {
		out = append(out, w.d)
	}
	return out
}

// advance moves the clock and wakes the sleepers that are due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waits[:0]
	for _, w := range c.waits {
		if w.at.After(c.now) {
			keep = append(keep, w)
			continue
		}
		w.ch <- c.now
	}
	c.waits = keep
}

// TestNoReconnectStorm: 20 forced WebSocket drops with the production
// backoff (15 s → 64 min, jittered) on a fake clock. Each reconnect waits
// the backoff the adapter asked for and not a moment less; the simulator
// (which times userOnline on the same clock and counts anything closer than
// 15 s as a violation) sees exactly one dispatch, one connection and one
// userOnline per drop, and no login or refresh at all.
func TestNoReconnectStorm(t *testing.T) {
	const drops = 20
	fc := newFakeClock()
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", "1000a00005"), EndpointGap: 50 * time.Millisecond,
		UserOnlineGap: 15 * time.Second, Now: fc.Now})
	a, logs := build(t, passwordConfig(s, "endpoint_gap: 50ms", "window: 5s", "backoff_min: 15s", "backoff_max: 64m", "stable_after: 5m"), t.TempDir())
	a.clock = fc
	r := run(t, a, logs)
	r.waitDevices(t, 2)
	r.waitConnected(t)
	baseLogins := logins(s.Requests())
	var waits []time.Duration
	for i := 0; i < drops; i++ {
		r.rec.WaitFor(t, 10*time.Second, "the stream to be up", func() bool { return s.Streams() == 1 })
		if n := s.DropStreams(); n != 1 {
			t.Fatalf("drop %d: %d streams open", i, n)
		}
		r.rec.WaitFor(t, 10*time.Second, "the adapter to back off", func() bool { return len(fc.pending()) == 1 })
		d := fc.pending()[0]
		waits = append(waits, d)
		// Until the clock moves, nothing reconnects.
		fc.advance(d - time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		if n := len(s.UserOnlines()); n != i+1 || s.Streams() != 0 {
			t.Fatalf("drop %d: %d userOnline and %d streams before the backoff of %s ran out", i, n, s.Streams(), d)
		}
		fc.advance(time.Millisecond)
	}
	r.rec.WaitFor(t, 10*time.Second, "the last reconnect", func() bool { return s.Streams() == 1 })
	r.waitConnected(t)

	reqs := s.Requests()
	onlines := s.UserOnlines()
	var total time.Duration
	distinct := map[time.Duration]bool{}
	for i, d := range waits {
		total += d
		distinct[d] = true
		ceil := min(30*time.Second<<i, 64*time.Minute)
		if d < 15*time.Second || d > ceil {
			t.Errorf("wait %d is %s, want within [15s, %s]", i+1, d, ceil)
		}
	}
	minGap := time.Duration(1 << 62)
	for i := 1; i < len(onlines); i++ {
		minGap = min(minGap, onlines[i].Sub(onlines[i-1]))
	}
	t.Logf("drops=%d userOnline=%d connects=%d dispatch=%d thing lists=%d (2 homes) logins/refreshes after start=%d; waits %v (sum %s, closest userOnline pair %s on the fake clock)",
		drops, len(onlines), countOp(reqs, "ws connect"), countOp(reqs, "GET /dispatch/app"), countOp(reqs, "GET /v2/device/thing"),
		logins(reqs)-baseLogins, waits, total.Round(time.Second), minGap)
	if len(onlines) != drops+1 || countOp(reqs, "ws connect") != drops+1 || a.userOnlines.Load() != drops+1 {
		t.Errorf("want %d connections and userOnline, got %d connects, %d userOnline (adapter sent %d)",
			drops+1, countOp(reqs, "ws connect"), len(onlines), a.userOnlines.Load())
	}
	if n := countOp(reqs, "GET /dispatch/app"); n != drops+1 {
		t.Errorf("%d dispatch calls, want %d", n, drops+1)
	}
	if n := logins(reqs) - baseLogins; n != 0 {
		t.Errorf("%d logins/refreshes caused by the drops, want 0", n)
	}
	if len(distinct) < drops-2 {
		t.Errorf("waits are not jittered: %v", waits)
	}
	// 32 min and more become possible from the 7th wait on; with full jitter
	// over 13 tries at least one lands above 8 min (p ≈ 1 - 8⁻¹³).
	late := waits[7:]
	sort.Slice(late, func(i, j int) bool { return late[i] > late[j] })
	if late[0] < 8*time.Minute {
		t.Errorf("the backoff did not grow: %v", waits)
	}
	if s.Violations() != 0 {
		t.Errorf("violations: %v", s.ViolationLog())
	}
}
