package ewelink

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
)

// small is a fixture subset: one device of a few families, on one page.
func small(ids ...string) []ewelinksim.Device {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []ewelinksim.Device
	for _, d := range ewelinksim.Fixtures() {
		if want[d.ID] {
			out = append(out, d)
		}
	}
	return out
}

// TestSteadyStateMakesNoRESTCalls: with the WebSocket up, state changes,
// commands and energy requests all go over the socket; the REST log stays
// empty (the relist every 30 min is the only scheduled REST call).
func TestSteadyStateMakesNoRESTCalls(t *testing.T) {
	s := newSim(t, ewelinksim.Options{})
	a, logs := build(t, passwordConfig(s, "energy_interval: 300ms"), t.TempDir())
	var mu sync.Mutex
	var writes []time.Time
	a.onWrite = func(at time.Time) { mu.Lock(); writes = append(writes, at); mu.Unlock() }
	r := run(t, a, logs)
	r.waitDevices(t, len(ewelinksim.Fixtures()))
	r.waitConnected(t)
	t0 := time.Now()
	for i := 0; i < 5; i++ {
		s.Report("a480000001", map[string]any{"temperature": "2100"})
		s.Report("1000a00005", map[string]any{"power": "99.50"})
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.a.Execute(ctx, vendors.Command{DeviceID: "1000a00001", Key: "switch", Value: true}); err != nil {
		t.Fatalf("command: %v", err)
	}
	r.rec.WaitValue(t, 5*time.Second, "1000a00005", "power", 99.5)
	time.Sleep(2 * time.Second) // several energy rounds and heartbeats
	if rest := restCalls(s.Requests(), t0); len(rest) != 0 {
		t.Errorf("%d REST calls in steady state, want 0: %+v", len(rest), rest)
	}
	if n := countOp(restCalls(s.Requests(), time.Time{}), "GET /v2/device/thing/status"); n != 0 {
		t.Errorf("the adapter polled device status %d times", n)
	}
	if countOp(s.Requests(), "ws update") == 0 {
		t.Error("no command or energy request went over the websocket")
	}
	if s.Violations() != 0 {
		t.Errorf("violations: %v", s.ViolationLog())
	}
	mu.Lock()
	defer mu.Unlock()
	closest := time.Hour
	for i := 1; i < len(writes); i++ {
		closest = min(closest, writes[i].Sub(writes[i-1]))
	}
	t.Logf("REST calls in steady state: 0; websocket frames: %d, closest two %s apart", len(writes), closest)
	if closest < 100*time.Millisecond {
		t.Errorf("websocket frames %s apart, want ≥ 100ms", closest)
	}
}

// TestHeartbeat: pings go out at hbInterval × 0.8–1.0, so the cloud (which
// drops silent sockets) keeps the connection.
func TestHeartbeat(t *testing.T) {
	s := newSim(t, ewelinksim.Options{HBInterval: 0.3, Devices: small("1000a00001")})
	r := start(t, passwordConfig(s), t.TempDir())
	r.waitConnected(t)
	time.Sleep(2 * time.Second)
	reqs := s.Requests()
	if n := countOp(reqs, "ws ping"); n < 5 || n > 9 {
		t.Errorf("%d pings in 2s at a 0.3s interval", n)
	}
	if s.HeartbeatMisses() != 0 || countOp(reqs, "ws connect") != 1 {
		t.Errorf("the socket was dropped: %d misses, %d connects", s.HeartbeatMisses(), countOp(reqs, "ws connect"))
	}
}

// TestSingleSessionKick: another login with the same APPID kills our tokens;
// the adapter refreshes once, then needs a person, and logs in no more.
func TestSingleSessionKick(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", "1000a00002")})
	bridge := httptest.NewServer(http.NotFoundHandler())
	defer bridge.Close()
	a, logs := build(t, passwordConfig(s), t.TempDir(), withPublicURL(bridge.URL))
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.Handle(rt.Path, rt.Handler)
	}
	bridge.Config.Handler = mux
	r := run(t, a, logs)
	r.waitDevices(t, 2)
	r.waitConnected(t)
	before := logins(s.Requests())

	s.LoginElsewhere()
	r.rec.WaitFor(t, 10*time.Second, "re-authentication needed", func() bool { return r.lastStatus().Reauth })
	time.Sleep(1500 * time.Millisecond) // room for a login loop, if there were one
	reqs := s.Requests()
	if n := logins(reqs) - before; n != 1 {
		t.Errorf("%d login/refresh calls after the kick, want exactly 1 refresh", n)
	}
	if n := countOp(reqs, "POST /v2/user/login"); n != 1 {
		t.Errorf("%d password logins in total, want 1 (none after the kick)", n)
	}
	st := r.lastStatus()
	if want := bridge.URL + "/ewelink/test/login"; st.ReauthURL != want || st.State != vendors.StateError {
		t.Errorf("status %+v, want reauth at %s", st, want)
	}
	if strings.Count(logs.String(), "ewelink login needed") != 1 {
		t.Errorf("the login URL should be logged once:\n%s", logs.String())
	}
	n := len(s.Requests())
	err := r.a.Execute(context.Background(), vendors.Command{DeviceID: "1000a00001", Key: "switch", Value: true})
	if vendors.Code(err) != vendors.CodeAuth || len(s.Requests()) != n {
		t.Errorf("a command while re-auth is needed: %v (code %s), %d cloud calls", err, vendors.Code(err), len(s.Requests())-n)
	}
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v; it should wait for the person", err)
	default:
	}

	// The person logs in again from the login page.
	page, err := http.Get(st.ReauthURL)
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(page.Body)
	page.Body.Close()
	token := regexp.MustCompile(`name="state" value="([0-9a-f]+)"`).FindSubmatch(form)
	if token == nil {
		t.Fatalf("login page without a form token:\n%s", form)
	}
	resp, err := http.PostForm(st.ReauthURL, url.Values{"state": {string(token[1])}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	r.rec.WaitFor(t, 10*time.Second, "connected again", func() bool {
		st := r.lastStatus()
		return st.State == vendors.StateConnected && !st.Reauth
	})
}

// mountBridge serves an adapter's routes like the bridge does.
func mountBridge(t *testing.T) (*httptest.Server, func(routes []vendors.Route)) {
	var mu sync.Mutex
	mux := http.NewServeMux()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		m := mux
		mu.Unlock()
		m.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func(routes []vendors.Route) {
		m := http.NewServeMux()
		for _, rt := range routes {
			m.Handle(rt.Path, rt.Handler)
		}
		mu.Lock()
		mux = m
		mu.Unlock()
	}
}

// TestOAuthLogin: the account shows the login URL until a person logs in;
// the callback checks state, exchanges the code in the callback's region,
// reads the apikey and the devices follow.
func TestOAuthLogin(t *testing.T) {
	s := newSim(t, ewelinksim.Options{AutoApprove: true, Devices: small("1000a00001", "1000a00003")})
	bridge, mount := mountBridge(t)
	m := newMetricsRec()
	a, logs := build(t, oauthConfig(s), t.TempDir(), withPublicURL(bridge.URL), withMetrics(m))
	mount(a.Routes())
	r := run(t, a, logs)
	r.rec.WaitFor(t, 5*time.Second, "the login URL in the status", func() bool { return r.lastStatus().Reauth })
	st := r.lastStatus()
	if st.ReauthURL != bridge.URL+"/ewelink/test/login" {
		t.Fatalf("ReauthURL %q", st.ReauthURL)
	}
	if len(s.Requests()) != 0 {
		t.Fatalf("the adapter called the cloud before anyone logged in: %+v", s.Requests())
	}

	// A callback with a state the adapter never issued is refused.
	resp, err := http.Get(bridge.URL + "/ewelink/test/callback?code=abc&region=eu&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(restCalls(s.Requests(), time.Time{})) != 0 {
		t.Fatalf("forged state: status %d, %d cloud calls", resp.StatusCode, len(s.Requests()))
	}

	// The browser: login URL → authorization page (auto-approve) → callback.
	resp, err = http.Get(st.ReauthURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Logged in") {
		t.Fatalf("oauth flow ended with %d: %s", resp.StatusCode, body)
	}
	r.waitDevices(t, 2)
	r.waitConnected(t)
	reqs := s.Requests()
	if countOp(reqs, "POST /v2/user/oauth/token") != 1 || countOp(reqs, "GET /v2/user/profile") != 1 {
		t.Errorf("want one code exchange and one profile read: %+v", reqs)
	}
	if got := r.lastStatus().Info["region"]; got != "eu" {
		t.Errorf("region %q, want the callback's eu (config said us)", got)
	}
	// The shared device is commanded with the owner's apikey (the sim checks).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.a.Execute(ctx, vendors.Command{DeviceID: "1000a00003", Key: "switch_2", Value: true}); err != nil {
		t.Errorf("shared device command: %v", err)
	}
	if strings.Count(logs.String(), "ewelink login needed") != 1 {
		t.Errorf("login URL logged %d times, want once", strings.Count(logs.String(), "ewelink login needed"))
	}
	if st := r.lastStatus(); st.Budget["monthly_calls_remaining"] <= 0 || st.Budget["monthly_calls_remaining"] >= 50000 {
		t.Errorf("free APPID budget not reported: %v", st.Budget)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.budgets["monthly_calls_remaining"]; b <= 0 || b >= 50000 || m.ops["POST /v2/user/oauth/token"] != 1 ||
		len(m.stream) == 0 || !m.stream[0] || len(m.expiry) == 0 || time.Until(m.expiry[0]) < 29*24*time.Hour {
		t.Errorf("metrics: budgets %v ops %v stream %v expiry %v", m.budgets, m.ops, m.stream, m.expiry)
	}
}

// TestOAuthExpiredCode: a code older than 30 s is refused; the account keeps
// asking for a login.
func TestOAuthExpiredCode(t *testing.T) {
	s := newSim(t, ewelinksim.Options{AutoApprove: true, CodeTTL: time.Nanosecond, Devices: small("1000a00001")})
	bridge, mount := mountBridge(t)
	a, logs := build(t, oauthConfig(s), t.TempDir(), withPublicURL(bridge.URL))
	mount(a.Routes())
	r := run(t, a, logs)
	r.rec.WaitFor(t, 5*time.Second, "reauth", func() bool { return r.lastStatus().Reauth })
	resp, err := http.Get(r.lastStatus().ReauthURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired code: %d %s", resp.StatusCode, body)
	}
	if !r.lastStatus().Reauth {
		t.Error("the account should still ask for a login")
	}
}

// TestPasswordRegionRedirect: a login at the wrong region follows 10004 once.
func TestPasswordRegionRedirect(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Region: "as", Devices: small("1000a00001")})
	r := start(t, passwordConfig(s, "region: us"), t.TempDir())
	r.waitDevices(t, 1)
	r.waitConnected(t)
	reqs := s.Requests()
	if n := countOp(reqs, "POST /v2/user/login"); n != 2 {
		t.Errorf("%d logins, want 2 (us → 10004 → as)", n)
	}
	if reqs[0].Status != 10004 {
		t.Errorf("first login answered %d, want 10004", reqs[0].Status)
	}
	if got := r.lastStatus().Info["region"]; got != "as" {
		t.Errorf("region %q, want as", got)
	}
}

