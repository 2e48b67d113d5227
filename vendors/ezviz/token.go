package ezviz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

type tokenKind int

const (
	// kindApp is the app's own accessToken ("at."), for self-owned devices.
	kindApp tokenKind = iota
	// kindTrust is the all-permission trust token ("da."), for devices
	// users trusted to the app.
	kindTrust
)

func (k tokenKind) String() string {
	if k == kindTrust {
		return "trust"
	}
	return "app"
}

var tokenPaths = [2]string{"/api/lapp/token/get", "/api/lapp/trust/device/v2/token/get"}

// storedToken is what the store keeps per kind.
type storedToken struct {
	Token    string `json:"token"`
	ExpireMS int64  `json:"expire_ms"`
	IssuedMS int64  `json:"issued_ms,omitempty"`
	Area     string `json:"area,omitempty"`
}

// fresh reports whether t can be used at now: it is renewed when less than
// 12 h, or half its lifetime if that is shorter (the trust token's lifetime
// is not documented), is left.
func (t *storedToken) fresh(now time.Time) bool {
	exp := time.UnixMilli(t.ExpireMS)
	margin := tokenRefreshBefore
	if t.IssuedMS > 0 {
		if half := exp.Sub(time.UnixMilli(t.IssuedMS)) / 2; half < margin {
			margin = half
		}
	}
	return exp.Sub(now) > margin
}

type storedTokens struct {
	// For ties the tokens to the app key and host they were issued for.
	For   string       `json:"for"`
	App   *storedToken `json:"app,omitempty"`
	Trust *storedToken `json:"trust,omitempty"`
}

const tokenStoreName = "tokens"

// tokenManager obtains, caches, persists and renews the two tokens. Logins
// are serialized, so concurrent callers that find a token missing cause one
// login between them.
type tokenManager struct {
	cfg    *config
	c      *client
	store  vendors.Store
	redact func(...string)
	log    zerolog.Logger

	mu     sync.Mutex
	loaded bool
	toks   [2]*storedToken
	// After a fresh token was refused too, no new login before noLogin.
	noLogin [2]time.Time
	refusal [2]vendorkit.Backoff
}

func newTokenManager(cfg *config, c *client, store vendors.Store, redact func(...string), log zerolog.Logger) *tokenManager {
	tm := &tokenManager{cfg: cfg, c: c, store: store, redact: redact, log: log}
	for i := range tm.refusal {
		tm.refusal[i] = vendorkit.Backoff{Base: cfg.BackoffMin, Max: cfg.BackoffMax, Floor: cfg.BackoffMin}
	}
	return tm
}

// get returns a valid token of kind and the base URL calls with it go to,
// logging in when none is cached or the cached one is near its expiry.
func (tm *tokenManager) get(ctx context.Context, kind tokenKind, p vendorkit.Priority) (string, string, error) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.loadLocked()
	now := tm.c.now()
	if t := tm.toks[kind]; t != nil && t.fresh(now) {
		return t.Token, tm.base(t), nil
	}
	if now.Before(tm.noLogin[kind]) {
		return "", "", &vendors.Error{Code: vendors.CodeAuth, Message: fmt.Sprintf("ezviz refused a fresh %s token; next login in %s", kind, tm.noLogin[kind].Sub(now).Round(time.Second))}
	}
	t, err := tm.login(ctx, kind)
	if err != nil {
		return "", "", err
	}
	tm.toks[kind] = t
	tm.saveLocked()
	return t.Token, tm.base(t), nil
}

func (tm *tokenManager) base(t *storedToken) string {
	if t.Area != "" {
		return t.Area
	}
	return tm.cfg.tokenHost()
}

// login fetches a token with appKey and appSecret. Refused credentials are
// permanent: retrying cannot fix them.
func (tm *tokenManager) login(ctx context.Context, kind tokenKind) (*storedToken, error) {
	form := url.Values{"appKey": {tm.cfg.AppKey}, "appSecret": {tm.cfg.AppSecret.Reveal()}}
	op := "token_get"
	if kind == kindTrust {
		op = "trust_token_get"
	}
	tm.log.Info().Str("token", kind.String()).Msg("ezviz login")
	env, err := tm.c.post(ctx, tm.cfg.tokenHost(), tokenPaths[kind], op, form, vendorkit.High)
	var ae *apiError
	if !isRateLimit(err) && errors.As(err, &ae) {
		if why, bad := badCredentialCodes[ae.Code]; bad {
			return nil, vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth, Message: "ezviz refused the credentials: " + why, Err: ae})
		}
		return nil, coded(ae)
	}
	if err != nil {
		return nil, err
	}
	td, err := decodeToken(env)
	if err != nil {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz " + op, Err: err}
	}
	tm.redact(td.AccessToken)
	t := &storedToken{Token: td.AccessToken, ExpireMS: td.ExpireTime.V, IssuedMS: tm.c.now().UnixMilli()}
	if !t.fresh(tm.c.now()) {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz " + op + ": the new token is already expired (check the system clock)"}
	}
	if td.AreaDomain != "" {
		area := trimSlash(td.AreaDomain)
		if !tm.cfg.acceptableArea(area) {
			return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "ezviz " + op + ": areaDomain is not an EZVIZ https host; refusing to send the token there"}
		}
		t.Area = area
	}
	tm.c.metrics.TokenExpiry(time.UnixMilli(t.ExpireMS))
	return t, nil
}

// invalidate drops tok after the cloud answered 10002 for it; a token that
// was already replaced by a concurrent caller stays.
func (tm *tokenManager) invalidate(kind tokenKind, tok string) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if t := tm.toks[kind]; t != nil && t.Token == tok {
		tm.toks[kind] = nil
	}
}

// refused is called when a freshly fetched token got 10002 as well: no new
// login until a backoff passes, so a confused cloud cannot cause a login loop.
func (tm *tokenManager) refused(kind tokenKind) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.noLogin[kind] = tm.c.now().Add(tm.refusal[kind].Next())
}

func (tm *tokenManager) worked(kind tokenKind) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.refusal[kind].Attempts() > 0 {
		tm.refusal[kind].Reset()
	}
}

func (tm *tokenManager) loadLocked() {
	if tm.loaded {
		return
	}
	tm.loaded = true
	if tm.store == nil {
		return
	}
	var st storedTokens
	found, err := tm.store.Load(tokenStoreName, &st)
	if err != nil {
		tm.log.Warn().Err(err).Msg("ezviz stored tokens unreadable; logging in again")
		return
	}
	if !found || st.For != tm.owner() {
		return
	}
	for kind, t := range []*storedToken{st.App, st.Trust} {
		if t == nil || t.Token == "" {
			continue
		}
		if t.Area != "" && !tm.cfg.acceptableArea(t.Area) {
			continue
		}
		tm.redact(t.Token)
		tm.toks[kind] = t
		tm.c.metrics.TokenExpiry(time.UnixMilli(t.ExpireMS))
	}
}

func (tm *tokenManager) saveLocked() {
	if tm.store == nil {
		return
	}
	st := storedTokens{For: tm.owner(), App: tm.toks[kindApp], Trust: tm.toks[kindTrust]}
	if err := tm.store.Save(tokenStoreName, st); err != nil {
		tm.log.Warn().Err(err).Msg("ezviz tokens not saved")
	}
}

// owner fingerprints the app key and token host without storing the key.
func (tm *tokenManager) owner() string {
	sum := sha256.Sum256([]byte(tm.cfg.AppKey + "|" + tm.cfg.tokenHost()))
	return hex.EncodeToString(sum[:8])
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
