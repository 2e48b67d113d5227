package expeed_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// harness drives the simulator for the conformance suite and the
// integration tests. It stands in for the bridge's HTTP server: the adapter's
// routes are mounted on it and the simulator pushes to it.
type harness struct {
	t     testing.TB
	sim   *expeedsim.Server
	srv   *httptest.Server
	extra string

	mu      sync.Mutex
	handler http.Handler
	temp    float64
}

// fast are the test timings: intervals and backoff in milliseconds.
const fast = `requests_per_second: 50
burst: 10
command_timeout: 3s
backoff_min: 50ms
backoff_max: 400ms
safety_poll: 1m
push_calibrate_delay: 20ms
`

func newHarness(t testing.TB, opt expeedsim.Options, extra string) *harness {
	h := &harness{t: t, extra: extra}
	h.srv = httptest.NewServer(h)
	if opt.Logf == nil {
		opt.Logf = func(format string, args ...any) {}
	}
	h.sim = expeedsim.New(opt)
	h.sim.SetBridgeURL(h.srv.URL)
	return h
}

// ServeHTTP is the bridge's mux: the mounted routes, or 404 for anything
// else (503 until something is mounted, so the simulator retries).
func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	hd := h.handler
	h.mu.Unlock()
	if hd == nil {
		http.Error(w, "bridge starting", http.StatusServiceUnavailable)
		return
	}
	hd.ServeHTTP(w, r)
}

// Mount serves the adapter's routes, as the bridge does.
func (h *harness) Mount(routes []vendors.Route) {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.Path, r.Handler)
	}
	h.mu.Lock()
	h.handler = mux
	h.mu.Unlock()
}

// Config is the simulator's account with the fast timings; keys in extra
// replace those of fast.
func (h *harness) Config() string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(fast, "\n") {
		key, _, _ := strings.Cut(line, ":")
		if line != "" && !strings.Contains("\n"+h.extra, "\n"+key+":") {
			b.WriteString(line)
		}
	}
	return h.sim.AccountConfig("conformance") + b.String() + h.extra
}

func (h *harness) BadConfig() string {
	return strings.Replace(h.Config(), h.sim.Options().SecretKey, "wrong-secret-key-0000", 1)
}

func (h *harness) Secrets() []string {
	o := h.sim.Options()
	s := []string{o.SecretKey, o.CallbackToken, o.PushSecret, "wrong-secret-key-0000"}
	s = append(s, h.sim.DeviceKeys()...)
	return append(s, h.sim.Tokens()...)
}

func (h *harness) Requests() []vendortest.Request {
	var out []vendortest.Request
	for _, r := range h.sim.Requests() {
		st := r.HTTPStatus
		if st == http.StatusOK {
			st = r.Code
		}
		out = append(out, vendortest.Request{Time: r.Time, Op: r.Op, Status: st, Login: r.Login, Throttled: r.Throttled})
	}
	return out
}

func (h *harness) Violations() int { return h.sim.Violations() }

// Limit is the only documented limit, 200 token calls a day, applied to
// every call (stricter than the cloud).
func (h *harness) Limit() vendortest.Limit { return vendortest.Limit{N: 200, Per: 24 * time.Hour} }

// Change raises the first thermostat's temperature by 0.1 °C (one raw step).
func (h *harness) Change(t *testing.T) vendortest.Change {
	raw, ok := h.sim.Value("TH0001", "temp")
	if !ok {
		t.Fatal("no thermostat in the simulator")
	}
	raw++
	h.sim.SetValue("TH0001", "temp", raw)
	return vendortest.Change{DeviceID: "TH0001", Key: "temp", Want: raw / 10}
}

func (h *harness) Close() {
	h.sim.Close()
	h.srv.Close()
}

func (h *harness) FailNext(status, n int)                       { h.sim.FailNext(status, n) }
func (h *harness) ThrottleNext(retryAfter time.Duration, n int) { h.sim.ThrottleNext(retryAfter, n) }
func (h *harness) ExpireTokens()                                { h.sim.ExpireTokens() }
func (h *harness) SetOnline(id string, online bool)             { h.sim.SetOnline(id, online) }
func (h *harness) PublicURL() string                            { return h.srv.URL }