// TestBadPasswordIsPermanent: Run ends at once, after one login.
func TestBadPasswordIsPermanent(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	cfg := strings.Replace(passwordConfig(s), s.Options().Password, "wrong-password", 1)
	r := start(t, cfg, t.TempDir())
	select {
	case err := <-r.done:
		r.cancel = nil
		if !vendors.IsPermanent(err) || !strings.Contains(err.Error(), "10001") {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going with a refused password")
	}
	if n := logins(s.Requests()); n != 1 {
		t.Errorf("%d logins", n)
	}
}

// TestRefreshBeforeExpiry: tokens with less than refresh_before left are
// refreshed once at start; the new ones are persisted.
func TestRefreshBeforeExpiry(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	dir := t.TempDir()
	r := start(t, passwordConfig(s), dir)
	r.waitConnected(t)
	r.stop(t)
	st, err := os.Stat(filepath.Join(dir, "ewelink-test-tokens.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ewelink-test-tokens.json")); strings.Contains(string(b), s.Options().Password) || !strings.Contains(string(b), `"rt"`) {
		t.Errorf("token file content: %s", b)
	}
	// 30-day tokens are "about to expire" when 40 days must be left.
	r = start(t, passwordConfig(s, "refresh_before: 960h"), dir)
	r.waitConnected(t)
	reqs := s.Requests()
	if countOp(reqs, "POST /v2/user/refresh") != 1 || countOp(reqs, "POST /v2/user/login") != 1 {
		t.Errorf("want 1 login then 1 refresh: %+v", reqs)
	}
	r.stop(t)
	r = start(t, passwordConfig(s), dir)
	r.waitConnected(t)
	if n := logins(s.Requests()); n != 2 {
		t.Errorf("the refreshed tokens were not persisted: %d token calls", n)
	}
}

// TestCommandsFallBackToREST: with the socket down, commands use POST
// /v2/device/thing/status and /get uses GET /v2/device/thing/status.
func TestCommandsFallBackToREST(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", "1000a00002")})
	r := start(t, passwordConfig(s, "backoff_min: 1h", "backoff_max: 2h"), t.TempDir())
	r.waitConnected(t)
	s.DropStreams()
	r.rec.WaitFor(t, 5*time.Second, "backoff", func() bool { return r.lastStatus().State == vendors.StateBackoff })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.a.Execute(ctx, vendors.Command{DeviceID: "1000a00002", Key: "switch_2", Value: true}); err != nil {
		t.Fatal(err)
	}
	if got := s.Param("1000a00002", "switches"); !strings.Contains(jsonText(got), `{"outlet":1,"switch":"on"}`) {
		t.Errorf("the cloud did not switch outlet 1: %s", jsonText(got))
	}
	r.rec.WaitValue(t, time.Second, "1000a00002", "switch_2", "ON")
	if err := r.a.Refresh(ctx, "1000a00001"); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if countOp(reqs, "POST /v2/device/thing/status") != 1 || countOp(reqs, "GET /v2/device/thing/status") != 1 {
		t.Errorf("want one REST command and one REST read: %+v", restCalls(reqs, time.Time{}))
	}
}

// TestOfflineDevices: a device the adapter knows is offline costs no call;
// one the cloud finds offline answers 504 → DEVICE_OFFLINE.
func TestOfflineDevices(t *testing.T) {
	s := newSim(t, ewelinksim.Options{})
	r := start(t, passwordConfig(s), t.TempDir())
	r.waitDevices(t, len(ewelinksim.Fixtures()))
	r.waitConnected(t)
	// the heartbeat and other devices' energy reads may come meanwhile
	calls := func() (out []ewelinksim.Request) {
		for _, q := range s.Requests() {
			if q.Op != "ws ping" && (q.Device == "" || q.Device == "1000b00004") {
				out = append(out, q)
			}
		}
		return out
	}
	n := len(calls())
	err := r.a.Execute(context.Background(), vendors.Command{DeviceID: "1000b00004", Key: "switch", Value: true})
	if after := calls(); vendors.Code(err) != vendors.CodeOffline || len(after) != n {
		t.Errorf("known-offline: %v, %d calls %+v", err, len(after)-n, after[n:])
	}
	// The gateway goes offline: its sub-devices follow.
	s.SetOnline(ewelinksim.Gateway, false)
	r.rec.WaitFor(t, 5*time.Second, "sub-device offline", func() bool { on, known := r.rec.Online("a480000002"); return known && !on })
	if v, _ := r.rec.Value("a480000002", "motion"); v != "OFF" {
		t.Errorf("motion %v while offline, want OFF", v)
	}
	s.SetOnline(ewelinksim.Gateway, true)
	r.rec.WaitFor(t, 5*time.Second, "sub-device back", func() bool { on, _ := r.rec.Online("a480000002"); return on })
	// Offline at the cloud but not yet known to the adapter: 504.
	s.SetOnlineSilently("1000a00001", false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = r.a.Execute(ctx, vendors.Command{DeviceID: "1000a00001", Key: "switch", Value: true})
	if vendors.Code(err) != vendors.CodeOffline {
		t.Errorf("504: got %v (%s)", err, vendors.Code(err))
	}
}

// TestEnergyNeverDecreases: the lifetime counter follows the history across
// a day rollover and a restart, and never goes down.
func TestEnergyNeverDecreases(t *testing.T) {
	const id = "1000a00006" // POWR2, hundredDaysKwhData
	s := newSim(t, ewelinksim.Options{Devices: small(id, "1000a00008")})
	dir := t.TempDir()
	cfg := passwordConfig(s, "energy_interval: 200ms")
	var seen []float64
	var mu sync.Mutex
	watch := func(r *running) (stop func()) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if v, ok := r.rec.Value(id, "energy"); ok {
					mu.Lock()
					if f := v.(float64); len(seen) == 0 || seen[len(seen)-1] != f {
						seen = append(seen, f)
					}
					mu.Unlock()
				}
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
		return func() { close(done); wg.Wait() }
	}
	waitEnergy := func(r *running, want float64) {
		t.Helper()
		r.rec.WaitValue(t, 5*time.Second, id, "energy", want)
	}
	base := s.EnergyTotal(id, 0)
	r := start(t, cfg, dir)
	stop := watch(r)
	waitEnergy(r, round(base, 2))
	for _, e := range r.rec.Devices()[id].Entities {
		if e.Key == "energy" && (e.StateClass != "total_increasing" || e.Unit != "kWh") {
			t.Errorf("energy entity %+v, want total_increasing kWh", e)
		}
	}
	s.AddEnergy(id, 0, 0.35)
	waitEnergy(r, round(base+0.35, 2))
	s.Rollover(id) // midnight: today starts at 0, yesterday closes
	s.AddEnergy(id, 0, 0.20)
	waitEnergy(r, round(base+0.55, 2))
	stop()
	r.stop(t)

	// While the bridge is down the day closes again and more is used.
	s.AddEnergy(id, 0, 0.10)
	s.Rollover(id)
	s.AddEnergy(id, 0, 0.05)
	r = start(t, cfg, dir)
	if v, ok := r.rec.Value(id, "energy"); ok && v.(float64) < round(base+0.55, 2) {
		t.Errorf("after the restart energy started at %v", v)
	}
	stop = watch(r)
	defer stop()
	waitEnergy(r, round(base+0.70, 2))
	// DUAL R3: one counter per channel.
	r.rec.WaitFor(t, 5*time.Second, "DUAL R3 energy", func() bool {
		_, ok1 := r.rec.Value("1000a00008", "energy_1")
		_, ok2 := r.rec.Value("1000a00008", "energy_2")
		return ok1 && ok2
	})
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("energy went down: %v", seen)
		}
	}
	if n := s.UIActiveCount(); n != 0 {
		t.Errorf("the adapter sent uiActive %d times", n)
	}
}

