package vendorkit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Priority orders waiters on a Limiter.
type Priority int

const (
	// Low is for polls and background reads.
	Low Priority = iota
	// High is for user commands: served before any waiting Low call.
	High
)

// Limiter is a token bucket shared by every call of one account, in which
// High waiters go before Low ones, and which a cloud's Retry-After can pause.
// Use NewLimiter.
type Limiter struct {
	lim *rate.Limiter

	mu          sync.Mutex
	queues      [2][]*waiter
	running     bool
	pausedUntil time.Time
	kick        chan struct{} // wakes the dispatcher when a waiter leaves
}

type waiter struct {
	ready chan struct{}
	gone  bool
}

// NewLimiter allows r events per second with the given burst.
func NewLimiter(r rate.Limit, burst int) *Limiter {
	return &Limiter{lim: rate.NewLimiter(r, burst), kick: make(chan struct{}, 1)}
}

// Rate is the limiter's rate.
func (l *Limiter) Rate() rate.Limit { return l.lim.Limit() }

// Wait blocks until a call may go, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, p Priority) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &waiter{ready: make(chan struct{})}
	l.mu.Lock()
	l.queues[p] = append(l.queues[p], w)
	if !l.running {
		l.running = true
		go l.dispatch()
	}
	l.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-w.ready:
			return nil // granted as we were cancelled; the caller may go
		default:
		}
		w.gone = true
		select {
		case l.kick <- struct{}{}:
		default:
		}
		return ctx.Err()
	}
}

// Pause holds every call until d from now, as a cloud's Retry-After asks,
// including a call whose token the dispatcher is already waiting for.
func (l *Limiter) Pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.pausedUntil) {
		l.pausedUntil = until
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// dispatch grants tokens one at a time to the best waiter at the moment the
// token is available; it exits when nobody waits.
func (l *Limiter) dispatch() {
	for {
		l.mu.Lock()
		if !l.hasWaiters() {
			l.running = false
			l.mu.Unlock()
			return
		}
		pause := time.Until(l.pausedUntil)
		l.mu.Unlock()
		if pause > 0 {
			l.sleep(pause, nil)
			continue
		}
		r := l.lim.Reserve()
		if !l.sleep(r.Delay(), r) {
			continue // the waiters changed; look again
		}
		l.mu.Lock()
		if time.Now().Before(l.pausedUntil) {
			l.mu.Unlock()
			continue // paused while waiting for the token
		}
		if w := l.pop(); w != nil {
			close(w.ready)
		}
		l.mu.Unlock()
	}
}

// sleep waits d, or less when a waiter leaves or a pause begins; then it gives back the
// reservation r and reports false.
func (l *Limiter) sleep(d time.Duration, r *rate.Reservation) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.kick:
		if r != nil {
			r.Cancel()
		}
		return false
	}
}

func (l *Limiter) hasWaiters() bool {
	for p := range l.queues {
		q := l.queues[p]
		for len(q) > 0 && q[0].gone {
			q = q[1:]
		}
		l.queues[p] = q
		if len(q) > 0 {
			return true
		}
	}
	return false
}

func (l *Limiter) pop() *waiter {
	for p := High; p >= Low; p-- {
		for len(l.queues[p]) > 0 {
			w := l.queues[p][0]
			l.queues[p] = l.queues[p][1:]
			if !w.gone {
				return w
			}
		}
	}
	return nil
}
