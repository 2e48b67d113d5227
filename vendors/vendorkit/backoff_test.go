package vendorkit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func TestBackoffGrowsWithinBoundsAndResets(t *testing.T) {
	top := func() float64 { return 0.999999 }
	b := Backoff{Base: time.Second, Max: 10 * time.Second, Floor: 200 * time.Millisecond, Rand: top}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		got := b.Next()
		if got > w || got < w-time.Millisecond {
			t.Errorf("attempt %d: got %s, want just under %s", i, got, w)
		}
	}
	b.Rand = func() float64 { return 0 }
	if got := b.Next(); got != 200*time.Millisecond {
		t.Errorf("zero jitter gave %s, want the floor", got)
	}
	b.Reset()
	b.Rand = top
	if got := b.Next(); got > time.Second {
		t.Errorf("after reset got %s, want ≤ base", got)
	}
}

func TestBackoffJitterSpreads(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute}
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		b.Reset()
		seen[b.Next()] = true
	}
	if len(seen) < 40 {
		t.Errorf("50 first delays gave only %d distinct values; jitter is missing", len(seen))
	}
}

func TestSupervisorStopsOnPermanentAndResetsAfterStableSession(t *testing.T) {
	calls := 0
	s := Supervisor{Backoff: Backoff{Base: time.Millisecond, Max: 4 * time.Millisecond}}
	err := s.Run(context.Background(), func(context.Context) error {
		calls++
		if calls == 3 {
			return vendors.Permanent(errors.New("bad key"))
		}
		return errors.New("dropped")
	})
	if !vendors.IsPermanent(err) || calls != 3 {
		t.Fatalf("got %v after %d calls, want the permanent error after 3", err, calls)
	}

	s = Supervisor{Backoff: Backoff{Base: time.Millisecond, Max: time.Second, Rand: func() float64 { return 0.999 }}, StableAfter: 20 * time.Millisecond}
	var waits []time.Duration
	s.OnRetry = func(_ error, d time.Duration) { waits = append(waits, d) }
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = s.Run(ctx, func(context.Context) error {
		n++
		switch {
		case n == 4:
			time.Sleep(25 * time.Millisecond) // a long, healthy session
		case n == 6:
			cancel()
		}
		return errors.New("dropped")
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(waits) != 5 {
		t.Fatalf("got %d retries, want 5", len(waits))
	}
	if waits[2] < 3*time.Millisecond || waits[3] > time.Millisecond {
		t.Errorf("waits %v: the wait after a stable session must start over at the base", waits)
	}
}

func TestSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, RealClock{}, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