// TestThrottledREST: a 429 with Retry-After pauses every REST call.
func TestThrottledREST(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	r := start(t, passwordConfig(s), t.TempDir())
	r.waitConnected(t)
	s.ThrottleNext(time.Second, 1)
	ctx := context.Background()
	err := r.a.Refresh(ctx, "1000a00001")
	var rl *vendors.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("want a rate limit error with 1s, got %v", err)
	}
	start := time.Now()
	if err := r.a.Refresh(ctx, "1000a00001"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("the next call went after %s", waited)
	}
}

// TestMonthlyQuota: the free APPID's counter is persisted and reported, and
// a 412 stops counted calls for the month.
func TestMonthlyQuota(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001"), MonthlyQuota: 6})
	dir := t.TempDir()
	r := start(t, passwordConfig(s, "monthly_quota: 50"), dir)
	r.waitConnected(t)
	used := r.lastStatus().Budget["monthly_calls_used"]
	if used < 3 || r.lastStatus().Budget["monthly_calls_remaining"] != 50-used {
		t.Fatalf("budget %v", r.lastStatus().Budget)
	}
	ctx := context.Background()
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		err = r.a.Refresh(ctx, "1000a00001")
	}
	var rl *vendors.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("want the quota error, got %v", err)
	}
	n := len(s.Requests())
	if err := r.a.Refresh(ctx, "1000a00001"); !errors.As(err, &rl) || len(s.Requests()) != n {
		t.Errorf("after 412: %v, %d calls", err, len(s.Requests())-n)
	}
	// Commands still work over the socket, which costs no quota.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.a.Execute(cctx, vendors.Command{DeviceID: "1000a00001", Key: "switch", Value: true}); err != nil {
		t.Errorf("command over the socket: %v", err)
	}
	r.stop(t)
	a, _ := build(t, passwordConfig(s, "monthly_quota: 50"), dir)
	if b := a.budget.remaining(); b["monthly_calls_remaining"] != 0 {
		t.Errorf("quota state not persisted: %v", b)
	}
}
