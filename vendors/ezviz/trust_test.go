package ezviz_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

// bridgeServer stands in for the bridge's HTTP server.
type bridgeServer struct {
	srv *httptest.Server
	mu  sync.Mutex
	mux *http.ServeMux
}

func newBridgeServer(t *testing.T) *bridgeServer {
	b := &bridgeServer{mux: http.NewServeMux()}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		m := b.mux
		b.mu.Unlock()
		m.ServeHTTP(w, r)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bridgeServer) mount(routes []vendors.Route) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, rt := range routes {
		b.mux.Handle(rt.Path, rt.Handler)
	}
}

// TestTrustFlow: in trust mode the account asks for authorization (Reauth
// with the start URL) until a user trusts devices; the authorization page,
// EZVIZ's callback and the return page bring the trusted devices into the
// inventory, reached with the all-permission trust token; withdrawing the
// trust removes them.
func TestTrustFlow(t *testing.T) {
	t.Parallel()
	bridge := newBridgeServer(t)
	sim := newSim(t, ezvizsim.Options{})
	userCam := ezvizsim.Fixtures("7")[0]
	userCam.UserOwned = true
	sim.AddDevice(userCam)
	r := startRig(t, sim, rigOpt{publicURL: bridge.srv.URL, noStart: true, config: map[string]string{"mode": "trust", "auth_url": sim.URL()}})
	bridge.mount(r.a.(vendors.Router).Routes())
	sim.SetTrustCallback(bridge.srv.URL + "/ezviz/test/trust/callback")
	r.start()
	devs := r.inventory()
	if _, ok := devs[userCam.Serial]; ok {
		t.Fatal("an untrusted user device is in the inventory")
	}
	var pending vendors.Status
	r.rec.WaitFor(t, 5*time.Second, "reauth status", func() bool {
		st := r.rec.Statuses()
		pending = st[len(st)-1]
		return pending.Reauth
	})
	if pending.ReauthURL != bridge.srv.URL+"/ezviz/test/trust" || pending.Info["trust_callback_url"] != bridge.srv.URL+"/ezviz/test/trust/callback" {
		t.Errorf("pending status %+v", pending)
	}
	if strings.Contains(pending.ReauthURL, sim.AppKey()) {
		t.Error("the reauth URL carries the app key")
	}

	// The user opens the start URL and consents on the EZVIZ page.
	resp, err := http.Get(pending.ReauthURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "authorized") || resp.Request.URL.Path != "/ezviz/test/trust/return" {
		t.Fatalf("flow ended at %s with %d: %s", resp.Request.URL.Path, resp.StatusCode, body)
	}
	cbs := sim.Callbacks()
	if len(cbs) != 1 || !cbs[0].Accepted || cbs[0].Op != "device_authorize" {
		t.Fatalf("callbacks %+v", cbs)
	}
	r.rec.WaitFor(t, 5*time.Second, "trusted device", func() bool { _, ok := r.rec.Devices()[userCam.Serial]; return ok })
	r.rec.WaitFor(t, 5*time.Second, "reauth cleared", func() bool { st := r.rec.Statuses(); return !st[len(st)-1].Reauth })
	r.waitValue(userCam.Serial, "motion_detection", vendors.On)

	// Commands on the trusted device go out with the trust token.
	if err := r.exec(userCam.Serial, "privacy", true); err != nil {
		t.Fatalf("privacy on a trusted camera: %v", err)
	}
	if st, _ := sim.State(userCam.Serial); st.Privacy[1] != 1 {
		t.Error("the trusted camera's privacy did not change")
	}
	trustLogins := 0
	for _, q := range sim.Requests() {
		if q.Op == "POST /api/lapp/trust/device/v2/token/get" {
			trustLogins++
		}
	}
	if trustLogins != 1 {
		t.Errorf("%d trust token requests, want 1", trustLogins)
	}
	// The own devices are still there.
	if _, ok := r.rec.Devices()[ezvizsim.IndoorPTZ]; !ok {
		t.Error("self-owned devices vanished in trust mode")
	}

	sim.Untrust(userCam.Serial)
	r.rec.WaitFor(t, 5*time.Second, "untrusted device removed", func() bool { _, ok := r.rec.Devices()[userCam.Serial]; return !ok })

	// A return with an unknown state is refused; a bad callback gets 400.
	resp, err = http.Get(bridge.srv.URL + "/ezviz/test/trust/return?code=x&state=forged")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("forged state answered %d", resp.StatusCode)
		}
	}
	resp, err = http.Get(bridge.srv.URL + "/ezviz/test/trust/callback?opt_type=drop_tables&deviceSerials=X:1")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("bad callback answered %d", resp.StatusCode)
		}
	}
}

// TestTrustNeedsPublicURL: trust mode without the bridge's public URL is a
// config error (the redirect and callback need it).
func TestTrustNeedsPublicURL(t *testing.T) {
	t.Parallel()
	sim := newSim(t, ezvizsim.Options{})
	reg, _ := vendors.Lookup("ezviz")
	_, err := reg.Factory(vendors.Env{}, decodeStrict(baseConfig(sim, map[string]string{"mode": "trust"})))
	if err == nil || !strings.Contains(err.Error(), "public URL") {
		t.Errorf("factory: %v", err)
	}
}
