package ezviz_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	_ "github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

func TestConformance(t *testing.T) {
	vendortest.Run(t, vendortest.Opt{Vendor: "ezviz", New: newHarness})
}

// simLimit is the per-app call budget the simulator enforces; the harness
// config keeps the adapter under it (rate 20/s, burst 1: at most 21 a second).
const simLimit = 25

// harness adapts the simulator to vendortest.Harness.
type harness struct {
	sim     *ezvizsim.Sim
	changes int
}

func newHarness(t *testing.T) vendortest.Harness {
	t.Helper()
	sim, err := ezvizsim.New(ezvizsim.Options{MaxPerSecond: simLimit, UpgradeStep: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{sim: sim}
}

func harnessConfig(sim *ezvizsim.Sim, secret string) string {
	return fmt.Sprintf(`name: conformance
app_key: %s
app_secret: %s
api_url: %s
poll_interval: 200ms
status_interval: 200ms
settings_interval: 1s
upgrade_poll_interval: 100ms
ptz_step: 50ms
motion_hold: 1s
rate_limit: 20
rate_burst: 1
throttle_backoff: 2s
throttle_backoff_max: 4s
backoff_min: 100ms
backoff_max: 500ms
timeout: 5s
`, sim.AppKey(), secret, sim.URL())
}

func (h *harness) Config() string    { return harnessConfig(h.sim, h.sim.AppSecret()) }
func (h *harness) BadConfig() string { return harnessConfig(h.sim, "wrong"+h.sim.AppSecret()) }

func (h *harness) Secrets() []string {
	return append([]string{h.sim.AppSecret(), h.sim.AppKey()}, h.sim.Tokens()...)
}

func (h *harness) Requests() []vendortest.Request {
	var out []vendortest.Request
	for _, r := range h.sim.Requests() {
		out = append(out, vendortest.Request{Time: r.Time, Op: r.Op, Status: r.Status, Login: r.Login, Throttled: r.Throttled})
	}
	return out
}

func (h *harness) Violations() int {
	return h.sim.Violations()
}

func (h *harness) Limit() vendortest.Limit { return vendortest.Limit{N: simLimit, Per: time.Second} }

// Change alternates arming from the app (device list), lens privacy
// (status) and battery (status).
func (h *harness) Change(t *testing.T) vendortest.Change {
	t.Helper()
	h.changes++
	switch h.changes % 3 {
	case 1:
		st, _ := h.sim.State(ezvizsim.Outdoor)
		v := 1 - st.Defence
		h.sim.SetDefence(ezvizsim.Outdoor, v)
		return vendortest.Change{DeviceID: ezvizsim.Outdoor, Key: "motion_detection", Want: map[int]string{0: vendors.Off, 1: vendors.On}[v]}
	case 2:
		st, _ := h.sim.State(ezvizsim.IndoorPTZ)
		on := st.Privacy[1] == 0
		h.sim.SetPrivacy(ezvizsim.IndoorPTZ, 1, on)
		want := vendors.Off
		if on {
			want = vendors.On
		}
		return vendortest.Change{DeviceID: ezvizsim.IndoorPTZ, Key: "privacy", Want: want}
	default:
		st, _ := h.sim.State(ezvizsim.Doorbell)
		b := st.Battery - 7
		if b < 10 {
			b = 95
		}
		h.sim.SetBattery(ezvizsim.Doorbell, b)
		return vendortest.Change{DeviceID: ezvizsim.Doorbell, Key: "battery", Want: b}
	}
}

func (h *harness) FailNext(status, n int)                       { h.sim.FailNext(status, n) }
func (h *harness) ThrottleNext(retryAfter time.Duration, n int) { h.sim.ThrottleNext(retryAfter, n) }
func (h *harness) ExpireTokens()                                { h.sim.ExpireTokens() }

// SetOnline maps a bridged id (serial, or serial_channel) to the simulator.
func (h *harness) SetOnline(id string, online bool) {
	if serial, ch, ok := strings.Cut(id, "_"); ok {
		var n int
		fmt.Sscan(ch, &n)
		h.sim.SetChannelOnline(serial, n, online)
		return
	}
	h.sim.SetOnline(id, online)
}

func (h *harness) Close() {
	if n := h.sim.Violations(); n > 0 {
		for _, v := range h.sim.ViolationList() {
			fmt.Println("ezvizsim violation:", v)
		}
	}
	h.sim.Close()
}
