// Package expeedsim simulates the expeed (极动云) third-party platform API on
// loopback: the platform token with its daily quota, device status, current
// and historical datapoints, device settings with their asynchronous result
// push, and the HTTP pushes (URL verification GET, msg_type 1/2/3 POSTs) the
// cloud sends to the integrator's registered URL.
//
// It imports no adapter code; it speaks the wire protocol described in
// shared/protocols/expeed.md.
package expeedsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure a simulator. Zero values take the documented defaults.
type Options struct {
	PlatformKey string
	SecretKey   string
	// CallbackToken is the token the integrator entered on the configuration
	// page; it signs the URL verification GET.
	CallbackToken string
	// PushPath and PushSecret form the registered URL's path under the
	// bridge's base URL: <bridge><PushPath>/<PushSecret>.
	PushPath   string
	PushSecret string
	// TokenTTL is the access token's lifetime (default 7200 s).
	TokenTTL time.Duration
	// DailyTokenQuota is the number of token calls allowed per China-time day (default 200).
	DailyTokenQuota int
	// PushOnlineValue is the device_status value meaning "online" in msg_type 1
	// pushes (default 0, as the push table documents; the query API always
	// uses 1 = online).
	PushOnlineValue int
	// NumericMsgType sends every msg_type as a JSON number; by default 1 and 2
	// are strings and 3 is a number, as in the seed's examples.
	NumericMsgType bool
	// LooseTypes sends numbers as strings where the seed's types are unclear
	// (result_code, expires_in, device_status, set_result, message_id).
	LooseTypes bool
	// AuthStyle is how calls must carry access_token and device_key:
	// "headers" (default), "single_header" or "query".
	AuthStyle string
	// SettingBody is the accepted device_setting body: "flat" (default) or "wrapped".
	SettingBody string
	// SignatureVariant is how the verification signature is computed:
	// "lower" (MD5 of the lowercase SHA-1 hex, default), "upper" or "raw".
	SignatureVariant string
	// TimestampMillis sends the verification timestamp in milliseconds.
	TimestampMillis bool
	// SettingDelay is how long a device takes to apply a setting (default 50 ms).
	SettingDelay time.Duration
	// PushRetryMax caps the wait between push delivery attempts (default 1 s).
	PushRetryMax time.Duration
	// HistorySeed is the number of history records generated per device (default 240).
	HistorySeed int
	// Devices are the simulated devices (default Fixtures(1)).
	Devices []Device
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logf receives one line per request and push (default: discard).
	Logf func(format string, args ...any)
}

// Request is one logged API call.
type Request struct {
	Time time.Time
	// Op is the method and the path with ids removed ("GET /v1/devices/device_status").
	Op string
	// Device is the device id of a device call.
	Device string
	// HTTPStatus is the HTTP status answered; Code the result_code (-1 if none).
	HTTPStatus int
	Code       int
	Login      bool
	Throttled  bool
}

// Server is a running simulator.
type Server struct {
	opt  Options
	zone *time.Location
	srv  *httptest.Server

	mu            sync.Mutex
	devices       map[string]*device
	order         []string
	tokens        map[string]time.Time // token → expiry
	issued        []string
	quota         map[string]int // China-time day → token calls
	tokenCalls    int
	log           []Request
	violations    int
	failStatus    int
	failN         int
	throttleAfter time.Duration
	throttleN     int
	throttleUntil time.Time
	rejectN       int
	dropN         int
	msgSeq        int
	closed        bool

	push   *pusher
	timers sync.WaitGroup
	stop   chan struct{}
	// ctx ends at Close, cancelling outgoing pushes and verifications.
	ctx    context.Context
	cancel context.CancelFunc
}

