package ewelink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Run logs in (or waits for a person to), lists devices and keeps a
// WebSocket open, reconnecting with jittered backoff (15 s → 64 min by
// default, never below backoff_min).
func (a *Adapter) Run(ctx context.Context, sink vendors.Sink) error {
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return errors.New("ewelink: Run is already running for this account")
	}
	a.running, a.sink = true, sink
	a.lastStatus, a.announced = nil, false
	a.mu.Unlock()
	defer func() {
		a.book.flush()
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
	}()
	a.loadTokens()
	a.book.load()
	if a.cfg.Login == loginOAuth && a.redirectURL() == "" {
		err := vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth, Message: "oauth login needs redirect_url or the bridge's public URL"})
		a.setStatus(vendors.StateError, err.Error())
		return err
	}
	backoff := func() vendorkit.Backoff {
		return vendorkit.Backoff{Base: 2 * a.cfg.BackoffMin, Max: a.cfg.BackoffMax, Floor: a.cfg.BackoffMin}
	}
	loginBackoff := backoff()
	sup := vendorkit.Supervisor{Backoff: backoff(), StableAfter: a.cfg.StableAfter, Clock: a.clock,
		OnRetry: func(err error, wait time.Duration) {
			a.log.Warn().Err(err).Dur("retry_in", wait).Msg("cloud session ended; reconnecting after backoff")
			a.setStatus(vendors.StateBackoff, err.Error())
		}}
	for {
		if err := a.awaitLogin(ctx, &loginBackoff); err != nil {
			return err
		}
		err := sup.Run(ctx, a.session)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errReauth) || errors.Is(err, errNoLogin) {
			continue
		}
		a.setStatus(vendors.StateError, err.Error())
		return err
	}
}

// awaitLogin returns once there are tokens to use: at once if stored ones
// are fine, after a password login when that is allowed, else when a person
// has logged in through the login URL.
func (a *Adapter) awaitLogin(ctx context.Context, bo *vendorkit.Backoff) error {
	for {
		need, auto := a.needsLogin()
		if !need {
			return nil
		}
		if auto {
			a.setStatus(vendors.StateConnecting, "")
			err := a.passwordLogin(ctx)
			switch {
			case err == nil:
				bo.Reset()
				continue
			case ctx.Err() != nil:
				return ctx.Err()
			case vendors.IsPermanent(err):
				a.log.Error().Err(err).Msg("login refused")
				a.setStatus(vendors.StateError, err.Error())
				return err
			}
			wait := bo.Next()
			a.log.Warn().Err(err).Dur("retry_in", wait).Msg("login failed; retrying after backoff")
			a.setStatus(vendors.StateBackoff, err.Error())
			if err := vendorkit.Sleep(ctx, a.clock, wait); err != nil {
				return err
			}
			continue
		}
		a.announceLogin()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.loginWake:
		}
	}
}

// announceLogin shows the login URL in the status and logs it once.
func (a *Adapter) announceLogin() {
	a.setStatus(vendors.StateError, "re-authentication needed: log in at "+a.loginURL())
	a.mu.Lock()
	first := !a.announced
	a.announced = true
	a.mu.Unlock()
	if first {
		a.log.Warn().Str("login_url", a.loginURL()).Str("mode", a.cfg.Login).Msg("ewelink login needed; open the login url")
	}
}

// sessionErr makes auth failures end the supervisor (a person must act).
func sessionErr(err error) error {
	if errors.Is(err, errReauth) || errors.Is(err, errNoLogin) {
		return vendors.Permanent(err)
	}
	return err
}

