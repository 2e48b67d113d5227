// Package ewelinksim is a CoolKit (eWeLink) v2 cloud on loopback for tests
// and the demo: signed REST API with regions, OAuth authorization page,
// password login, token refresh and the single-session rule, paged thing
// list, device status, dispatch and the WebSocket (userOnline, heartbeat,
// update/query/sysmsg), with the vendor's rate limits enforced and counted.
//
// It speaks the wire protocol only and shares no code with the adapter.
package ewelinksim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator. Zero values take the cloud's own numbers.
type Options struct {
	AppID, AppSecret string
	// The account: Email or Phone (with its country code) and Password.
	Email, Phone, Password, CountryCode string
	// Region is the account's home region (default eu).
	Region string
	// APIKey is the user's apikey (default generated).
	APIKey string
	// HBInterval is the heartbeat interval handed out, seconds (default 145).
	HBInterval float64
	// EndpointGap is the least time between two calls to one endpoint
	// (default 500 ms; negative: unchecked).
	EndpointGap time.Duration
	// WindowCalls per Window (default 300 per 5 min).
	WindowCalls int
	Window      time.Duration
	// WSSendGap is the least time between two client frames (default 100 ms).
	WSSendGap time.Duration
	// UserOnlineGap is the least time between two userOnline (default 15 s);
	// closer ones count as a violation (the cloud bans such IPs).
	UserOnlineGap time.Duration
	// CodeTTL is the OAuth code lifetime (default 30 s).
	CodeTTL time.Duration
	// AutoApprove makes the authorization page approve at once.
	AutoApprove bool
	// MonthlyQuota answers error 412 after that many calls (0: none).
	MonthlyQuota int
	// CoverTravel is how long a cover takes to move (default 2 s).
	CoverTravel time.Duration
	// Devices are the account's things (default Fixtures()).
	Devices []Device
	// Now is the clock for token and code expiry and the userOnline gap
	// (default time.Now).
	Now func() time.Time
}

// Request is one logged call.
type Request struct {
	Time      time.Time
	Op        string
	Status    int
	Login     bool
	Throttled bool
	// Device is the deviceid of a WebSocket update or query ("" otherwise).
	Device string
}

// Server is a running simulated cloud.
type Server struct {
	opt Options
	ts  *httptest.Server

	mu        sync.Mutex
	devices   map[string]*device
	order     []string
	session   *session
	retired   map[string]bool // tokens of replaced sessions
	codes     map[string]*oauthCode
	log       []Request
	violation int
	why       []string
	lastCall  map[string]time.Time
	window    []time.Time
	failN     int
	failCode  int
	throttleN int
	throttleD time.Duration
	refuseN   int
	monthly   int
	clients   map[*client]bool
	onlines   []time.Time
	uiActive  int
	stopDrift chan struct{}
	done      chan struct{}
	closed    bool
	wg        sync.WaitGroup
}

// ownerAPIKey owns the devices shared with the account.
const ownerAPIKey = "owner-0f3c9a7e-shared"

// New starts a simulator on a loopback port.
func New(opt Options) *Server {
	if opt.AppID == "" {
		opt.AppID = "sim-appid-0123456789abcdef"
	}
	if opt.AppSecret == "" {
		opt.AppSecret = "sim-secret-" + randomString(16)
	}
	if opt.Email == "" && opt.Phone == "" {
		opt.Email = "user@example.com"
	}
	if opt.Password == "" {
		opt.Password = "pw-" + randomString(12)
	}
	if opt.CountryCode == "" {
		opt.CountryCode = "+49"
	}
	if opt.Region == "" {
		opt.Region = "eu"
	}
	if opt.APIKey == "" {
		opt.APIKey = "user-" + randomString(12)
	}
	if opt.HBInterval <= 0 {
		opt.HBInterval = 145
	}
	if opt.EndpointGap == 0 {
		opt.EndpointGap = 500 * time.Millisecond
	}
	if opt.WindowCalls == 0 {
		opt.WindowCalls = 300
	}
	if opt.Window == 0 {
		opt.Window = 5 * time.Minute
	}
	if opt.WSSendGap == 0 {
		opt.WSSendGap = 100 * time.Millisecond
	}
	if opt.UserOnlineGap == 0 {
		opt.UserOnlineGap = 15 * time.Second
	}
	if opt.CodeTTL == 0 {
		opt.CodeTTL = 30 * time.Second
	}
	if opt.CoverTravel == 0 {
		opt.CoverTravel = 2 * time.Second
	}
	if opt.Devices == nil {
		opt.Devices = Fixtures()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, devices: map[string]*device{}, retired: map[string]bool{}, codes: map[string]*oauthCode{},
		lastCall: map[string]time.Time{}, clients: map[*client]bool{}, done: make(chan struct{})}
	for i, d := range opt.Devices {
		s.addLocked(d, i)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.ts.URL }

// APIURL is the REST base with a {region} placeholder (hosts are path prefixes).
func (s *Server) APIURL() string { return s.ts.URL + "/{region}" }

// DispatchURL is the dispatcher with a {region} placeholder.
func (s *Server) DispatchURL() string { return s.ts.URL + "/{region}/dispatch/app" }

// OAuthURL is the authorization page.
func (s *Server) OAuthURL() string { return s.ts.URL + "/oauth/index.html" }

// Options returns the effective options (credentials included).
func (s *Server) Options() Options { return s.opt }

// Close stops the server and every goroutine of it.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	if s.stopDrift != nil {
		close(s.stopDrift)
	}
	for c := range s.clients {
		c.kill("server closing")
	}
	s.mu.Unlock()
	s.ts.CloseClientConnections()
	s.ts.Close()
	s.wg.Wait()
}

