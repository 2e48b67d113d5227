package ewelinksim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// session is the one valid login of the account for this APPID; a new login
// replaces it and every token of the old one stops working (401 / WS 406).
type session struct {
	at, rt    string
	atExpired bool
	atExpires time.Time
	rtExpires time.Time
}

type oauthCode struct {
	region, redirect string
	expires          time.Time
	used             bool
}

var nonceRE = regexp.MustCompile(`^[A-Za-z0-9]{8}$`)

func randomString(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func hmacB64(secret string, msg []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signedQuery is the canonical form of a signed GET: parameters sorted by
// name, raw values, joined by &.
func signedQuery(q url.Values) string {
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "&")
}

// checkHeaders verifies the common headers; it answers and returns false
// when they are wrong.
func (s *Server) checkHeaders(w http.ResponseWriter, r *http.Request, needAppID bool) bool {
	if n := r.Header.Get("X-CK-Nonce"); n != "" && !nonceRE.MatchString(n) {
		writeEnvelope(w, 400, "X-CK-Nonce must be 8 letters or digits", nil)
		return false
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		ct := strings.ToLower(strings.ReplaceAll(r.Header.Get("Content-Type"), " ", ""))
		if ct != "application/json" && ct != "application/json;charset=utf-8" {
			writeEnvelope(w, 400, "Content-Type must be application/json", nil)
			return false
		}
	}
	if needAppID {
		switch id := r.Header.Get("X-CK-Appid"); {
		case id == "":
			writeEnvelope(w, 400, "X-CK-Appid missing", nil)
			return false
		case id != s.opt.AppID:
			writeEnvelope(w, 406, "appid not found", nil)
			return false
		}
	}
	return true
}

// checkSign verifies "Authorization: Sign <b64>" over the body (POST) or
// the sorted raw query (GET).
func (s *Server) checkSign(r *http.Request, body []byte) bool {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Sign ") {
		return false
	}
	msg := body
	if r.Method == http.MethodGet {
		msg = []byte(signedQuery(r.URL.Query()))
	}
	want := hmacB64(s.opt.AppSecret, msg)
	return hmac.Equal([]byte(strings.TrimPrefix(h, "Sign ")), []byte(want))
}

// bearer checks "Authorization: Bearer <at>": 0 valid, 402 expired, 401
// invalid (usually: the account logged in elsewhere).
func (s *Server) bearer(r *http.Request) int {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") {
		return 401
	}
	return s.tokenState(strings.TrimPrefix(h, "Bearer "))
}

func (s *Server) tokenState(at string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.refuseN > 0:
		s.refuseN--
		return 401
	case s.session == nil || at == "" || at != s.session.at:
		return 401
	case s.session.atExpired || s.opt.Now().After(s.session.atExpires):
		return 402
	}
	return 0
}

// newSessionLocked logs the account in afresh; the previous session's tokens
// stop working and its sockets are closed.
func (s *Server) newSessionLocked() *session {
	if old := s.session; old != nil {
		s.retired[old.at], s.retired[old.rt] = true, true
		for c := range s.clients {
			if c.at == old.at {
				c.kill("logged in elsewhere")
			}
		}
	}
	now := s.opt.Now()
	s.session = &session{at: "at-" + randomString(32), rt: "rt-" + randomString(32),
		atExpires: now.Add(30 * 24 * time.Hour), rtExpires: now.Add(60 * 24 * time.Hour)}
	return s.session
}

// Tokens lists every token issued so far (for the secret scan).
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.retired {
		out = append(out, t)
	}
	if s.session != nil {
		out = append(out, s.session.at, s.session.rt)
	}
	for c := range s.codes {
		out = append(out, c)
	}
	return out
}

// ExpireTokens makes the current access token expired (402; WS 406). The
// refresh token stays valid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	if s.session != nil {
		s.session.atExpired = true
	}
	s.mu.Unlock()
}

// RefuseTokens makes the next n token checks (Bearer REST calls and
// userOnline) fail as if the session were gone (REST 401, WebSocket 406),
// while the refresh token keeps working: the case where only a fresh login
// would help.
func (s *Server) RefuseTokens(n int) {
	s.mu.Lock()
	s.refuseN = n
	s.mu.Unlock()
}

// LoginElsewhere logs the account in from another client with the same
// APPID: every token held so far dies (the single-session rule).
func (s *Server) LoginElsewhere() {
	s.mu.Lock()
	s.newSessionLocked()
	s.mu.Unlock()
}

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}

// userLogin: POST /v2/user/login (Sign).
func (s *Server) userLogin(w http.ResponseWriter, r *http.Request, region string, body []byte) {
	var req struct {
		CountryCode string `json:"countryCode"`
		Email       string `json:"email"`
		PhoneNumber string `json:"phoneNumber"`
		Password    string `json:"password"`
	}
	if err := json.Unmarshal(body, &req); err != nil || !strings.HasPrefix(req.CountryCode, "+") || (req.Email == "" && req.PhoneNumber == "") || req.Password == "" {
		writeEnvelope(w, 400, "params incomplete", nil)
		return
	}
	switch {
	case req.PhoneNumber != "" && req.PhoneNumber != s.opt.Phone,
		req.PhoneNumber == "" && !strings.EqualFold(req.Email, s.opt.Email):
		writeEnvelope(w, 10003, "user does not exist", nil)
		return
	case req.Password != s.opt.Password:
		writeEnvelope(w, 10001, "wrong password", nil)
		return
	case region != s.opt.Region:
		writeEnvelope(w, 10004, "redirection", map[string]any{"region": s.opt.Region})
		return
	}
	s.mu.Lock()
	ss := s.newSessionLocked()
	s.mu.Unlock()
	writeEnvelope(w, 0, "", map[string]any{"user": s.user(), "at": ss.at, "rt": ss.rt, "region": s.opt.Region})
}