// session is one connected period: relist if needed, WebSocket up, serve
// until it drops. In steady state it makes no REST calls at all except the
// relist every relist_interval.
func (a *Adapter) session(ctx context.Context) error {
	if err := a.refreshIfDue(ctx); err != nil {
		if errors.Is(err, errReauth) {
			return sessionErr(err)
		}
		a.log.Warn().Err(err).Msg("early token refresh failed; the token is still valid")
	}
	a.setStatus(vendors.StateConnecting, "")
	w, err := a.connect(ctx)
	if err != nil {
		a.mu.Lock()
		listed := a.listed
		a.mu.Unlock()
		if !listed && !errors.Is(err, errReauth) {
			// The first inventory comes even if the socket will not.
			if lerr := a.relist(ctx, vendorkit.Low); lerr != nil && errors.Is(lerr, errReauth) {
				return sessionErr(lerr)
			}
		}
		return sessionErr(err)
	}
	a.mu.Lock()
	a.ws = w
	need := a.needRelist
	a.mu.Unlock()
	a.metrics.StreamConnected(true)
	defer func() {
		a.mu.Lock()
		a.ws = nil
		a.needRelist = true
		a.mu.Unlock()
		w.close()
		a.metrics.StreamConnected(false)
	}()
	if need {
		// Read the state after userOnline, so nothing falls between the
		// list and the stream (§6.6 step 4); reports arriving meanwhile are
		// applied again on top of the list.
		if err := a.relist(ctx, vendorkit.Low); err != nil {
			return sessionErr(err)
		}
	}
	a.log.Info().Dur("heartbeat", w.interval).Msg("websocket connected")
	a.setStatus(vendors.StateConnected, "")
	w.goLow(func(ctx context.Context) { a.energyLoop(ctx, w) })

	relist := time.NewTicker(a.cfg.RelistInterval)
	defer relist.Stop()
	check := time.NewTicker(max(min(w.interval/2, time.Minute), 5*time.Millisecond))
	defer check.Stop()
	quiet := time.NewTicker(restQuietEvery)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.ctx.Done():
			return context.Cause(w.ctx)
		case <-a.loginWake:
			// A REST call found the tokens dead even after a refresh: the
			// socket must not outlive them.
			if _, _, err := a.bearer(); err != nil {
				return sessionErr(err)
			}
		case <-relist.C:
			if err := a.relist(ctx, vendorkit.Low); err != nil {
				if errors.Is(err, errReauth) {
					return sessionErr(err)
				}
				a.log.Warn().Err(err).Msg("periodic device list failed")
			}
		case <-quiet.C:
			a.restQuiet()
		case <-check.C:
			a.book.flush()
			if w.hb && w.idle() > 2*w.interval {
				return fmt.Errorf("websocket silent for %s (no pong)", w.idle().Round(time.Millisecond))
			}
			if err := a.refreshIfDue(ctx); errors.Is(err, errReauth) {
				return sessionErr(err)
			}
		}
	}
}

// restQuietEvery is how often devices that did not report since the last
// time get their params back to JSON (thing.restIfQuiet).
const restQuietEvery = time.Minute

func (a *Adapter) restQuiet() (rested int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.things {
		if t.restIfQuiet() {
			rested++
		}
	}
	return rested
}

// currentWS is the open session, if any.
func (a *Adapter) currentWS() *wsConn {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ws
}

// setStatus reports the account state when it changed.
func (a *Adapter) setStatus(state vendors.AccountState, lastErr string) {
	need, _ := a.needsLogin()
	a.authMu.Lock()
	region := a.tok.Region
	a.authMu.Unlock()
	if region == "" {
		region = a.cfg.Region
	}
	s := vendors.Status{State: state, LastError: lastErr, Budget: a.budget.remaining(),
		Info: map[string]string{"login": a.cfg.Login, "region": region}}
	if need {
		s.Reauth, s.ReauthURL = true, a.loginURL()
		s.Info["login_url"] = a.loginURL()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lastStatus != nil && statusEqual(*a.lastStatus, s) {
		return
	}
	a.lastStatus = &s
	a.sinkLocked().Status(s)
}

// statusEqual compares statuses, budget included.
func statusEqual(x, y vendors.Status) bool { return reflect.DeepEqual(x, y) }

// reportBudget re-sends the current status when the budget moved (after a
// device list, a refresh); single calls do not each produce a status.
func (a *Adapter) reportBudget() {
	a.mu.Lock()
	last := a.lastStatus
	a.mu.Unlock()
	if last != nil {
		a.setStatus(last.State, last.LastError)
	}
}

// loginPath is where the bridge serves the login redirect.
func (a *Adapter) loginPath() string {
	return "/" + vendorName + "/" + url.PathEscape(a.env.Account) + "/login"
}

// loginURL is the login page a person opens.
func (a *Adapter) loginURL() string { return a.env.PublicURL + a.loginPath() }

// redirectURL is the OAuth redirect URL registered at dev.ewelink.cc.
func (a *Adapter) redirectURL() string {
	if a.cfg.RedirectURL != "" {
		return a.cfg.RedirectURL
	}
	if a.env.PublicURL == "" {
		return ""
	}
	return a.env.PublicURL + a.cfg.CallbackPath
}