func (s *Server) doneCh() <-chan struct{} { return s.done }

// serve routes every request: /<region>/v2/..., /<region>/dispatch/app,
// /oauth/..., /api/ws.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api/ws":
		s.serveWS(w, r)
		return
	case strings.HasPrefix(p, "/oauth/"):
		s.serveOAuthPage(w, r)
		return
	}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)
	if len(parts) != 2 || !validRegion(parts[0]) {
		http.NotFound(w, r)
		return
	}
	region, rest := parts[0], "/"+parts[1]
	op := r.Method + " " + rest
	login := rest == "/v2/user/login" || rest == "/v2/user/oauth/token" || rest == "/v2/user/refresh"
	idx, status, retry, ok := s.gatekeep(op, login)
	if !ok {
		if retry > 0 {
			w.Header().Set("Retry-After", itoa(int((retry+time.Second-1)/time.Second)))
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	rec := &recorder{ResponseWriter: w}
	switch {
	case rest == "/dispatch/app" && r.Method == http.MethodGet:
		s.dispatch(rec, r)
	case strings.HasPrefix(rest, "/v2/"):
		s.api(rec, r, region, rest)
	default:
		writeEnvelope(rec, 403, "api not found", nil)
	}
	s.finish(idx, rec.code())
}

// gatekeep logs the call and applies injected faults, throttling and the
// rate rules; ok=false means it was answered with status.
func (s *Server) gatekeep(op string, login bool) (idx, status int, retry time.Duration, ok bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window = append(s.window, now)
	for len(s.window) > 0 && now.Sub(s.window[0]) >= s.opt.Window {
		s.window = s.window[1:]
	}
	last, seen := s.lastCall[op]
	s.lastCall[op] = now
	switch {
	case s.failN > 0:
		s.failN--
		s.log = append(s.log, Request{Time: now, Op: op, Status: s.failCode, Login: login})
		return 0, s.failCode, 0, false
	case s.throttleN > 0:
		s.throttleN--
		s.log = append(s.log, Request{Time: now, Op: op, Status: http.StatusTooManyRequests, Login: login, Throttled: true})
		return 0, http.StatusTooManyRequests, s.throttleD, false
	}
	tooClose := seen && s.opt.EndpointGap > 0 && now.Sub(last) < s.opt.EndpointGap
	if tooClose || len(s.window) > s.opt.WindowCalls {
		// The cloud bans violators; the simulator counts and refuses.
		if tooClose {
			s.violateLocked("%s %s after the previous one", op, now.Sub(last))
		} else {
			s.violateLocked("%s: %d calls in %s", op, len(s.window), s.opt.Window)
		}
		s.log = append(s.log, Request{Time: now, Op: op, Status: http.StatusTooManyRequests, Login: login, Throttled: true})
		return 0, http.StatusTooManyRequests, time.Second, false
	}
	s.log = append(s.log, Request{Time: now, Op: op, Login: login})
	return len(s.log) - 1, 0, 0, true
}

// finish stores the answered code on the call's log entry.
func (s *Server) finish(idx, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if idx < len(s.log) {
		s.log[idx].Status = code
	}
}

func (s *Server) logWS(op string, code int) {
	s.mu.Lock()
	s.log = append(s.log, Request{Time: time.Now(), Op: op, Status: code})
	s.mu.Unlock()
}

// recorder remembers the envelope's error code for the log.
type recorder struct {
	http.ResponseWriter
	status int
	cloud  int
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

func (r *recorder) code() int {
	if r.cloud != 0 {
		return r.cloud
	}
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// writeEnvelope answers {"error":code,"msg":msg,"data":data}, HTTP 200.
func writeEnvelope(w http.ResponseWriter, code int, msg string, data any) {
	if rec, ok := w.(*recorder); ok && code != 0 {
		rec.cloud = code
	}
	if data == nil {
		data = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "msg": msg, "data": data})
}

// --- harness pieces ------------------------------------------------------------

// Requests is the log of every API call and client WebSocket message, in
// the order they arrived (a frame is logged at its arrival, which may be a
// moment before it is handled).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	out := append([]Request(nil), s.log...)
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Violations counts calls and messages that broke the cloud's limits.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violation
}

func (s *Server) violateLocked(format string, args ...any) {
	s.violation++
	s.why = append(s.why, fmt.Sprintf(format, args...))
}

// ViolationLog says what each violation was.
func (s *Server) ViolationLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.why...)
}

// FailNext answers the next n API calls with an HTTP status.
func (s *Server) FailNext(status, n int) {
	s.mu.Lock()
	s.failCode, s.failN = status, n
	s.mu.Unlock()
}

// ThrottleNext answers the next n API calls with 429 and Retry-After.
func (s *Server) ThrottleNext(retryAfter time.Duration, n int) {
	s.mu.Lock()
	s.throttleD, s.throttleN = retryAfter, n
	s.mu.Unlock()
}

// DropStreams closes every WebSocket abruptly and returns how many.
func (s *Server) DropStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.clients {
		if c.kill("dropped by the simulator") {
			n++
		}
	}
	return n
}

// UserOnlines returns the time of every userOnline received.
func (s *Server) UserOnlines() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.onlines...)
}

// UIActiveCount is how many uiActive requests arrived (clients must send none).
func (s *Server) UIActiveCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uiActive
}

// Streams is the number of open, authenticated WebSockets.
func (s *Server) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.clients {
		if c.authed && !c.killed {
			n++
		}
	}
	return n
}

func validRegion(r string) bool {
	switch r {
	case "cn", "as", "us", "eu":
		return true
	}
	return false
}
