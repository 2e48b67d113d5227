package shelly_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/shelly"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// simHarness is what both account types share: the simulator, its log and
// a person changing a device.
type simHarness struct {
	sim  *shellysim.Sim
	mu   sync.Mutex
	next int
}

func (h *simHarness) Requests() []vendortest.Request {
	var out []vendortest.Request
	for _, r := range h.sim.Requests() {
		out = append(out, vendortest.Request{Time: r.Time, Op: r.Op, Status: r.Status, Login: r.Login, Throttled: r.Throttled})
	}
	return out
}

func (h *simHarness) Violations() int { return h.sim.Violations() }

func (h *simHarness) SetOnline(id string, online bool) { h.sim.SetOnline(id, online) }

// Change toggles a relay (the Plus 1PM or the Plug S, in turn) as a person
// at the wall would.
func (h *simHarness) Change(t *testing.T) vendortest.Change {
	t.Helper()
	var relays []string
	for _, d := range h.sim.Devices() {
		if (d.Code == "SNSW-001P16EU" || d.Code == "SHPLG-S") && d.Online {
			relays = append(relays, d.ID)
		}
	}
	h.mu.Lock()
	id := relays[h.next%len(relays)]
	h.next++
	h.mu.Unlock()
	on, err := h.sim.Toggle(id)
	if err != nil {
		t.Fatalf("toggle %s: %v", id, err)
	}
	want := vendors.Off
	if on {
		want = vendors.On
	}
	return vendortest.Change{DeviceID: id, Key: "switch_0", Want: want}
}

func (h *simHarness) Close() { h.sim.Close() }

// integratorHarness plays the bridge's HTTP server too: the adapter's
// consent route is mounted on it, and the simulator posts consents there.
type integratorHarness struct {
	simHarness
	srv     *httptest.Server
	routeMu sync.Mutex
	routes  []vendors.Route
}

func newIntegratorHarness(t *testing.T) vendortest.Harness {
	sim, err := shellysim.New(shellysim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &integratorHarness{simHarness: simHarness{sim: sim}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

func (h *integratorHarness) serve(w http.ResponseWriter, r *http.Request) {
	h.routeMu.Lock()
	routes := h.routes
	h.routeMu.Unlock()
	for _, rt := range routes {
		if rt.Path == r.URL.Path {
			rt.Handler.ServeHTTP(w, r)
			return
		}
	}
	http.NotFound(w, r)
}

func (h *integratorHarness) Config() string {
	return h.sim.IntegratorConfig("conformance", "backoff_base: 50ms", "backoff_max: 500ms", "command_timeout: 3s", "verify_interval: 5ms", "ping_interval: 2s")
}

func (h *integratorHarness) BadConfig() string {
	return strings.Replace(h.Config(), h.sim.Token(), "wrong-token-for-test", 1)
}

func (h *integratorHarness) Secrets() []string {
	return append([]string{h.sim.Token()}, h.sim.IssuedTokens()...)
}

// The Integrator API documents no request rate limit.
func (h *integratorHarness) Limit() vendortest.Limit { return vendortest.Limit{} }

func (h *integratorHarness) PublicURL() string { return h.srv.URL }

// Mount serves the adapter's routes and has every device shared with the
// integrator, as owners would on Shelly's consent page, before Run starts.
func (h *integratorHarness) Mount(routes []vendors.Route) {
	h.routeMu.Lock()
	h.routes = routes
	h.routeMu.Unlock()
	for _, rt := range routes {
		if !strings.HasSuffix(rt.Path, "/consent") {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for _, d := range h.sim.Devices() {
			if status, err := h.sim.SendConsent(ctx, h.srv.URL+rt.Path, d.ID, "add"); status != http.StatusOK {
				panic(fmt.Sprintf("consent for %s: status %d, %v", d.ID, status, err))
			}
		}
		cancel()
	}
}

func (h *integratorHarness) DropStreams() int { return h.sim.DropStreams() }

// ThrottleNext throttles the next token calls and forces one: the tokens
// expire and the sockets drop, so the reconnects need a new token (the
// integrator's only HTTP traffic besides the handshakes).
func (h *integratorHarness) ThrottleNext(retryAfter time.Duration, n int) {
	h.sim.ThrottleNext(retryAfter, n)
	h.sim.ExpireTokens()
	h.sim.DropStreams()
}

func (h *integratorHarness) ExpireTokens() { h.sim.ExpireTokens() }

// FailNext makes the next n HTTP calls fail and drops the sockets, so the
// burst hits the reconnect handshakes (the integrator's HTTP traffic).
func (h *integratorHarness) FailNext(status, n int) {
	h.sim.FailNext(status, n)
	h.sim.DropStreams()
}

func (h *integratorHarness) Close() {
	h.srv.Close()
	h.sim.Close()
}

type cloudHarness struct{ simHarness }

func newCloudHarness(t *testing.T) vendortest.Harness {
	sim, err := shellysim.New(shellysim.Options{CoverSpeed: 100})
	if err != nil {
		t.Fatal(err)
	}
	return &cloudHarness{simHarness{sim: sim}}
}

func (h *cloudHarness) Config() string {
	return h.sim.CloudConfig("conformance", "poll_interval: 1500ms", "backoff_base: 50ms", "backoff_max: 1s", "unauthorized_retry: 100ms")
}

func (h *cloudHarness) BadConfig() string {
	return strings.Replace(h.Config(), h.sim.AuthKey(), "wrong-key-for-test", 1)
}

func (h *cloudHarness) Secrets() []string { return []string{h.sim.AuthKey()} }

// The Cloud Control API allows one request per second per account.
func (h *cloudHarness) Limit() vendortest.Limit { return vendortest.Limit{N: 1, Per: time.Second} }

func (h *cloudHarness) FailNext(status, n int) { h.sim.FailNext(status, n) }

func (h *cloudHarness) ThrottleNext(retryAfter time.Duration, n int) {
	h.sim.ThrottleNext(retryAfter, n)
}

func TestConformanceIntegrator(t *testing.T) {
	vendortest.Run(t, vendortest.Opt{Vendor: "shelly", New: newIntegratorHarness})
}

func TestConformanceCloud(t *testing.T) {
	vendortest.Run(t, vendortest.Opt{Vendor: "shelly", New: newCloudHarness, Timeout: 15 * time.Second})
}
