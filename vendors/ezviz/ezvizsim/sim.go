// Package ezvizsim simulates the EZVIZ Open Platform for tests and the demo:
// the token endpoints with expiry and areaDomain, the device trust (托管)
// flow, device and camera lists with paging, capabilities, status, the
// switch and arming endpoints, capture with the 4 s rule and a generated
// JPEG, alarm messages, PTZ, presets and firmware upgrades, with EZVIZ's
// error codes. It speaks the real wire protocol (form-encoded POSTs answered
// with {code,msg,data,page}) on loopback and imports no adapter code.
package ezvizsim

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator; zero values take the defaults.
type Options struct {
	AppKey    string
	AppSecret string
	// TokenTTL is the accessToken lifetime (EZVIZ: 7 days).
	TokenTTL time.Duration
	// MaxPerSecond is the per-app call budget the simulator enforces with
	// 10029 (EZVIZ does not publish its numbers; default 10).
	MaxPerSecond int
	// CaptureSpacing is the minimum between two captures of one camera (4 s).
	CaptureSpacing time.Duration
	// UpgradeStep is the time per 10 % of a firmware upgrade (default 1 s).
	UpgradeStep time.Duration
	// NoAreaDomain answers tokens the Chinese way, without areaDomain; calls
	// then go to the token host.
	NoAreaDomain bool
	// Devices replaces the fixtures.
	Devices []*Device
}

// Request is one logged API call.
type Request struct {
	Time time.Time
	// Op is "POST /api/lapp/device/list" (path only).
	Op string
	// Host is "token" or "area": which listener answered.
	Host string
	// Status is the EZVIZ code (200, 10002, ...) or the HTTP status when the
	// call failed at the HTTP level.
	Status    int
	Login     bool
	Throttled bool
	Serial    string
	Channel   int
	// Page is the pageStart of list calls.
	Page int
}

// Sim is a running simulator.
type Sim struct {
	opts Options

	token, area *listener

	mu            sync.Mutex
	devices       map[string]*Device
	order         []string
	tokens        map[string]tokenInfo
	issued        []string
	alarms        []*alarm
	alarmSeq      int64
	log           []Request
	violations    []string
	failStatus    int
	failN         int
	throttleN     int
	recent        []time.Time
	picKey        []byte
	picSeq        int
	downloads     int
	trustCallback string
	callbacks     []CallbackResult
	authCodes     map[string]bool
}

type tokenInfo struct {
	trust   bool
	expires time.Time
	revoked bool
}

type listener struct {
	srv *http.Server
	ln  net.Listener
	url string
}

// New starts a simulator on loopback.
func New(opts Options) (*Sim, error) {
	if opts.AppKey == "" {
		opts.AppKey = "sim" + randHex(14)
	}
	if opts.AppSecret == "" {
		opts.AppSecret = randHex(16)
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 7 * 24 * time.Hour
	}
	if opts.MaxPerSecond == 0 {
		opts.MaxPerSecond = 10
	}
	if opts.CaptureSpacing == 0 {
		opts.CaptureSpacing = 4 * time.Second
	}
	if opts.UpgradeStep == 0 {
		opts.UpgradeStep = time.Second
	}
	s := &Sim{
		opts:      opts,
		devices:   map[string]*Device{},
		tokens:    map[string]tokenInfo{},
		picKey:    []byte(randHex(16)),
		authCodes: map[string]bool{},
	}
	devs := opts.Devices
	if devs == nil {
		devs = Fixtures("")
	}
	for _, d := range devs {
		s.addDevice(d)
	}
	var err error
	if s.token, err = s.listen("token"); err != nil {
		return nil, err
	}
	if opts.NoAreaDomain {
		s.area = s.token
	} else if s.area, err = s.listen("area"); err != nil {
		s.token.close()
		return nil, err
	}
	return s, nil
}

func (s *Sim) addDevice(d *Device) {
	d.init()
	s.devices[d.Serial] = d
	s.order = append(s.order, d.Serial)
}

func (s *Sim) listen(host string) (*listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &listener{ln: ln, url: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/lapp/", func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, host) })
	mux.HandleFunc("/pic/", s.servePicture)
	mux.HandleFunc("/trust/device", s.serveAuthorize)
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go l.srv.Serve(ln)
	return l, nil
}

func (l *listener) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.srv.Shutdown(ctx)
}

// Close stops the simulator.
func (s *Sim) Close() {
	s.token.close()
	if s.area != s.token {
		s.area.close()
	}
}

// URL is the token host (the api_url of an account).
func (s *Sim) URL() string { return s.token.url }

// AreaURL is the areaDomain the token replies name.
func (s *Sim) AreaURL() string { return s.area.url }

// AppKey and AppSecret are the app's credentials.
func (s *Sim) AppKey() string    { return s.opts.AppKey }
func (s *Sim) AppSecret() string { return s.opts.AppSecret }

// Tokens lists every token issued so far.
func (s *Sim) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// Requests is the call log, oldest first.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Violations counts calls that broke a documented rule (rate, capture
// spacing, PTZ stop, paging, parameter names, wrong host, method).
func (s *Sim) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.violations)
}

// ViolationList explains each violation.
func (s *Sim) ViolationList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// ImageDownloads counts picture downloads (not API calls).
func (s *Sim) ImageDownloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// FailNext answers the next n API calls with HTTP status.
func (s *Sim) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failN = status, n
}

