package expeed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// The cloud allows 200 token calls a day. The token is cached in the store
// and reused across restarts; every call is counted, before it is sent, in a
// persisted per-day counter that refuses to go past token_budget.

const (
	storeToken = "token"
	storeQuota = "token_quota"
	// rejectGrace: a token the cloud refuses this soon after a forced refresh
	// is not refreshed again (the fault is elsewhere, e.g. auth_style).
	rejectGrace = 60 * time.Second
)

type tokenState struct {
	Account    string    `json:"account"`
	Token      string    `json:"access_token"`
	ObtainedAt time.Time `json:"obtained_at"`
	ExpiresIn  int64     `json:"expires_in"` // seconds
}

func (t tokenState) expiry() time.Time {
	return t.ObtainedAt.Add(time.Duration(t.ExpiresIn) * time.Second)
}

type quotaState struct {
	Account string `json:"account"`
	Day     string `json:"day"` // in the configured zone
	Calls   int    `json:"calls"`
}

// budgetError says the day's token budget is spent.
type budgetError struct {
	used, budget int
	until        time.Time
	zone         string
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("expeed token budget exhausted: %d of %d token calls used today (the cloud allows 200 a day); no new token before %s (%s)",
		e.used, e.budget, e.until.Format("2006-01-02 15:04"), e.zone)
}

// tokens obtains, caches and counts platform tokens. One refresh at a time:
// the mutex is held across the token call.
type tokens struct {
	a *Adapter

	once sync.Once // loads the cached token and the counter
	// sem admits one token holder at a time (a waiter can give up with its
	// ctx); it guards cur and forced*.
	sem         chan struct{}
	cur         tokenState
	qmu         sync.Mutex // guards quota, read by status reports during a token call
	quota       quotaState
	forcedToken string
	forcedAt    time.Time
}

// account fingerprints the credentials a cached token belongs to.
func (t *tokens) account() string { return t.a.s.PlatformKey + "@" + t.a.s.BaseURL }

func (t *tokens) load() {
	var ts tokenState
	if ok, err := t.a.store.Load(storeToken, &ts); err != nil {
		t.a.log.Warn().Err(err).Msg("cannot read the cached token; a new one will be fetched")
	} else if ok && ts.Account == t.account() && ts.Token != "" {
		t.cur = ts
		t.a.redact(ts.Token)
		t.a.metrics.TokenExpiry(ts.expiry())
	}
	var q quotaState
	if ok, err := t.a.store.Load(storeQuota, &q); err != nil {
		t.a.log.Warn().Err(err).Msg("cannot read the token call counter")
	} else if ok && q.Account == t.account() {
		t.qmu.Lock()
		t.quota = q
		t.qmu.Unlock()
	}
}

func (t *tokens) lock(ctx context.Context) error {
	t.once.Do(t.load)
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *tokens) unlock() { <-t.sem }

// margin is how long before expiry a token is replaced.
func (t *tokens) margin(lifetime time.Duration) time.Duration {
	if m := t.a.s.TokenRefreshMargin; m > 0 {
		return min(m, lifetime/2)
	}
	return min(max(lifetime/10, 5*time.Minute), lifetime/2)
}

func (t *tokens) valid(now time.Time) bool {
	if t.cur.Token == "" {
		return false
	}
	life := time.Duration(t.cur.ExpiresIn) * time.Second
	return now.Before(t.cur.expiry().Add(-t.margin(life))) && !now.Before(t.cur.ObtainedAt.Add(-time.Minute))
}

// get returns a token that is not close to expiry.
func (t *tokens) get(ctx context.Context, p vendorkit.Priority) (string, error) {
	if err := t.lock(ctx); err != nil {
		return "", err
	}
	defer t.unlock()
	if t.valid(t.a.now()) {
		return t.cur.Token, nil
	}
	return t.refresh(ctx, p)
}

// rejected handles result_code 1 for a call made with stale: one new token,
// unless another caller already got one, and never twice in a row for a
// token that was itself fresh.
func (t *tokens) rejected(ctx context.Context, stale string, p vendorkit.Priority) (string, error) {
	if err := t.lock(ctx); err != nil {
		return "", err
	}
	defer t.unlock()
	now := t.a.now()
	if t.cur.Token != stale && t.valid(now) {
		return t.cur.Token, nil
	}
	if stale == t.forcedToken && now.Sub(t.forcedAt) < rejectGrace {
		return "", vendors.Errorf(vendors.CodeAuth,
			"expeed rejects a token it issued moments ago (result_code 1); check auth_style (headers with underscores may be dropped by a proxy)")
	}
	tok, err := t.refresh(ctx, p)
	if err == nil {
		t.forcedToken, t.forcedAt = tok, now
	}
	return tok, err
}

