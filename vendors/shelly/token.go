package shelly

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// tokenSource holds the integrator access token (a JWT valid 24 h): loaded
// from the store, fetched only when missing, refused or close to its exp,
// and never by two callers at once.
type tokenSource struct {
	apiURL        string
	tag           string
	secret        vendors.Secret
	refreshBefore time.Duration
	minGap        time.Duration
	hc            *http.Client
	store         vendors.Store
	redact        func(...string)
	metrics       vendors.Metrics
	now           func() time.Time
	log           zerolog.Logger

	mu     sync.Mutex
	loaded bool
	tok    string
	exp    time.Time
	got    time.Time
	last   time.Time // last fetch attempt
	// notBefore: the token endpoint answered as throttled; no call before.
	notBefore time.Time
	fatal     error
	inflight  *tokenCall
}

type tokenCall struct {
	done chan struct{}
	tok  string
	err  error
}

type storedToken struct {
	Token    string    `json:"token"`
	Expires  time.Time `json:"expires"`
	Obtained time.Time `json:"obtained"`
}

const tokenName = "token"

// throttleHold is the wait after a throttled answer without Retry-After.
const throttleHold = 2 * time.Second

func (t *tokenSource) loadLocked() {
	if t.loaded {
		return
	}
	t.loaded = true
	if t.store == nil {
		return
	}
	var st storedToken
	found, err := t.store.Load(tokenName, &st)
	if err != nil {
		t.log.Warn().Err(err).Msg("cannot read the stored access token; fetching a new one")
		return
	}
	if found && st.Token != "" {
		t.redact(st.Token)
		t.tok, t.exp, t.got = st.Token, st.Expires, st.Obtained
		t.metrics.TokenExpiry(st.Expires)
	}
}

// refreshAt is when a token should be replaced: refreshBefore ahead of exp,
// or at three quarters of its life when it is short.
func (t *tokenSource) refreshAtLocked() time.Time {
	ahead := t.refreshBefore
	if life := t.exp.Sub(t.got); life > 0 && life/4 < ahead {
		ahead = life / 4
	}
	return t.exp.Add(-ahead)
}

// valid returns the cached token if it can still be used and needs no refresh.
func (t *tokenSource) cached() (tok string, fresh bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.loadLocked()
	now := t.now()
	if t.tok == "" || !now.Before(t.exp) {
		return "", false
	}
	return t.tok, now.Before(t.refreshAtLocked())
}

// get returns a usable token, fetching one if needed. A failed refresh of a
// token that is still valid falls back to that token.
func (t *tokenSource) get(ctx context.Context) (string, error) {
	tok, fresh := t.cached()
	if fresh {
		return tok, nil
	}
	nt, err := t.fetch(ctx)
	if err != nil && tok != "" && !vendors.IsPermanent(err) && ctx.Err() == nil {
		t.log.Warn().Err(err).Msg("access token refresh failed; using the current one until it expires")
		return tok, nil
	}
	return nt, err
}

// nextRefresh is when the run loop should refresh proactively (zero: no token).
func (t *tokenSource) nextRefresh() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.loadLocked()
	if t.tok == "" {
		return time.Time{}
	}
	return t.refreshAtLocked()
}

// invalidate forgets tok after the cloud refused it (unless a newer token
// already replaced it).
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok != "" && t.tok == tok {
		t.tok, t.exp = "", time.Time{}
	}
}

