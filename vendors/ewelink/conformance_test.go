package ewelink_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// The suite runs in the external test package: its goroutine check looks
// for frames of the adapter's package, which the test itself would be.
func TestConformance(t *testing.T) {
	vendortest.Run(t, vendortest.Opt{Vendor: "ewelink", New: newHarness, Timeout: 15 * time.Second})
}

// harness drives the simulator for the shared conformance suite.
type harness struct {
	sim *ewelinksim.Server
	mu  sync.Mutex
	n   int
}

func newHarness(t *testing.T) vendortest.Harness {
	// userOnline closer than the adapter's backoff floor (50 ms) is a violation.
	return &harness{sim: ewelinksim.New(ewelinksim.Options{UserOnlineGap: 40 * time.Millisecond, CoverTravel: 100 * time.Millisecond})}
}

// Config shortens the backoff and widens the token bucket (window 30 s: 10
// calls a second instead of 1) so the relist after every reconnect does not
// dominate the run. The simulator still enforces the vendor's 500 ms per
// endpoint and 300 calls per 5 minutes; the production backoff and window
// are tested in TestNoReconnectStorm and TestRESTBudgetInSimLog.
func (h *harness) Config() string {
	return h.sim.Config("conformance", "backoff_min: 50ms", "backoff_max: 400ms", "stable_after: 2s", "ack_timeout: 3s", "window: 30s")
}

// BadConfig has a password the cloud refuses.
func (h *harness) BadConfig() string {
	return strings.Replace(h.Config(), fmt.Sprintf("password: %q", h.sim.Options().Password), `password: "not-the-password"`, 1)
}

func (h *harness) Secrets() []string {
	o := h.sim.Options()
	return append([]string{o.AppSecret, o.Password}, h.sim.Tokens()...)
}

func (h *harness) Requests() []vendortest.Request {
	var out []vendortest.Request
	for _, r := range h.sim.Requests() {
		out = append(out, vendortest.Request{Time: r.Time, Op: r.Op, Status: r.Status, Login: r.Login, Throttled: r.Throttled})
	}
	return out
}

func (h *harness) Violations() int { return h.sim.Violations() }

// Limit is the vendor's documented REST budget (reference §8).
func (h *harness) Limit() vendortest.Limit { return vendortest.Limit{N: 300, Per: 5 * time.Minute} }

func onOff(on bool) (cloud, state string) {
	if on {
		return "on", "ON"
	}
	return "off", "OFF"
}

// Change flips a switch, a channel or a temperature as a person would.
func (h *harness) Change(t *testing.T) vendortest.Change {
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	switch n % 3 {
	case 0:
		cloud, state := onOff(h.sim.Param("1000a00001", "switch") != "on")
		h.sim.Report("1000a00001", map[string]any{"switch": cloud})
		return vendortest.Change{DeviceID: "1000a00001", Key: "switch", Want: state}
	case 1:
		temp := 1500 + n*7
		h.sim.Report("a480000001", map[string]any{"temperature": fmt.Sprint(temp)})
		return vendortest.Change{DeviceID: "a480000001", Key: "temperature", Want: float64(temp) / 100}
	default:
		list, _ := h.sim.Param("1000a00002", "switches").([]any)
		on := true
		for _, it := range list {
			if m, ok := it.(map[string]any); ok && fmt.Sprint(m["outlet"]) == "2" {
				on = m["switch"] != "on"
			}
		}
		cloud, state := onOff(on)
		h.sim.Report("1000a00002", map[string]any{"switches": []any{map[string]any{"switch": cloud, "outlet": 2}}})
		return vendortest.Change{DeviceID: "1000a00002", Key: "switch_3", Want: state}
	}
}

func (h *harness) Close() { h.sim.Close() }

func (h *harness) DropStreams() int                             { return h.sim.DropStreams() }
func (h *harness) FailNext(status, n int)                       { h.sim.FailNext(status, n) }
func (h *harness) ThrottleNext(retryAfter time.Duration, n int) { h.sim.ThrottleNext(retryAfter, n) }
func (h *harness) ExpireTokens()                                { h.sim.ExpireTokens() }
func (h *harness) SetOnline(id string, online bool)             { h.sim.SetOnline(id, online) }
