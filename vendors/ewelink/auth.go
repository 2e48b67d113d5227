package ewelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// tokens is what a login yields, persisted under "tokens".
type tokens struct {
	AppID  string `json:"app_id"`
	User   string `json:"user,omitempty"`
	Region string `json:"region"`
	AT     string `json:"at"`
	RT     string `json:"rt"`
	// Expiry times in epoch milliseconds, as the cloud gives them.
	ATExpires int64  `json:"at_expires_ms"`
	RTExpires int64  `json:"rt_expires_ms"`
	APIKey    string `json:"apikey"`
	// Reauth marks tokens the cloud refused even after a refresh: a person
	// must log in again; the adapter never does on its own.
	Reauth bool `json:"reauth,omitempty"`
}

const (
	tokensStoreName = "tokens"
	atLifetime      = 30 * 24 * time.Hour
	rtLifetime      = 60 * 24 * time.Hour
)

// errReauth stops the account until a person logs in again.
var errReauth = &vendors.Error{Code: vendors.CodeAuth, Message: "re-authentication needed: the cloud refused the tokens (another login with this APPID, or they expired)"}

// errNoLogin is returned while no login has happened yet.
var errNoLogin = &vendors.Error{Code: vendors.CodeAuth, Message: "not logged in yet"}

func (a *Adapter) user() string {
	if a.cfg.Login != loginPassword {
		return ""
	}
	if a.cfg.Email != "" {
		return a.cfg.Email
	}
	return a.cfg.Phone
}

// loadTokens reads persisted tokens that belong to this APPID and user.
func (a *Adapter) loadTokens() {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if a.tokLoaded {
		return
	}
	a.tokLoaded = true
	if a.env.Store == nil {
		return
	}
	var t tokens
	found, err := a.env.Store.Load(tokensStoreName, &t)
	switch {
	case err != nil:
		a.log.Warn().Err(err).Msg("stored tokens unreadable; a new login is needed")
	case !found:
	case t.AppID != a.cfg.AppID || t.User != a.user() || t.AT == "":
		a.log.Info().Msg("stored tokens belong to another app_id or user; ignoring them")
	default:
		a.redact(t.AT, t.RT)
		a.tok = t
		a.gen++
	}
}

// setTokensLocked installs new tokens and persists them.
func (a *Adapter) setTokensLocked(t tokens) {
	t.AppID, t.User = a.cfg.AppID, a.user()
	a.tokLoaded = true
	a.redact(t.AT, t.RT)
	a.tok = t
	a.gen++
	a.saveTokensLocked()
	if t.ATExpires > 0 {
		a.metrics.TokenExpiry(time.UnixMilli(t.ATExpires))
	}
}

func (a *Adapter) saveTokensLocked() {
	if a.env.Store == nil {
		return
	}
	if err := a.env.Store.Save(tokensStoreName, a.tok); err != nil {
		a.log.Error().Err(err).Msg("saving tokens failed")
	}
}

// bearer returns the current tokens for a call and their generation.
func (a *Adapter) bearer() (tokens, uint64, error) {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	switch {
	case a.tok.Reauth:
		return tokens{}, 0, errReauth
	case a.tok.AT == "":
		return tokens{}, 0, errNoLogin
	}
	return a.tok, a.gen, nil
}

// accepted notes that the cloud took tokens of generation gen.
func (a *Adapter) accepted(gen uint64) {
	a.authMu.Lock()
	if gen == a.gen {
		a.fresh = false
	}
	a.authMu.Unlock()
}

// isAuthRefusal reports cloud answers that mean the tokens are dead (as
// opposed to a network or server problem).
func isAuthRefusal(err error) bool {
	switch cloudCode(err) {
	case 400, 401, 402, 403, 405, 406, 10001, 10003:
		return true
	}
	return false
}