func (s *Server) user() map[string]any {
	u := map[string]any{"apikey": s.opt.APIKey, "countryCode": s.opt.CountryCode, "nickname": "Sim User", "accountLevel": 10}
	if s.opt.Email != "" {
		u["email"] = s.opt.Email
	}
	if s.opt.Phone != "" {
		u["phoneNumber"] = s.opt.Phone
	}
	return u
}

// oauthToken: POST /v2/user/oauth/token (Sign) exchanges a code.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request, region string, body []byte) {
	var req struct {
		Code        string `json:"code"`
		RedirectURL string `json:"redirectUrl"`
		GrantType   string `json:"grantType"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Code == "" || req.GrantType != "authorization_code" {
		writeEnvelope(w, 400, "params incomplete", nil)
		return
	}
	s.mu.Lock()
	c, ok := s.codes[req.Code]
	switch {
	case !ok || c.used || c.region != region || s.opt.Now().After(c.expires):
		s.mu.Unlock()
		writeEnvelope(w, 405, "invalid code", nil)
		return
	case c.redirect != req.RedirectURL:
		s.mu.Unlock()
		writeEnvelope(w, 400, "redirectUrl does not match", nil)
		return
	}
	c.used = true
	ss := s.newSessionLocked()
	s.mu.Unlock()
	writeEnvelope(w, 0, "", map[string]any{"accessToken": ss.at, "atExpiredTime": ss.atExpires.UnixMilli(),
		"refreshToken": ss.rt, "rtExpiredTime": ss.rtExpires.UnixMilli()})
}

// refresh: POST /v2/user/refresh (Sign or Bearer) swaps rt for new tokens.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		RT string `json:"rt"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RT == "" {
		writeEnvelope(w, 400, "params incomplete", nil)
		return
	}
	s.mu.Lock()
	ss := s.session
	if ss == nil || req.RT != ss.rt || s.opt.Now().After(ss.rtExpires) {
		s.mu.Unlock()
		// Not documented (reference §13.7); the simulator says 401.
		writeEnvelope(w, 401, "refresh token invalid", nil)
		return
	}
	s.retired[ss.at], s.retired[ss.rt] = true, true
	now := s.opt.Now()
	ss.at, ss.rt = "at-"+randomString(32), "rt-"+randomString(32)
	ss.atExpired, ss.atExpires, ss.rtExpires = false, now.Add(30*24*time.Hour), now.Add(60*24*time.Hour)
	at, rt := ss.at, ss.rt
	s.mu.Unlock()
	writeEnvelope(w, 0, "", map[string]any{"at": at, "rt": rt})
}

// serveOAuthPage is the authorization page (GET /oauth/index.html) and its
// form (POST /oauth/approve).
func (s *Server) serveOAuthPage(w http.ResponseWriter, r *http.Request) {
	var q url.Values
	switch {
	case r.URL.Path == "/oauth/index.html" && r.Method == http.MethodGet:
		q = r.URL.Query()
	case r.URL.Path == "/oauth/approve" && r.Method == http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		q = r.PostForm
	default:
		http.NotFound(w, r)
		return
	}
	s.logWS("GET /oauth/index.html", 0) // a browser call, outside the API limits
	clientID, seq, redirect, state := q.Get("clientId"), q.Get("seq"), q.Get("redirectUrl"), q.Get("state")
	want := hmacB64(s.opt.AppSecret, []byte(clientID+"_"+seq))
	switch {
	case clientID != s.opt.AppID:
		http.Error(w, "unknown clientId", http.StatusBadRequest)
		return
	case !hmac.Equal([]byte(q.Get("authorization")), []byte(want)):
		http.Error(w, "authorization signature invalid", http.StatusBadRequest)
		return
	case q.Get("grantType") != "authorization_code" || state == "" || redirect == "":
		http.Error(w, "grantType, state and redirectUrl are required", http.StatusBadRequest)
		return
	}
	approve := s.opt.AutoApprove
	if r.Method == http.MethodPost {
		login := q.Get("email")
		ok := q.Get("password") == s.opt.Password && (strings.EqualFold(login, s.opt.Email) || (login != "" && login == s.opt.Phone))
		if !ok {
			http.Error(w, "wrong account or password", http.StatusUnauthorized)
			return
		}
		approve = true
	}
	if !approve {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><h1>eWeLink (simulated) – authorize</h1><form method="post" action="/oauth/approve">`)
		for k, vs := range q {
			for _, v := range vs {
				fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
			}
		}
		fmt.Fprintf(w, `<input name="email" placeholder="email"><input name="password" type="password"><button>Authorize</button></form></body></html>`)
		return
	}
	code := newUUID()
	s.mu.Lock()
	s.codes[code] = &oauthCode{region: s.opt.Region, redirect: redirect, expires: s.opt.Now().Add(s.opt.CodeTTL)}
	s.mu.Unlock()
	target, err := url.Parse(redirect)
	if err != nil {
		http.Error(w, "bad redirectUrl", http.StatusBadRequest)
		return
	}
	rq := target.Query()
	rq.Set("code", code)
	rq.Set("region", s.opt.Region)
	rq.Set("state", state)
	target.RawQuery = rq.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
