package ewelink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Routes are the login page (/ewelink/<account>/login) and the OAuth
// redirect URL handler (callback_path, default /ewelink/<account>/callback).
func (a *Adapter) Routes() []vendors.Route {
	return []vendors.Route{
		{Path: a.loginPath(), Handler: http.HandlerFunc(a.serveLogin)},
		{Path: a.cfg.CallbackPath, Handler: http.HandlerFunc(a.serveCallback)},
	}
}

const (
	stateTTL     = 10 * time.Minute
	maxStates    = 32
	loginPause   = 5 * time.Second
	loginTimeout = 30 * time.Second
)

// serveLogin starts a login: OAuth redirects to the authorization page;
// password mode shows a button that logs in once (never automatically after
// the cloud refused the tokens: that would kick the other session).
func (a *Adapter) serveLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if a.cfg.Login == loginOAuth {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		redirect := a.redirectURL()
		if redirect == "" {
			http.Error(w, "oauth login needs redirect_url or the bridge's public URL in the config", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, a.authorizeURL(a.newState(), redirect), http.StatusFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		page(w, http.StatusOK, "eWeLink login", fmt.Sprintf(`<p>Account %s logs in with its password.</p>
<form method="post"><input type="hidden" name="state" value="%s"><button type="submit">Log in now</button></form>`,
			html.EscapeString(a.env.Account), a.newState()))
	case http.MethodPost:
		// Only a form this page served may log in: another site cannot
		// make a visitor's browser trigger cloud logins.
		if !a.takeState(r.PostFormValue("state")) {
			http.Error(w, "this login form has expired; open the login page again", http.StatusForbidden)
			return
		}
		if err := a.personLogin(r.Context()); err != nil {
			page(w, http.StatusBadGateway, "eWeLink login failed", "<p>"+html.EscapeString(err.Error())+"</p>")
			return
		}
		page(w, http.StatusOK, "eWeLink login", "<p>Logged in. You can close this page.</p>")
	default:
		http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
	}
}

// personLogin is a password login a person asked for; one at a time and
// not more often than every few seconds.
func (a *Adapter) personLogin(ctx context.Context) error {
	a.oauthMu.Lock()
	if since := a.now().Sub(a.lastAttempt); since < loginPause {
		a.oauthMu.Unlock()
		return fmt.Errorf("a login was tried %s ago; wait a few seconds", since.Round(time.Second))
	}
	a.lastAttempt = a.now()
	a.oauthMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	return a.passwordLogin(ctx)
}

// newState makes a CSRF token for one login attempt.
func (a *Adapter) newState() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	a.oauthMu.Lock()
	defer a.oauthMu.Unlock()
	now := a.now()
	for k, exp := range a.states {
		if now.After(exp) {
			delete(a.states, k)
		}
	}
	for len(a.states) >= maxStates {
		var oldest string
		for k, exp := range a.states {
			if oldest == "" || exp.Before(a.states[oldest]) {
				oldest = k
			}
		}
		delete(a.states, oldest)
	}
	a.states[s] = now.Add(stateTTL)
	return s
}

// takeState consumes a state; false if unknown or expired.
func (a *Adapter) takeState(s string) bool {
	a.oauthMu.Lock()
	defer a.oauthMu.Unlock()
	exp, ok := a.states[s]
	delete(a.states, s)
	return ok && !a.now().After(exp)
}

// authorizeURL is the CoolKit authorization page with its signed query (§4.1).
func (a *Adapter) authorizeURL(state, redirect string) string {
	seq := strconv.FormatInt(a.now().UnixMilli(), 10)
	q := url.Values{}
	q.Set("clientId", a.cfg.AppID)
	q.Set("seq", seq)
	q.Set("authorization", sign(a.cfg.AppSecret.Reveal(), []byte(a.cfg.AppID+"_"+seq)))
	q.Set("redirectUrl", redirect)
	q.Set("grantType", "authorization_code")
	q.Set("state", state)
	q.Set("nonce", nonce(8))
	q.Set("showQRCode", "false")
	return a.cfg.OAuthURL + "?" + q.Encode()
}

// callback is the query of the OAuth redirect.
type callback struct {
	code, region, state string
}

var errCallback = errors.New("bad oauth callback")

// parseCallback validates the redirect's query: code, region, state.
func parseCallback(rawQuery string) (callback, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return callback{}, fmt.Errorf("%w: unreadable query", errCallback)
	}
	c := callback{code: q.Get("code"), region: q.Get("region"), state: q.Get("state")}
	switch {
	case c.state == "" || len(c.state) > 128:
		return callback{}, fmt.Errorf("%w: missing state", errCallback)
	case c.code == "" || len(c.code) > 256 || !printable(c.code):
		return callback{}, fmt.Errorf("%w: missing or malformed code", errCallback)
	case c.region != "" && !regions[c.region]:
		return callback{}, fmt.Errorf("%w: unknown region %.10q", errCallback, c.region)
	}
	return c, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// serveCallback finishes an OAuth login: checks state, exchanges the code
// in the returned region at once, reads the apikey, persists the tokens.
func (a *Adapter) serveCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	if a.cfg.Login != loginOAuth {
		http.Error(w, "this account logs in with a password", http.StatusNotFound)
		return
	}
	c, err := parseCallback(r.URL.RawQuery)
	if err != nil {
		page(w, http.StatusBadRequest, "eWeLink login failed", "<p>"+html.EscapeString(err.Error())+`</p><p><a href="`+html.EscapeString(a.loginURL())+`">Start again</a></p>`)
		return
	}
	a.redact(c.code)
	if !a.takeState(c.state) {
		page(w, http.StatusBadRequest, "eWeLink login failed", `<p>Unknown or expired login attempt.</p><p><a href="`+html.EscapeString(a.loginURL())+`">Start again</a></p>`)
		return
	}
	region := c.region
	if region == "" {
		region = a.cfg.Region
	}
	ctx, cancel := context.WithTimeout(r.Context(), loginTimeout)
	defer cancel()
	if err := a.exchangeCode(ctx, c.code, region, a.redirectURL()); err != nil {
		a.log.Warn().Err(err).Msg("oauth code exchange failed")
		page(w, http.StatusBadGateway, "eWeLink login failed", "<p>"+html.EscapeString(err.Error())+`</p><p><a href="`+html.EscapeString(a.loginURL())+`">Start again</a></p>`)
		return
	}
	page(w, http.StatusOK, "eWeLink login", "<p>Logged in. You can close this page.</p>")
}

func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body><h1>%s</h1>%s</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), body)
}
