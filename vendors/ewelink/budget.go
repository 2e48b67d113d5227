package ewelink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// budget is an account's REST allowance (reference §8): calls to one endpoint
// at least gap apart (measured from the end of the previous call, so the
// cloud sees the spacing whatever the network does), at most windowN calls in
// any window, commands before polls, a pause when the cloud says so, and a
// monthly quota for free APPIDs, persisted so restarts do not reset it.
type budget struct {
	gap     time.Duration
	windowN int
	window  time.Duration
	quota   int64
	lim     *vendorkit.Limiter
	now     func() time.Time
	store   vendors.Store
	metrics vendors.Metrics
	log     zerolog.Logger

	// inflight lets one call out at a time, so a throttled answer is seen
	// before the next call leaves.
	inflight chan struct{}
	// born stands in for the previous call of every endpoint: a restarted
	// bridge may follow the last call of its previous run closely.
	born time.Time

	mu          sync.Mutex
	gates       map[string]*gate
	sent        []time.Time
	month       monthCounter
	loaded      bool
	pausedUntil time.Time
}

type gate struct {
	sem  chan struct{}
	last time.Time
}

type monthCounter struct {
	Month string `json:"month"`
	Used  int64  `json:"used"`
	// Exhausted is set when the cloud answered 412 (quota used up).
	Exhausted bool `json:"exhausted,omitempty"`
}

const budgetStoreName = "budget"

func newBudget(c *config, now func() time.Time, store vendors.Store, m vendors.Metrics, log zerolog.Logger) *budget {
	perSec := rate.Limit(float64(c.WindowCalls) / c.Window.Seconds())
	return &budget{
		gap: c.EndpointGap, windowN: c.WindowCalls, window: c.Window, quota: *c.MonthlyQuota,
		lim: vendorkit.NewLimiter(perSec, 5), now: now, store: store, metrics: m, log: log,
		gates: map[string]*gate{}, inflight: make(chan struct{}, 1), born: now(),
	}
}

func (b *budget) monthKey() string { return b.now().UTC().Format("2006-01") }

// loadLocked reads the monthly counter once and rolls it over at a new month.
func (b *budget) loadLocked() {
	if !b.loaded {
		b.loaded = true
		if b.store != nil {
			if _, err := b.store.Load(budgetStoreName, &b.month); err != nil {
				b.log.Warn().Err(err).Msg("monthly api counter unreadable; starting at zero")
				b.month = monthCounter{}
			}
		}
	}
	if m := b.monthKey(); b.month.Month != m {
		b.month = monthCounter{Month: m}
	}
}

func (b *budget) saveLocked() {
	if b.store == nil {
		return
	}
	if err := b.store.Save(budgetStoreName, b.month); err != nil {
		b.log.Warn().Err(err).Msg("saving the monthly api counter failed")
	}
}

func (b *budget) nextMonth() time.Duration {
	t := b.now().UTC()
	first := time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	return first.Sub(t)
}

// acquire waits until a call to endpoint ep may go and returns the function
// to call when it has finished. counted calls use the monthly quota.
func (b *budget) acquire(ctx context.Context, ep string, p vendorkit.Priority, counted bool) (func(), error) {
	if counted {
		b.mu.Lock()
		b.loadLocked()
		out := b.month.Exhausted || (b.quota > 0 && b.month.Used >= b.quota)
		b.mu.Unlock()
		if out {
			return nil, &vendors.RateLimitError{RetryAfter: b.nextMonth(), Err: fmt.Errorf("monthly API quota of the APPID is used up")}
		}
	}
	start := time.Now()
	b.mu.Lock()
	g := b.gates[ep]
	if g == nil {
		g = &gate{sem: make(chan struct{}, 1), last: b.born}
		b.gates[ep] = g
	}
	b.mu.Unlock()
	// 1. the endpoint: one call at a time, gap after the previous one ended
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	fail := func(err error) (func(), error) { <-g.sem; return nil, err }
	b.mu.Lock()
	wait := g.last.Add(b.gap).Sub(b.now())
	b.mu.Unlock()
	if err := vendorkit.Sleep(ctx, nil, wait); err != nil {
		return fail(err)
	}
	// 2. the account's bucket: commands before polls
	if err := b.lim.Wait(ctx, p); err != nil {
		return fail(err)
	}
	// 3. one call in flight, none while the cloud asked to wait
	for {
		select {
		case b.inflight <- struct{}{}:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
		b.mu.Lock()
		wait := time.Until(b.pausedUntil)
		b.mu.Unlock()
		if wait <= 0 {
			break
		}
		<-b.inflight
		if err := vendorkit.Sleep(ctx, nil, wait); err != nil {
			return fail(err)
		}
	}
	fail = func(err error) (func(), error) { <-b.inflight; <-g.sem; return nil, err }
	// 4. the rolling window, counted at the moment the call leaves
	for {
		b.mu.Lock()
		now := b.now()
		for len(b.sent) > 0 && now.Sub(b.sent[0]) >= b.window {
			b.sent = b.sent[1:]
		}
		if len(b.sent) < b.windowN {
			b.sent = append(b.sent, now)
			if counted {
				b.loadLocked()
				b.month.Used++
				b.saveLocked()
			}
			b.mu.Unlock()
			break
		}
		wait := b.sent[0].Add(b.window).Sub(now)
		b.mu.Unlock()
		if err := vendorkit.Sleep(ctx, nil, wait); err != nil {
			return fail(err)
		}
	}
	if w := time.Since(start); w > time.Millisecond {
		b.metrics.RateLimitWait(w)
	}
	b.report()
	return func() {
		b.mu.Lock()
		g.last = b.now()
		b.mu.Unlock()
		<-b.inflight
		<-g.sem
	}, nil
}

// pause holds every call for d (a throttled answer).
func (b *budget) pause(d time.Duration) {
	b.lim.Pause(d)
	b.mu.Lock()
	if until := time.Now().Add(d); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	b.mu.Unlock()
}

// exhausted records the cloud's 412: no counted calls until next month.
func (b *budget) exhausted() {
	b.mu.Lock()
	b.loadLocked()
	b.month.Exhausted = true
	b.saveLocked()
	b.mu.Unlock()
	b.report()
}

// remaining is what Status.Budget shows.
func (b *budget) remaining() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.loadLocked()
	now := b.now()
	inWindow := 0
	for _, t := range b.sent {
		if now.Sub(t) < b.window {
			inWindow++
		}
	}
	out := map[string]int64{"window_calls_remaining": int64(b.windowN - inWindow)}
	switch {
	case b.month.Exhausted:
		out["monthly_calls_remaining"] = 0
	case b.quota > 0:
		out["monthly_calls_remaining"] = max(0, b.quota-b.month.Used)
	}
	out["monthly_calls_used"] = b.month.Used
	return out
}

func (b *budget) report() {
	for k, v := range b.remaining() {
		b.metrics.Budget(k, float64(v))
	}
}