// remaining is today's unused budget.
func (t *tokens) remaining() int {
	t.once.Do(t.load)
	t.qmu.Lock()
	defer t.qmu.Unlock()
	if t.quota.Day != t.day(t.a.now()) {
		return t.a.s.TokenBudget
	}
	return max(0, t.a.s.TokenBudget-t.quota.Calls)
}

func (t *tokens) day(now time.Time) string { return now.In(t.a.s.zone).Format("2006-01-02") }

// nextDay is the start of the next quota day.
func (t *tokens) nextDay(now time.Time) time.Time {
	n := now.In(t.a.s.zone)
	return time.Date(n.Year(), n.Month(), n.Day()+1, 0, 0, 0, 0, t.a.s.zone)
}

// refresh calls the token API; the caller holds the lock.
func (t *tokens) refresh(ctx context.Context, p vendorkit.Priority) (string, error) {
	now := t.a.now()
	left, err := t.count(now)
	t.a.reportKeep()
	if err != nil {
		return "", err
	}

	q := url.Values{"platform_key": {t.a.s.PlatformKey}, "secret_key": {t.a.s.SecretKey.Reveal()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.a.s.BaseURL+"/platform/token?"+q.Encode(), nil)
	if err != nil {
		return "", errors.New("cannot build the token request")
	}
	body, err := t.a.roundTrip(req, "token", p)
	if err != nil {
		return "", err
	}
	ans, err := decodeToken(body)
	var ce *cloudError
	switch {
	case errors.As(err, &ce) && ce.Code == 1:
		return "", vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth,
			Message: "expeed refused platform_key/secret_key (token API result_code 1: verification failed)"})
	case errors.As(err, &ce):
		return "", &vendors.Error{Code: vendors.CodeCloud, Message: "token API", Err: err}
	case err != nil:
		return "", &vendors.Error{Code: vendors.CodeCloud, Message: "token API", Err: err}
	}
	t.a.redact(ans.Token)
	t.cur = tokenState{Account: t.account(), Token: ans.Token, ObtainedAt: now, ExpiresIn: int64(ans.ExpiresIn / time.Second)}
	if err := t.a.store.Save(storeToken, t.cur); err != nil {
		t.a.log.Error().Err(err).Msg("cannot persist the token; a restart will cost a token call")
	}
	t.a.metrics.TokenExpiry(t.cur.expiry())
	t.a.log.Info().Time("expires", t.cur.expiry()).Int("budget_left", left).Msg("obtained a platform token")
	return ans.Token, nil
}

// count takes one call from today's budget, persisting the counter before
// the call is made so that a crash cannot forget it.
func (t *tokens) count(now time.Time) (left int, err error) {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	day := t.day(now)
	if t.quota.Day != day {
		t.quota = quotaState{Account: t.account(), Day: day}
	}
	if t.quota.Calls >= t.a.s.TokenBudget {
		until := t.nextDay(now)
		err := &budgetError{used: t.quota.Calls, budget: t.a.s.TokenBudget, until: until, zone: t.a.s.Timezone}
		return 0, &vendors.RateLimitError{RetryAfter: until.Sub(now), Err: err}
	}
	t.quota.Calls++
	if err := t.a.store.Save(storeQuota, t.quota); err != nil {
		t.a.log.Error().Err(err).Msg("cannot persist the token call counter")
	}
	left = t.a.s.TokenBudget - t.quota.Calls
	t.a.metrics.Budget("token_calls_left", float64(left))
	if t.quota.Calls*2 > t.a.s.TokenBudget {
		t.a.log.Warn().Int("used", t.quota.Calls).Int("budget", t.a.s.TokenBudget).Msg("more than half of today's token budget used")
	}
	return left, nil
}

// isBudget reports whether err is the spent token budget.
func isBudget(err error) bool {
	var b *budgetError
	return errors.As(err, &b)
}
