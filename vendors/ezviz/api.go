package ezviz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// client sends the account's Open Platform calls: every call waits on the
// account's limiter (commands first) and on the pause EZVIZ's rate-limit
// codes impose, carries the right token, and renews that token once on 10002.
type client struct {
	cfg     *config
	hc      *vendorkit.HTTPClient
	lim     *vendorkit.Limiter
	now     func() time.Time
	log     zerolog.Logger
	metrics vendors.Metrics
	tokens  *tokenManager

	gateMu      sync.Mutex
	pausedUntil time.Time
	pause       time.Duration // the next throttle pause; doubles while throttles repeat
}

// wait blocks until a call may go. User calls (High) do not queue behind a
// throttle pause: they fail at once with the time left.
func (c *client) wait(ctx context.Context, p vendorkit.Priority) error {
	for {
		if left := c.pausedFor(); left > 0 {
			if p == vendorkit.High {
				return &vendors.RateLimitError{RetryAfter: left, Err: errors.New("ezviz rate limit pause")}
			}
			if err := vendorkit.Sleep(ctx, nil, left); err != nil {
				return err
			}
		}
		start := c.now()
		if err := c.lim.Wait(ctx, p); err != nil {
			return err
		}
		c.metrics.RateLimitWait(c.now().Sub(start))
		// A throttle answer may have arrived while this call waited.
		if c.pausedFor() <= 0 {
			return nil
		}
	}
}

func (c *client) pausedFor() time.Duration {
	c.gateMu.Lock()
	defer c.gateMu.Unlock()
	return c.pausedUntil.Sub(c.now())
}

// throttled starts (or extends) the pause after a rate-limit answer and
// returns its length.
func (c *client) throttled(hint time.Duration) time.Duration {
	c.gateMu.Lock()
	d := c.pause
	if d == 0 {
		d = c.cfg.ThrottleBackoff
	}
	if hint > d {
		d = hint
	}
	next := 2 * d
	if next > c.cfg.ThrottleBackoffMax {
		next = c.cfg.ThrottleBackoffMax
	}
	c.pause = next
	if until := c.now().Add(d); until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
	c.gateMu.Unlock()
	c.lim.Pause(d)
	return d
}

func (c *client) unthrottled() {
	c.gateMu.Lock()
	c.pause = 0
	c.gateMu.Unlock()
}

// post sends one form POST and decodes the envelope. A business code other
// than 200 comes back as *apiError together with the envelope.
func (c *client) post(ctx context.Context, base, path, op string, form url.Values, p vendorkit.Priority) (*envelope, error) {
	if err := c.wait(ctx, p); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &vendors.Error{Code: vendors.CodeInternal, Message: "ezviz " + op + ": bad request URL"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req, op, p)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "ezviz " + op, Err: vendorkit.ScrubError(err)}
	}
	body, readErr := vendorkit.ReadBody(resp)
	if se := vendorkit.StatusError(resp); se != nil {
		var rl *vendors.RateLimitError
		if errors.As(se, &rl) {
			rl.RetryAfter = c.throttled(rl.RetryAfter)
			return nil, rl
		}
		return nil, fmt.Errorf("ezviz %s: %w", op, se)
	}
	if readErr != nil {
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "ezviz " + op, Err: readErr}
	}
	env, err := decodeEnvelope(body)
	if err != nil {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz " + op, Err: err}
	}
	code := string(env.Code)
	c.log.Debug().Str("op", op).Str("code", code).Int("bytes", len(body)).Msg("ezviz reply")
	if code == codeOK {
		c.unthrottled()
		return env, nil
	}
	ae := &apiError{Op: op, Code: code, Msg: env.Msg}
	if isRateCode(code) {
		return nil, &vendors.RateLimitError{RetryAfter: c.throttled(0), Err: ae}
	}
	return env, ae
}

// call sends an authenticated request with the token of kind; accept lists
// business codes that count as success for this call (60021 "already in
// that state"). On 10002 the token is renewed and the call repeated once.
func (c *client) call(ctx context.Context, kind tokenKind, path, op string, form url.Values, p vendorkit.Priority, accept ...string) (*envelope, error) {
	for attempt := 0; ; attempt++ {
		tok, base, err := c.tokens.get(ctx, kind, p)
		if err != nil {
			return nil, err
		}
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("accessToken", tok)
		env, err := c.post(ctx, base, path, op, f, p)
		var ae *apiError
		if isRateLimit(err) || !errors.As(err, &ae) {
			if err == nil {
				c.tokens.worked(kind)
			}
			return env, err
		}
		if ae.Code == codeTokenExpired {
			if attempt == 0 {
				c.tokens.invalidate(kind, tok)
				continue
			}
			c.tokens.refused(kind)
		}
		if slices.Contains(accept, ae.Code) {
			return env, nil
		}
		return env, coded(ae)
	}
}
