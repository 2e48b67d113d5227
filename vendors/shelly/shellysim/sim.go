// Package shellysim simulates Shelly Cloud on loopback for tests and the
// demo: the Integrator API (access token endpoint, one WebSocket per
// server with StatusOnChange/Settings/Online events and CommandRequest /
// DeviceVerify handling, consent callbacks signed with a test key) and the
// Cloud Control API v2 (get with at most 10 ids, set/switch, set/cover,
// set/light, set/groups, 1 request/s per auth key). It enforces the
// documented limits, counts violations, logs every request and can inject
// faults. It imports no adapter code.
package shellysim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Options configures a simulator; zero values take defaults.
type Options struct {
	// Devices scales the six fixtures to about this many devices (0: six).
	Devices int
	// Tag and Token are the integrator credentials (defaults: "ITG_SIM", random).
	Tag, Token string
	// AuthKey is the Cloud Control API key (default random).
	AuthKey string
	// TokenTTL is the lifetime of issued access tokens (default 24 h).
	TokenTTL time.Duration
	// Hosts are the Shelly server names devices live on (default
	// "localhost" and "127.0.0.1": two names for this one loopback server).
	Hosts []string
	// CoverSpeed is how fast covers move, in percent per second (default 50).
	CoverSpeed float64
	// Drift makes values change on their own every Drift (0: never).
	Drift time.Duration
	// ThrottleStatus is the HTTP status answered to a rate overrun (default 429).
	ThrottleStatus int
	// IDSeed varies the device ids, so two simulators never share one.
	IDSeed byte
	// NoDecimal stops sending Gen1 device ids as decimal strings on the
	// socket (by default they are, as the cloud has been seen to do).
	NoDecimal bool
}

// Request is one logged call made to the simulated cloud.
type Request struct {
	Time      time.Time
	Op        string
	Status    int
	Login     bool
	Throttled bool
	// Host is the Shelly server a socket message came in on ("" for HTTP).
	Host string
}

// DeviceInfo describes a simulated device.
type DeviceInfo struct {
	ID, Code, Type, Gen, Host string
	// Wire is the id as the socket sends it (decimal for Gen1 devices).
	Wire   string
	Online bool
	Access string
}

// Sim is a running simulated Shelly Cloud.
type Sim struct {
	opt     Options
	srv     *httptest.Server
	key     *ecdsa.PrivateKey
	hmacKey []byte

	mu         sync.Mutex
	devs       map[string]*device
	order      []string
	granted    map[string]bool
	tokens     map[string]time.Time
	issued     []string
	log        []Request
	violations int
	failStatus int
	failN      int
	throttleN  int
	throttleRA time.Duration
	muteN      int
	lastV2     map[string]time.Time
	conns      map[string]*wsConn
	closed     bool
	stop       chan struct{}
	wg         sync.WaitGroup
}

// New starts a simulator on loopback.
func New(opt Options) (*Sim, error) {
	if opt.Tag == "" {
		opt.Tag = "ITG_SIM"
	}
	if opt.Token == "" {
		opt.Token = "itg-" + randHex(16)
	}
	if opt.AuthKey == "" {
		opt.AuthKey = "ak-" + randHex(24)
	}
	if opt.TokenTTL == 0 {
		opt.TokenTTL = 24 * time.Hour
	}
	if len(opt.Hosts) == 0 {
		opt.Hosts = []string{"localhost", "127.0.0.1"}
	}
	if opt.CoverSpeed == 0 {
		opt.CoverSpeed = 50
	}
	if opt.ThrottleStatus == 0 {
		opt.ThrottleStatus = http.StatusTooManyRequests
	}
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &Sim{
		opt: opt, key: key, hmacKey: []byte(randHex(32)),
		devs: map[string]*device{}, granted: map[string]bool{}, tokens: map[string]time.Time{},
		lastV2: map[string]time.Time{}, conns: map[string]*wsConn{}, stop: make(chan struct{}),
	}
	for _, d := range fixtures(opt.Devices, opt.IDSeed, opt.Hosts) {
		s.devs[d.ID] = d
		s.order = append(s.order, d.ID)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/integrator/get_access_token", s.serveToken)
	mux.HandleFunc("/shelly/wss/hk_sock", s.serveWS)
	mux.HandleFunc("/v2/devices/api/", s.serveV2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	s.srv.Start()
	s.wg.Add(1)
	go s.tick()
	return s, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// URL is the base URL of the simulated cloud (token endpoint, v2 API).
func (s *Sim) URL() string { return s.srv.URL }

// Port is the port every simulated server's WebSocket listens on.
func (s *Sim) Port() int {
	_, p, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

// Tag, Token and AuthKey are the credentials the simulator accepts.
func (s *Sim) Tag() string     { return s.opt.Tag }
func (s *Sim) Token() string   { return s.opt.Token }
func (s *Sim) AuthKey() string { return s.opt.AuthKey }

// Close stops the simulator and drops every socket.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	conns := s.conns
	s.conns = map[string]*wsConn{}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Sim) record(r Request) {
	s.mu.Lock()
	s.logLocked(r)
	s.mu.Unlock()
}

func (s *Sim) logLocked(r Request) {
	if len(s.log) < 1_000_000 {
		s.log = append(s.log, r)
	}
}

// Requests is the log of calls, oldest first.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Violations counts requests that broke a documented limit (over 1
// request/s per auth key, over 10 ids per get, a second socket to a server).
func (s *Sim) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// IssuedTokens lists every access token handed out (secrets for leak checks).
func (s *Sim) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// FailNext answers the next n HTTP requests (token endpoint, v2 API,
// WebSocket handshakes) with status.
func (s *Sim) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failN = status, n
}

// ThrottleNext answers the next n v2 API or access token requests as a rate
// overrun, with Retry-After when retryAfter is not zero.
func (s *Sim) ThrottleNext(retryAfter time.Duration, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleN, s.throttleRA = n, retryAfter
}

// MuteCommands leaves the next n Shelly:CommandRequests unanswered, as a
// cloud that lost them would.
func (s *Sim) MuteCommands(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.muteN = n
}

// takeFault consumes an injected failure.
func (s *Sim) takeFaultLocked() int {
	if s.failN > 0 {
		s.failN--
		return s.failStatus
	}
	return 0
}

// ExpireTokens invalidates every access token issued so far.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = time.Time{}
	}
}

// DropStreams closes every open socket abruptly and returns how many.
func (s *Sim) DropStreams() int {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[string]*wsConn{}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	return len(conns)
}

// Connections counts open sockets per server.
func (s *Sim) Connections() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for h := range s.conns {
		out[h]++
	}
	return out
}

// Devices lists the simulated devices in fixture order.
func (s *Sim) Devices() []DeviceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeviceInfo, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.devs[id].info(!s.opt.NoDecimal))
	}
	return out
}

// Status returns a copy of a device's current status.
func (s *Sim) Status(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devs[s.resolveLocked(id)]
	if !ok {
		return nil
	}
	return clone(d.Status).(map[string]any)
}

// Granted lists the devices currently shared with the integrator.
func (s *Sim) Granted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, ok := range s.granted {
		if ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
