package vendorkit

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes exponential delays with full jitter: attempt n waits a
// random time in [Floor, min(Max, Base·2ⁿ)). Floor keeps a crowd of clients
// from retrying at once after a shared outage (a "login storm").
type Backoff struct {
	Base  time.Duration
	Max   time.Duration
	Floor time.Duration
	// Rand returns a number in [0, 1); nil uses math/rand.
	Rand func() float64

	attempt int
}

// Next returns the delay before the next attempt and counts the attempt.
func (b *Backoff) Next() time.Duration {
	ceil := b.Base
	for i := 0; i < b.attempt && ceil < b.Max; i++ {
		ceil *= 2
	}
	if b.Max > 0 && ceil > b.Max {
		ceil = b.Max
	}
	b.attempt++
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	if ceil <= b.Floor {
		return b.Floor
	}
	return b.Floor + time.Duration(r()*float64(ceil-b.Floor))
}

// Attempts is the number of delays handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Reset starts the sequence over.
func (b *Backoff) Reset() { b.attempt = 0 }

// Clock is the time source; tests inject their own.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time                         { return time.Now() }
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Sleep waits d on clock or until ctx ends, returning ctx.Err() in that case.
func Sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if clock == nil {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}
