package ewelink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// newSim starts a simulator tuned for fast tests; opt overrides.
func newSim(t testing.TB, opt ewelinksim.Options) *ewelinksim.Server {
	t.Helper()
	if opt.UserOnlineGap == 0 {
		opt.UserOnlineGap = 40 * time.Millisecond
	}
	if opt.CoverTravel == 0 {
		opt.CoverTravel = 100 * time.Millisecond
	}
	s := ewelinksim.New(opt)
	t.Cleanup(s.Close)
	return s
}

// testTimings are short intervals so tests run in milliseconds. The window
// of 5 s makes the account's token bucket 60 calls a second instead of 1, so
// start-up and relists are not paced by it; the simulator still enforces the
// vendor's 500 ms per endpoint and 300 calls per 5 minutes, and the
// production numbers have tests of their own (TestRESTBudgetInSimLog,
// TestNoReconnectStorm, TestBudget*).
var testTimings = []string{"backoff_min: 50ms", "backoff_max: 400ms", "stable_after: 2s", "ack_timeout: 3s", "window: 5s"}

// idleAdapter is an adapter built but not run, for tests that drive its
// device list and frames directly.
func idleAdapter(tb testing.TB) *Adapter {
	a, _ := build(tb, `email: a@b.c
password: x
app_id: id
app_secret: secret
region: eu`, tb.TempDir())
	return a
}

// passwordConfig is an account block for password login against sim.
func passwordConfig(s *ewelinksim.Server, extra ...string) string {
	return s.Config("test", withTimings(extra)...)
}

// withTimings adds the test timings that extra does not set itself.
func withTimings(extra []string) []string {
	out := append([]string{}, extra...)
	for _, tt := range testTimings {
		key := tt[:strings.Index(tt, ":")+1]
		set := false
		for _, e := range extra {
			set = set || strings.HasPrefix(e, key)
		}
		if !set {
			out = append(out, tt)
		}
	}
	return out
}

// oauthConfig is an account block for OAuth login against sim.
func oauthConfig(s *ewelinksim.Server, extra ...string) string {
	o := s.Options()
	cfg := fmt.Sprintf(`name: test
app_id: %q
app_secret: %q
login: oauth
region: us
api_url: %q
dispatch_url: %q
oauth_url: %q
`, o.AppID, o.AppSecret, s.APIURL(), s.DispatchURL(), s.OAuthURL())
	for _, e := range withTimings(extra) {
		cfg += e + "\n"
	}
	return cfg
}

func strictDecode(cfg string) func(any) error {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(cfg))
		dec.KnownFields(true)
		return dec.Decode(v)
	}
}

type syncBuf = vendortest.LogBuffer

// running is an adapter under test.
type running struct {
	a      *Adapter
	rec    *vendortest.Recorder
	logs   *syncBuf
	cancel context.CancelFunc
	done   chan error
}

type envOpt func(*vendors.Env)

func withPublicURL(u string) envOpt { return func(e *vendors.Env) { e.PublicURL = u } }

func withMetrics(m vendors.Metrics) envOpt { return func(e *vendors.Env) { e.Metrics = m } }

// metricsRec records what the adapter reports to metrics.
type metricsRec struct {
	mu      sync.Mutex
	ops     map[string]int
	budgets map[string]float64
	stream  []bool
	expiry  []time.Time
}

func newMetricsRec() *metricsRec {
	return &metricsRec{ops: map[string]int{}, budgets: map[string]float64{}}
}

func (m *metricsRec) APIRequest(op string, _ time.Duration, _ error) {
	m.mu.Lock()
	m.ops[op]++
	m.mu.Unlock()
}
func (m *metricsRec) RateLimitWait(time.Duration) {}
func (m *metricsRec) TokenExpiry(at time.Time) {
	m.mu.Lock()
	m.expiry = append(m.expiry, at)
	m.mu.Unlock()
}
func (m *metricsRec) StreamConnected(up bool) {
	m.mu.Lock()
	m.stream = append(m.stream, up)
	m.mu.Unlock()
}
func (m *metricsRec) Budget(name string, v float64) {
	m.mu.Lock()
	m.budgets[name] = v
	m.mu.Unlock()
}

// build makes an adapter; store is a directory (shared across restarts).
func build(t testing.TB, cfg, store string, opts ...envOpt) (*Adapter, *syncBuf) {
	t.Helper()
	logs := &syncBuf{}
	env := vendors.Env{
		Vendor: vendorName, Account: "test",
		Log:   zerolog.New(logs).Level(zerolog.DebugLevel),
		Store: (&vendorkit.FileStore{Dir: store}).Scoped("ewelink-test"),
		HTTP:  &http.Client{Timeout: 10 * time.Second},
	}
	for _, o := range opts {
		o(&env)
	}
	a, err := New(env, strictDecode(cfg))
	if err != nil {
		t.Fatalf("factory: %v", err)
	}
	return a.(*Adapter), logs
}

// start runs the adapter until the test ends.
func start(t testing.TB, cfg, store string, opts ...envOpt) *running {
	t.Helper()
	a, logs := build(t, cfg, store, opts...)
	return run(t, a, logs)
}

func run(t testing.TB, a *Adapter, logs *syncBuf) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, rec: vendortest.NewRecorder(), logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx, r.rec) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		return err
	case <-time.After(5 * time.Second):
		t.Errorf("Run did not return after cancel")
		return nil
	}
}

func (r *running) waitDevices(t testing.TB, n int) map[string]vendors.Device {
	t.Helper()
	r.rec.WaitFor(t, 15*time.Second, fmt.Sprintf("%d devices", n), func() bool { return len(r.rec.Devices()) >= n })
	return r.rec.Devices()
}

// waitConnected waits for a connected status.
func (r *running) waitConnected(t testing.TB) {
	t.Helper()
	r.rec.WaitFor(t, 15*time.Second, "a connected status", func() bool {
		st := r.rec.Statuses()
		return len(st) > 0 && st[len(st)-1].State == vendors.StateConnected
	})
}

func (r *running) lastStatus() vendors.Status {
	st := r.rec.Statuses()
	if len(st) == 0 {
		return vendors.Status{}
	}
	return st[len(st)-1]
}

// restCalls counts logged HTTP API calls (not stream messages) after from.
func restCalls(reqs []ewelinksim.Request, from time.Time) []ewelinksim.Request {
	var out []ewelinksim.Request
	for _, r := range reqs {
		if !strings.HasPrefix(r.Op, "ws ") && !r.Time.Before(from) {
			out = append(out, r)
		}
	}
	return out
}

func countOp(reqs []ewelinksim.Request, op string) int {
	n := 0
	for _, r := range reqs {
		if r.Op == op {
			n++
		}
	}
	return n
}

func logins(reqs []ewelinksim.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Login {
			n++
		}
	}
	return n
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