// New starts a simulator on loopback.
func New(opt Options) *Server {
	if opt.PlatformKey == "" {
		opt.PlatformKey = "pk-" + randHex(6)
	}
	if opt.SecretKey == "" {
		opt.SecretKey = "sk-" + randHex(12)
	}
	if opt.CallbackToken == "" {
		opt.CallbackToken = "cb-" + randHex(10)
	}
	if opt.PushPath == "" {
		opt.PushPath = "/expeed/sim"
	}
	if opt.PushSecret == "" {
		opt.PushSecret = randHex(16)
	}
	if opt.TokenTTL <= 0 {
		opt.TokenTTL = 7200 * time.Second
	}
	if opt.DailyTokenQuota <= 0 {
		opt.DailyTokenQuota = 200
	}
	if opt.AuthStyle == "" {
		opt.AuthStyle = "headers"
	}
	if opt.SettingBody == "" {
		opt.SettingBody = "flat"
	}
	if opt.SignatureVariant == "" {
		opt.SignatureVariant = "lower"
	}
	if opt.SettingDelay <= 0 {
		opt.SettingDelay = 50 * time.Millisecond
	}
	if opt.PushRetryMax <= 0 {
		opt.PushRetryMax = time.Second
	}
	if opt.HistorySeed == 0 {
		opt.HistorySeed = 240
	}
	if opt.Devices == nil {
		opt.Devices = Fixtures(1)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	s := &Server{
		opt:     opt,
		zone:    time.FixedZone("CST", 8*3600),
		devices: map[string]*device{},
		tokens:  map[string]time.Time{},
		quota:   map[string]int{},
		stop:    make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for i, d := range opt.Devices {
		s.devices[d.ID] = newDevice(d, s.opt.Now(), s.opt.HistorySeed, int64(i+1))
		s.order = append(s.order, d.ID)
	}
	s.push = newPusher(s)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API base URL, the equivalent of https://api.iot-expeed.com/v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Options returns the effective options (credentials filled in).
func (s *Server) Options() Options { return s.opt }

// Close stops the simulator, its timers and its push delivery.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	s.cancel()
	s.push.close()
	s.timers.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Requests returns the API call log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Violations counts calls that broke the documented limits: token calls over
// the daily quota, and calls sent before a throttle's Retry-After ran out.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// TokenCalls is the number of token API calls so far.
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// Tokens lists every access token issued so far.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// DeviceKeys lists the device_key of every device.
func (s *Server) DeviceKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, id := range s.order {
		keys = append(keys, s.devices[id].Key)
	}
	return keys
}

// FailNext answers the next n API calls with the HTTP status.
func (s *Server) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failN = status, n
}

// ThrottleNext answers the next n API calls with 429 and a Retry-After of
// retryAfter (rounded up to whole seconds; zero sends no header, as a cloud
// that gives no hint); calls before it runs out are violations.
func (s *Server) ThrottleNext(retryAfter time.Duration, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttleAfter, s.throttleN = retryAfter, n
}

// ExpireTokens invalidates every token issued so far (result_code 1 follows).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

// RejectNextSettings makes the devices refuse the next n settings (set_result 1).
func (s *Server) RejectNextSettings(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectN = n
}

// DropNextResults accepts the next n settings but never pushes their result.
func (s *Server) DropNextResults(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropN = n
}

func (s *Server) logf(format string, args ...any) { s.opt.Logf(format, args...) }

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.log = append(s.log, r)
	s.mu.Unlock()
	s.logf("expeedsim: %s → http %d code %d", r.Op, r.HTTPStatus, r.Code)
}

func (s *Server) day(t time.Time) string { return t.In(s.zone).Format("2006-01-02") }

// formatTime writes the cloud's timestamp form in China time.
func (s *Server) formatTime(t time.Time) string {
	t = t.In(s.zone)
	return fmt.Sprintf("%04d-%02d-%02dT%02d-%02d-%02d-%03d", t.Year(), t.Month(), t.Day(),
		t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6)
}

// parseTime reads the cloud's timestamp form (China time).
func (s *Server) parseTime(v string) (time.Time, bool) {
	var y, mo, d, h, mi, sec, ms int
	n, err := fmt.Sscanf(strings.TrimSpace(v), "%4d-%2d-%2dT%2d-%2d-%2d-%3d", &y, &mo, &d, &h, &mi, &sec, &ms)
	if err != nil || n != 7 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, s.zone), true
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