// ThrottleNext answers the next n API calls with 10029 (call frequency
// exceeded). EZVIZ gives no retry hint, so retryAfter is not sent.
func (s *Sim) ThrottleNext(retryAfter time.Duration, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleN = n
}

// ExpireTokens invalidates every token issued so far (10002 from now on).
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.revoked = true
		s.tokens[k] = t
	}
}

func (s *Sim) violate(why string) { s.violations = append(s.violations, why) }

// reply is one API answer.
type reply struct {
	code string
	msg  string
	data any
	page map[string]int
	// wrap puts the envelope in {"result": ...} (detector list).
	wrap bool
}

func ok(data any) reply { return reply{code: "200", msg: "操作成功!", data: data} }

func fail(code, msg string) reply { return reply{code: code, msg: msg} }

// serveAPI is every /api/lapp call: method and content checks, injected
// faults, the rate window, the token, then the endpoint.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request, host string) {
	now := time.Now()
	entry := Request{Time: now, Op: r.Method + " " + r.URL.Path, Host: host}
	login := r.URL.Path == "/api/lapp/token/get" || r.URL.Path == "/api/lapp/trust/device/v2/token/get"
	entry.Login = login
	var form map[string]string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err == nil {
			form = map[string]string{}
			for k, v := range r.PostForm {
				form[k] = v[0]
			}
		}
	}
	entry.Serial = form["deviceSerial"]
	entry.Channel, _ = strconv.Atoi(firstOf(form["channelNo"], form["channel"]))
	entry.Page, _ = strconv.Atoi(form["pageStart"])

	s.mu.Lock()
	defer s.mu.Unlock()
	finish := func(status int) {
		entry.Status = status
		s.log = append(s.log, entry)
	}
	if r.Method != http.MethodPost {
		s.violate("non-POST call " + entry.Op)
		finish(http.StatusMethodNotAllowed)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.failN > 0 {
		s.failN--
		finish(s.failStatus)
		http.Error(w, http.StatusText(s.failStatus), s.failStatus)
		return
	}
	var rep reply
	switch {
	case form == nil:
		s.violate("call without a form body: " + entry.Op)
		rep = fail("10001", "参数错误")
	case s.throttleN > 0:
		s.throttleN--
		entry.Throttled = true
		rep = fail("10029", "调用频率超出限制")
	case s.overRate(now):
		s.violate("call rate over " + strconv.Itoa(s.opts.MaxPerSecond) + "/s")
		entry.Throttled = true
		rep = fail("10029", "调用频率超出限制")
	case login:
		rep = s.login(r.URL.Path, form, now)
	default:
		if host == "token" && s.area != s.token {
			s.violate("business call on the token host instead of areaDomain: " + entry.Op)
		}
		rep = s.business(r.URL.Path, form, now)
	}
	code, _ := strconv.Atoi(rep.code)
	finish(code)
	writeReply(w, rep)
}

// overRate keeps a one-second window of calls.
func (s *Sim) overRate(now time.Time) bool {
	cut := now.Add(-time.Second)
	i := 0
	for i < len(s.recent) && !s.recent[i].After(cut) {
		i++
	}
	s.recent = append(s.recent[i:], now)
	return len(s.recent) > s.opts.MaxPerSecond
}

func writeReply(w http.ResponseWriter, rep reply) {
	env := map[string]any{"code": rep.code, "msg": rep.msg}
	if rep.data != nil {
		env["data"] = rep.data
	}
	if rep.page != nil {
		env["page"] = rep.page
	}
	var body any = env
	if rep.wrap {
		body = map[string]any{"result": env}
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	json.NewEncoder(w).Encode(body)
}

// login issues an app token or the all-permission trust token.
func (s *Sim) login(path string, form map[string]string, now time.Time) reply {
	if form["appKey"] == "" || form["appSecret"] == "" {
		return fail("10001", "参数为空")
	}
	if form["appKey"] != s.opts.AppKey {
		return fail("10017", "appKey不存在")
	}
	if !hmac.Equal([]byte(form["appSecret"]), []byte(s.opts.AppSecret)) {
		return fail("10030", "appKey与appSecret不匹配")
	}
	trust := path == "/api/lapp/trust/device/v2/token/get"
	prefix := "at."
	if trust {
		prefix = "da."
	}
	tok := prefix + randHex(24)
	exp := now.Add(s.opts.TokenTTL)
	s.tokens[tok] = tokenInfo{trust: trust, expires: exp}
	s.issued = append(s.issued, tok)
	data := map[string]any{"accessToken": tok, "expireTime": exp.UnixMilli()}
	if !s.opts.NoAreaDomain {
		data["areaDomain"] = s.area.url
	}
	return ok(data)
}

// CallbackResult is one device callback the simulated EZVIZ sent to the
// bridge.
type CallbackResult struct {
	Op       string
	Status   int
	Body     string
	Accepted bool
}

// SetTrustCallback sets the callBackAddress configured for the app.
func (s *Sim) SetTrustCallback(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trustCallback = u
}

// Callbacks lists the device callbacks sent.
func (s *Sim) Callbacks() []CallbackResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackResult(nil), s.callbacks...)
}

// sign makes the Signature of a picture URL.
func (s *Sim) sign(path string, expires int64) string {
	m := hmac.New(sha256.New, s.picKey)
	m.Write([]byte(path + "|" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func atoi(s string, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

// sortedSerials is the device order for lists.
func (s *Sim) sortedSerials() []string {
	out := append([]string(nil), s.order...)
	sort.Strings(out)
	return out
}