// fetch gets a new token; concurrent callers share one request.
func (t *tokenSource) fetch(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.fatal != nil {
		t.mu.Unlock()
		return "", t.fatal
	}
	if c := t.inflight; c != nil {
		t.mu.Unlock()
		select {
		case <-c.done:
			return c.tok, c.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c := &tokenCall{done: make(chan struct{})}
	t.inflight = c
	now := t.now()
	wait := t.last.Add(t.minGap).Sub(now)
	if w := t.notBefore.Sub(now); w > wait {
		wait = w
	}
	t.mu.Unlock()

	if wait > 0 {
		if err := vendorkit.Sleep(ctx, nil, wait); err != nil {
			c.err = err
		}
	}
	if c.err == nil {
		c.tok, c.err = t.request(ctx)
	}

	t.mu.Lock()
	t.inflight = nil
	t.last = t.now()
	var rl *vendors.RateLimitError
	if errors.As(c.err, &rl) {
		// No rate is documented for this endpoint; without a Retry-After
		// hold off as §4.4 of the reference suggests for a throttled answer.
		ra := rl.RetryAfter
		if ra <= 0 {
			ra = throttleHold
		}
		t.notBefore = t.last.Add(ra)
		t.log.Warn().Dur("retry_in", ra).Msg("access token request throttled")
	}
	if vendors.IsPermanent(c.err) {
		t.fatal = c.err
	}
	t.mu.Unlock()
	close(c.done)
	return c.tok, c.err
}

// request calls POST /integrator/get_access_token (form itg, token).
func (t *tokenSource) request(ctx context.Context) (string, error) {
	form := url.Values{"itg": {t.tag}, "token": {t.secret.Reveal()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.apiURL+"/integrator/get_access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := vendorkit.HTTPClient{Client: t.hc, Metrics: t.metrics}
	resp, err := client.Do(req, "get_access_token", vendorkit.High)
	if err != nil {
		return "", &vendors.Error{Code: vendors.CodeUnavailable, Message: "access token request failed", Err: err}
	}
	body, err := vendorkit.ReadBody(resp)
	if err != nil {
		return "", err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth, Message: fmt.Sprintf("integrator tag/token refused (http %d)", resp.StatusCode)})
	case resp.StatusCode >= 300:
		return "", vendorkit.StatusError(resp)
	}
	tok, exp, err := parseTokenResponse(body)
	if err != nil {
		return "", err
	}
	t.redact(tok)
	now := t.now()
	if exp.IsZero() {
		exp = now.Add(24 * time.Hour) // documented lifetime
	}
	t.mu.Lock()
	t.tok, t.exp, t.got = tok, exp, now
	t.mu.Unlock()
	t.metrics.TokenExpiry(exp)
	if t.store != nil {
		if err := t.store.Save(tokenName, storedToken{Token: tok, Expires: exp, Obtained: now}); err != nil {
			t.log.Warn().Err(err).Msg("cannot store the access token")
		}
	}
	t.log.Info().Time("expires", exp).Msg("integrator access token obtained")
	return tok, nil
}

// parseTokenResponse reads {"isok":true,"data":"<JWT>"} (also tolerating
// data as {"token": "<JWT>"}) and the JWT's exp.
func parseTokenResponse(body []byte) (string, time.Time, error) {
	var env struct {
		IsOK   json.RawMessage `json:"isok"`
		Data   json.RawMessage `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", time.Time{}, &vendors.Error{Code: vendors.CodeCloud, Message: "access token answer is not JSON"}
	}
	var isok any
	_ = json.Unmarshal(env.IsOK, &isok)
	if ok, known := flag(isok); !known || !ok {
		return "", time.Time{}, vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth, Message: "integrator tag/token refused" + errorKeys(env.Errors)})
	}
	tok := rawString(env.Data)
	if tok == "" {
		var obj struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(env.Data, &obj)
		tok = obj.Token
	}
	if tok == "" || len(tok) > 8192 {
		return "", time.Time{}, &vendors.Error{Code: vendors.CodeCloud, Message: "access token answer has no token"}
	}
	return tok, jwtExp(tok), nil
}

// errorKeys names the keys of a Shelly "errors" object (values may echo input).
func errorKeys(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if len(k) <= 40 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return " (" + strings.Join(keys, ", ") + ")"
}

// jwtExp reads a JWT's exp without verifying it (HS384 with Shelly's secret).
func jwtExp(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp any `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}
	}
	if f, ok := num(c.Exp); ok && f > 0 {
		return unixTime(f)
	}
	return time.Time{}
}