// renew is called when the cloud refused tokens of generation gen (REST
// 401/402, WebSocket 406). It refreshes once for everyone who failed with
// those tokens; if the refreshed tokens are refused too, or the refresh is,
// the account needs a person (reference §4.4: a login loop kicks the other
// session and trips the limits).
func (a *Adapter) renew(ctx context.Context, gen uint64, code int) error {
	for {
		a.authMu.Lock()
		switch {
		case a.tok.Reauth:
			a.authMu.Unlock()
			return errReauth
		case gen != a.gen:
			a.authMu.Unlock()
			return nil // someone else renewed already
		case a.fresh:
			a.log.Warn().Int("code", code).Msg("refreshed tokens were refused too; re-authentication needed")
			a.markReauthLocked()
			a.authMu.Unlock()
			return errReauth
		case a.refreshing != nil:
			ch := a.refreshing
			a.authMu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ch := make(chan struct{})
		a.refreshing = ch
		tok := a.tok
		a.authMu.Unlock()

		a.log.Info().Int("code", code).Msg("access token refused; refreshing it once")
		nt, err := a.refresh(ctx, tok)

		a.authMu.Lock()
		a.refreshing = nil
		close(ch)
		switch {
		case err == nil:
			a.setTokensLocked(nt)
			a.fresh = true
		case isAuthRefusal(err):
			a.log.Warn().Err(err).Msg("token refresh refused; re-authentication needed")
			a.markReauthLocked()
			err = errReauth
		}
		a.authMu.Unlock()
		return err
	}
}

func (a *Adapter) markReauthLocked() {
	a.tok.Reauth = true
	a.saveTokensLocked()
	a.wakeLocked()
}

// wakeLocked tells Run that the login state changed.
func (a *Adapter) wakeLocked() {
	select {
	case a.loginWake <- struct{}{}:
	default:
	}
}

// refreshDue reports whether the access token is close to expiry.
func (a *Adapter) refreshDue() (uint64, bool) {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if a.tok.AT == "" || a.tok.Reauth || a.fresh || a.refreshing != nil {
		return 0, false
	}
	exp := a.tok.ATExpires
	if exp == 0 {
		return 0, false
	}
	return a.gen, time.UnixMilli(exp).Sub(a.now()) < a.cfg.RefreshBefore
}

// refreshIfDue refreshes ahead of expiry (reference §4.4: < 5 days left).
func (a *Adapter) refreshIfDue(ctx context.Context) error {
	gen, due := a.refreshDue()
	if !due {
		return nil
	}
	a.log.Info().Msg("access token expires soon; refreshing it")
	return a.renew(ctx, gen, 0)
}

// refresh swaps the refresh token for new tokens (both are new, §4.3).
func (a *Adapter) refresh(ctx context.Context, old tokens) (tokens, error) {
	var d struct {
		AT string `json:"at"`
		RT string `json:"rt"`
	}
	data, err := a.send(ctx, request{op: "POST /v2/user/refresh", method: http.MethodPost, url: a.cfg.apiBase(old.Region) + "/v2/user/refresh",
		body: map[string]string{"rt": old.RT}, auth: authSign, appid: true, prio: vendorkit.High, counted: true})
	if err != nil {
		return tokens{}, err
	}
	if err := json.Unmarshal(data, &d); err != nil || d.AT == "" || d.RT == "" {
		return tokens{}, &vendors.Error{Code: vendors.CodeCloud, Message: "refresh reply without tokens"}
	}
	now := a.now()
	nt := old
	nt.AT, nt.RT = d.AT, d.RT
	nt.ATExpires = now.Add(atLifetime).UnixMilli()
	nt.RTExpires = now.Add(rtLifetime).UnixMilli()
	nt.Reauth = false
	return nt, nil
}

// loginBody is the password login request (§4.2); field order is the doc's.
type loginBody struct {
	CountryCode string `json:"countryCode"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
	Password    string `json:"password"`
	Lang        string `json:"lang"`
}

// passwordLogin logs in with the configured account, following one region
// redirect (error 10004). Refused credentials are permanent errors.
func (a *Adapter) passwordLogin(ctx context.Context) error {
	body, err := json.Marshal(loginBody{CountryCode: a.cfg.CountryCode, Email: a.cfg.Email, PhoneNumber: a.cfg.Phone, Password: a.cfg.Password.Reveal(), Lang: "en"})
	if err != nil {
		return err
	}
	a.authMu.Lock()
	region := a.tok.Region
	a.authMu.Unlock()
	if region == "" {
		region = a.cfg.Region
	}
	for redirects := 0; ; redirects++ {
		a.log.Info().Str("region", region).Msg("logging in with password")
		data, err := a.send(ctx, request{op: "POST /v2/user/login", method: http.MethodPost, url: a.cfg.apiBase(region) + "/v2/user/login",
			body: json.RawMessage(body), auth: authSign, appid: true, prio: vendorkit.High, counted: true})
		var ce *cloudError
		if errors.As(err, &ce) && ce.code == 10004 && redirects == 0 {
			var d struct {
				Region string `json:"region"`
			}
			if json.Unmarshal(ce.data, &d) == nil && regions[d.Region] && d.Region != region {
				region = d.Region
				continue
			}
		}
		if err != nil {
			return loginError(err)
		}
		var d struct {
			User struct {
				APIKey string `json:"apikey"`
			} `json:"user"`
			AT     string `json:"at"`
			RT     string `json:"rt"`
			Region string `json:"region"`
		}
		if err := json.Unmarshal(data, &d); err != nil || d.AT == "" || d.RT == "" || d.User.APIKey == "" {
			return &vendors.Error{Code: vendors.CodeCloud, Message: "login reply without tokens"}
		}
		if regions[d.Region] {
			region = d.Region
		}
		now := a.now()
		a.authMu.Lock()
		a.setTokensLocked(tokens{Region: region, AT: d.AT, RT: d.RT, APIKey: d.User.APIKey,
			ATExpires: now.Add(atLifetime).UnixMilli(), RTExpires: now.Add(rtLifetime).UnixMilli()})
		a.fresh = false
		a.wakeLocked()
		a.authMu.Unlock()
		a.log.Info().Str("region", region).Msg("logged in")
		return nil
	}
}

// loginError makes refused credentials permanent, with a message that says
// what to fix.
func loginError(err error) error {
	var msg string
	switch cloudCode(err) {
	case 10001:
		msg = "eWeLink refused the password (error 10001)"
	case 10003:
		msg = "no eWeLink user with this email/phone (error 10003)"
	case 406:
		msg = "eWeLink refused the request signature: check app_id and app_secret (error 406)"
	case 407:
		msg = "this APPID may not use password login (error 407): free APPIDs need login: oauth"
	case 400:
		msg = "eWeLink refused the login parameters (error 400): check country_code and email/phone"
	case 10004:
		msg = "eWeLink keeps redirecting the login to another region (error 10004)"
	default:
		return err
	}
	return vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth, Message: msg})
}

// exchangeCode trades an OAuth code for tokens at the callback's region at
// once (codes live 30 s), then reads the user's apikey from the profile.
func (a *Adapter) exchangeCode(ctx context.Context, code, region, redirect string) error {
	a.redact(code)
	body := map[string]string{"code": code, "redirectUrl": redirect, "grantType": "authorization_code"}
	data, err := a.send(ctx, request{op: "POST /v2/user/oauth/token", method: http.MethodPost, url: a.cfg.apiBase(region) + "/v2/user/oauth/token",
		body: body, auth: authSign, appid: true, prio: vendorkit.High, counted: true})
	if err != nil {
		if cloudCode(err) == 405 {
			return &vendors.Error{Code: vendors.CodeAuth, Message: "the authorization code expired (codes live 30 seconds); log in again", Err: err}
		}
		return err
	}
	var d struct {
		AT        string  `json:"accessToken"`
		ATExpires flexInt `json:"atExpiredTime"`
		RT        string  `json:"refreshToken"`
		RTExpires flexInt `json:"rtExpiredTime"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.AT == "" || d.RT == "" {
		return &vendors.Error{Code: vendors.CodeCloud, Message: "oauth token reply without tokens"}
	}
	a.redact(d.AT, d.RT)
	var prof struct {
		User struct {
			APIKey string `json:"apikey"`
		} `json:"user"`
		Region string `json:"region"`
	}
	pdata, err := a.send(ctx, request{op: "GET /v2/user/profile", method: http.MethodGet, url: a.cfg.apiBase(region) + "/v2/user/profile",
		auth: authBearer, token: d.AT, appid: true, prio: vendorkit.High, counted: true})
	if err != nil {
		return fmt.Errorf("reading the user profile: %w", err)
	}
	if err := json.Unmarshal(pdata, &prof); err != nil || prof.User.APIKey == "" {
		return &vendors.Error{Code: vendors.CodeCloud, Message: "profile reply without the user's apikey"}
	}
	now := a.now()
	t := tokens{Region: region, AT: d.AT, RT: d.RT, APIKey: prof.User.APIKey, ATExpires: int64(d.ATExpires), RTExpires: int64(d.RTExpires)}
	if t.ATExpires <= 0 {
		t.ATExpires = now.Add(atLifetime).UnixMilli()
	}
	if t.RTExpires <= 0 {
		t.RTExpires = now.Add(rtLifetime).UnixMilli()
	}
	a.authMu.Lock()
	a.setTokensLocked(t)
	a.fresh = false
	a.wakeLocked()
	a.authMu.Unlock()
	a.log.Info().Str("region", region).Msg("oauth login complete")
	return nil
}

func (a *Adapter) redact(secrets ...string) {
	if a.env.Redact != nil {
		a.env.Redact(secrets...)
	}
}

// needsLogin reports whether there are no usable tokens and whether the
// adapter may log in on its own (password mode, never after a refusal).
func (a *Adapter) needsLogin() (need, auto bool) {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	switch {
	case a.tok.Reauth:
		return true, false
	case a.tok.AT == "":
		return true, a.cfg.Login == loginPassword
	case a.tok.RTExpires > 0 && a.now().UnixMilli() > a.tok.RTExpires:
		// Both tokens ran out by the clock (the bridge was off for months):
		// logging in again kicks nobody.
		return true, a.cfg.Login == loginPassword
	}
	return false, false
}
