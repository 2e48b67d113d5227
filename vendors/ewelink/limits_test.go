package ewelink

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
)

// fakeClock is a vendorkit.Clock the test moves by hand.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []*fakeWait
}

type fakeWait struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &fakeWait{at: c.now.Add(d), d: d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		w.ch <- c.now
		return w.ch
	}
	c.waits = append(c.waits, w)
	return w.ch
}

// pending are the durations asked for by sleepers not yet woken.
func (c *fakeClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, w := range c.waits {
		out = append(out, w.d)
	}
	return out
}

// advance moves the clock and wakes the sleepers that are due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waits[:0]
	for _, w := range c.waits {
		if w.at.After(c.now) {
			keep = append(keep, w)
			continue
		}
		w.ch <- c.now
	}
	c.waits = keep
}

// TestNoReconnectStorm: 20 forced WebSocket drops with the production
// backoff (15 s → 64 min, jittered) on a fake clock. Each reconnect waits
// the backoff the adapter asked for and not a moment less; the simulator
// (which times userOnline on the same clock and counts anything closer than
// 15 s as a violation) sees exactly one dispatch, one connection and one
// userOnline per drop, and no login or refresh at all.
func TestNoReconnectStorm(t *testing.T) {
	const drops = 20
	fc := newFakeClock()
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", "1000a00005"), EndpointGap: 50 * time.Millisecond,
		UserOnlineGap: 15 * time.Second, Now: fc.Now})
	a, logs := build(t, passwordConfig(s, "endpoint_gap: 50ms", "window: 5s", "backoff_min: 15s", "backoff_max: 64m", "stable_after: 5m"), t.TempDir())
	a.clock = fc
	r := run(t, a, logs)
	r.waitDevices(t, 2)
	r.waitConnected(t)
	// The POW's energy history request (energy_interval 1h) goes out once.
	r.rec.WaitFor(t, 10*time.Second, "the energy request", func() bool { return countOp(s.Requests(), "ws update") == 1 })
	baseLogins := logins(s.Requests())
	var waits []time.Duration
	for i := 0; i < drops; i++ {
		r.rec.WaitFor(t, 10*time.Second, "the stream to be up", func() bool { return s.Streams() == 1 })
		if n := s.DropStreams(); n != 1 {
			t.Fatalf("drop %d: %d streams open", i, n)
		}
		r.rec.WaitFor(t, 10*time.Second, "the adapter to back off", func() bool { return len(fc.pending()) == 1 })
		d := fc.pending()[0]
		waits = append(waits, d)
		// Until the clock moves, nothing reconnects.
		fc.advance(d - time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		if n := len(s.UserOnlines()); n != i+1 || s.Streams() != 0 {
			t.Fatalf("drop %d: %d userOnline and %d streams before the backoff of %s ran out", i, n, s.Streams(), d)
		}
		fc.advance(time.Millisecond)
	}
	r.rec.WaitFor(t, 10*time.Second, "the last reconnect", func() bool { return s.Streams() == 1 })
	r.waitConnected(t)

	reqs := s.Requests()
	onlines := s.UserOnlines()
	var total time.Duration
	distinct := map[time.Duration]bool{}
	for i, d := range waits {
		total += d
		distinct[d] = true
		ceil := min(30*time.Second<<i, 64*time.Minute)
		if d < 15*time.Second || d > ceil {
			t.Errorf("wait %d is %s, want within [15s, %s]", i+1, d, ceil)
		}
	}
	minGap := time.Duration(1 << 62)
	for i := 1; i < len(onlines); i++ {
		minGap = min(minGap, onlines[i].Sub(onlines[i-1]))
	}
	t.Logf("drops=%d userOnline=%d connects=%d dispatch=%d thing lists=%d (2 homes) logins/refreshes after start=%d; waits %v (sum %s, closest userOnline pair %s on the fake clock)",
		drops, len(onlines), countOp(reqs, "ws connect"), countOp(reqs, "GET /dispatch/app"), countOp(reqs, "GET /v2/device/thing"),
		logins(reqs)-baseLogins, waits, total.Round(time.Second), minGap)
	if len(onlines) != drops+1 || countOp(reqs, "ws connect") != drops+1 || a.userOnlines.Load() != drops+1 {
		t.Errorf("want %d connections and userOnline, got %d connects, %d userOnline (adapter sent %d)",
			drops+1, countOp(reqs, "ws connect"), len(onlines), a.userOnlines.Load())
	}
	if n := countOp(reqs, "GET /dispatch/app"); n != drops+1 {
		t.Errorf("%d dispatch calls, want %d", n, drops+1)
	}
	if n := countOp(reqs, "ws update"); n != 1 {
		t.Errorf("%d energy history requests over %d connections, want 1 (at most hourly)", n, drops+1)
	}
	if n := logins(reqs) - baseLogins; n != 0 {
		t.Errorf("%d logins/refreshes caused by the drops, want 0", n)
	}
	if len(distinct) < drops-2 {
		t.Errorf("waits are not jittered: %v", waits)
	}
	// 32 min and more become possible from the 7th wait on; with full jitter
	// over 13 tries at least one lands above 8 min (p ≈ 1 - 8⁻¹³).
	late := waits[7:]
	sort.Slice(late, func(i, j int) bool { return late[i] > late[j] })
	if late[0] < 8*time.Minute {
		t.Errorf("the backoff did not grow: %v", waits)
	}
	if s.Violations() != 0 {
		t.Errorf("violations: %v", s.ViolationLog())
	}
}

// TestExpiredTokenRefreshesOnce: REST 402 → one refresh, the call is
// repeated with the new token, no login.
func TestExpiredTokenRefreshesOnce(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	r := start(t, passwordConfig(s, "window: 5s"), t.TempDir())
	r.waitConnected(t)
	t0 := time.Now()
	s.ExpireTokens()
	if err := r.a.Refresh(context.Background(), "1000a00001"); err != nil {
		t.Fatalf("read after expiry: %v", err)
	}
	rest := restCalls(s.Requests(), t0)
	var got []string
	for _, q := range rest {
		got = append(got, fmt.Sprintf("%s=%d", q.Op, q.Status))
	}
	want := []string{"GET /v2/device/thing/status=402", "POST /v2/user/refresh=200", "GET /v2/device/thing/status=200"}
	t.Logf("REST calls after the expiry: %v", got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("calls %v, want %v", got, want)
	}
	if n := countOp(s.Requests(), "POST /v2/user/login"); n != 1 {
		t.Errorf("%d password logins, want 1", n)
	}
	if r.lastStatus().Reauth {
		t.Error("re-authentication asked after a successful refresh")
	}
}

// TestRefusedTokensNeedReauth: REST 401, one refresh, 401 again → the
// account needs a person; no login, no second refresh, the socket closes and
// commands fail without a cloud call.
func TestRefusedTokensNeedReauth(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	dir := t.TempDir()
	r := start(t, passwordConfig(s, "window: 5s"), dir, withPublicURL("http://bridge.invalid"))
	r.waitConnected(t)
	t0 := time.Now()
	s.RefuseTokens(2)
	err := r.a.Refresh(context.Background(), "1000a00001")
	if vendors.Code(err) != vendors.CodeAuth {
		t.Fatalf("want an auth error, got %v", err)
	}
	r.rec.WaitFor(t, 5*time.Second, "re-authentication needed", func() bool { return r.lastStatus().Reauth })
	r.rec.WaitFor(t, 5*time.Second, "the socket closed", func() bool { return s.Streams() == 0 })
	time.Sleep(500 * time.Millisecond) // room for a login loop, if there were one
	var got []string
	for _, q := range restCalls(s.Requests(), t0) {
		got = append(got, fmt.Sprintf("%s=%d", q.Op, q.Status))
	}
	t.Logf("REST calls after the refusal: %v", got)
	want := []string{"GET /v2/device/thing/status=401", "POST /v2/user/refresh=200", "GET /v2/device/thing/status=401"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("calls %v, want %v", got, want)
	}
	n := len(s.Requests())
	if err := r.a.Execute(context.Background(), vendors.Command{DeviceID: "1000a00001", Key: "switch", Value: true}); vendors.Code(err) != vendors.CodeAuth || len(s.Requests()) != n {
		t.Errorf("command while re-auth is needed: %v, %d calls", err, len(s.Requests())-n)
	}
	if st := r.lastStatus(); st.ReauthURL != "http://bridge.invalid/ewelink/test/login" {
		t.Errorf("status %+v", st)
	}
	// A restart remembers it: still waiting for a person, no cloud call.
	r.stop(t)
	n = len(s.Requests())
	r = start(t, passwordConfig(s, "window: 5s"), dir, withPublicURL("http://bridge.invalid"))
	r.rec.WaitFor(t, 5*time.Second, "re-authentication needed after the restart", func() bool { return r.lastStatus().Reauth })
	time.Sleep(200 * time.Millisecond)
	if len(s.Requests()) != n {
		t.Errorf("the restarted adapter called the cloud %d times", len(s.Requests())-n)
	}
}

// TestSharedDevice: a device shared by another account is commanded with
// the owner's apikey and the user's selfApikey (the simulator answers 406
// otherwise), over the socket and over REST.
func TestSharedDevice(t *testing.T) {
	const shared = "1000a00003"
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", shared)})
	r := start(t, passwordConfig(s, "window: 5s", "backoff_min: 1h", "backoff_max: 2h"), t.TempDir())
	r.waitDevices(t, 2)
	r.waitConnected(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.a.Execute(ctx, vendors.Command{DeviceID: shared, Key: "switch_1", Value: true}); err != nil {
		t.Fatalf("shared device over the socket: %v", err)
	}
	if got := jsonText(s.Param(shared, "switches")); !strings.Contains(got, `{"outlet":0,"switch":"on"}`) {
		t.Errorf("the cloud did not switch: %s", got)
	}
	for _, q := range s.Requests() {
		if q.Op == "ws update" && q.Status != 0 {
			t.Errorf("the cloud refused an update: %+v", q)
		}
	}
	s.DropStreams()
	r.rec.WaitFor(t, 5*time.Second, "backoff", func() bool { return r.lastStatus().State == vendors.StateBackoff })
	if err := r.a.Execute(ctx, vendors.Command{DeviceID: shared, Key: "switch_1", Value: false}); err != nil {
		t.Fatalf("shared device over REST: %v", err)
	}
	if n := countOp(s.Requests(), "POST /v2/device/thing/status"); n != 1 {
		t.Errorf("%d REST commands, want 1", n)
	}
}

// TestWebSocket406Twice: the handshake is refused (406), the adapter
// refreshes once and retries after its backoff; refused again, it stops:
// one refresh, no login, two refused userOnline.
func TestWebSocket406Twice(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	r := start(t, passwordConfig(s, "window: 5s"), t.TempDir(), withPublicURL("http://bridge.invalid"))
	r.waitConnected(t)
	before := logins(s.Requests())
	s.RefuseTokens(2)
	s.DropStreams()
	r.rec.WaitFor(t, 10*time.Second, "re-authentication needed", func() bool { return r.lastStatus().Reauth })
	time.Sleep(500 * time.Millisecond)
	reqs := s.Requests()
	refused := 0
	for _, q := range reqs {
		if q.Op == "ws userOnline" && q.Status == 406 {
			refused++
		}
	}
	t.Logf("userOnline=%d (refused %d), refresh=%d, password logins=%d", countOp(reqs, "ws userOnline"), refused,
		countOp(reqs, "POST /v2/user/refresh"), countOp(reqs, "POST /v2/user/login"))
	if refused != 2 || logins(reqs)-before != 1 || countOp(reqs, "POST /v2/user/refresh") != 1 {
		t.Errorf("want 2 refused userOnline and exactly 1 refresh; got %d refused, %d token calls", refused, logins(reqs)-before)
	}
	if countOp(reqs, "POST /v2/user/login") != 1 {
		t.Errorf("the adapter logged in again")
	}
}

// gapsByOp are the arrival gaps between consecutive REST calls of each
// endpoint in the simulator's log.
func gapsByOp(reqs []ewelinksim.Request) (minGap time.Duration, op string) {
	last := map[string]time.Time{}
	minGap = time.Duration(1 << 62)
	for _, q := range restCalls(reqs, time.Time{}) {
		if prev, ok := last[q.Op]; ok && q.Time.Sub(prev) < minGap {
			minGap, op = q.Time.Sub(prev), q.Op
		}
		last[q.Op] = q.Time
	}
	return minGap, op
}

// TestRESTBudgetInSimLog: what the simulator saw arrive keeps the budget.
func TestRESTBudgetInSimLog(t *testing.T) {
	t.Run("endpoint_gap", func(t *testing.T) {
		// Production spacing (500 ms per endpoint); six reads at once.
		s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", "1000a00002")})
		r := start(t, passwordConfig(s, "window: 5s"), t.TempDir())
		r.waitConnected(t)
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.a.Refresh(context.Background(), []string{"1000a00001", "1000a00002"}[i%2]); err != nil {
					t.Errorf("read %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		reqs := s.Requests()
		gap, op := gapsByOp(reqs)
		t.Logf("%d REST calls, %d of GET /v2/device/thing/status; closest pair on one endpoint: %s (%s)",
			len(restCalls(reqs, time.Time{})), countOp(reqs, "GET /v2/device/thing/status"), gap, op)
		if countOp(reqs, "GET /v2/device/thing/status") != 6 || gap < 500*time.Millisecond {
			t.Errorf("calls to one endpoint %s apart (%s), want ≥ 500ms", gap, op)
		}
		if s.Violations() != 0 {
			t.Errorf("violations: %v", s.ViolationLog())
		}
	})
	t.Run("window_and_month", func(t *testing.T) {
		// The window scaled down (4 per 1 s) so it fills several times
		// within the test. The adapter counts a call when it leaves, the
		// simulator when it arrives, and a call that must dial a new
		// connection arrives later than one that reuses it: the simulator
		// checks 4 per 700 ms, which still catches a burst of 5.
		s := newSim(t, ewelinksim.Options{Devices: small("1000a00001"), EndpointGap: -1, WindowCalls: 4, Window: 700 * time.Millisecond})
		r := start(t, passwordConfig(s, "endpoint_gap: 10ms", "window_calls: 4", "window: 1s", "monthly_quota: 1000"), t.TempDir())
		r.waitConnected(t)
		for i := 0; i < 8; i++ {
			if err := r.a.Refresh(context.Background(), "1000a00001"); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
		}
		rest := restCalls(s.Requests(), time.Time{})
		closest := time.Duration(1 << 62)
		for i := 4; i < len(rest); i++ {
			closest = min(closest, rest[i].Time.Sub(rest[i-4].Time))
		}
		counted := 0
		for _, q := range rest {
			if q.Op != "GET /dispatch/app" {
				counted++
			}
		}
		b := r.a.budget.remaining()
		t.Logf("%d REST calls; any 5 consecutive span at least %s; monthly counter %d used, %d remaining (simulator saw %d counted calls)",
			len(rest), closest, b["monthly_calls_used"], b["monthly_calls_remaining"], counted)
		if len(rest) < 12 || closest < 700*time.Millisecond {
			t.Errorf("5 calls within %s; the window allows 4 per second", closest)
		}
		if b["monthly_calls_used"] != int64(counted) || b["monthly_calls_remaining"] != 1000-int64(counted) {
			t.Errorf("monthly counter %v, the simulator saw %d counted calls", b, counted)
		}
		if s.Violations() != 0 {
			t.Errorf("violations: %v", s.ViolationLog())
		}
	})
}

// TestWSSendSpacingInSimLog: a burst of commands (each followed by a query)
// reaches the simulator spaced by the send gap: N frames span at least
// (N-1) × 100 ms on arrival and the simulator's rate rule (at most 11 frames
// in any second) never trips. No REST call is made.
func TestWSSendSpacingInSimLog(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001", "1000a00002")})
	r := start(t, passwordConfig(s), t.TempDir())
	r.waitDevices(t, 2)
	r.waitConnected(t)
	t0 := time.Now()
	keys := []struct {
		id, key string
	}{{"1000a00001", "switch"}, {"1000a00002", "switch_1"}, {"1000a00002", "switch_2"}, {"1000a00002", "switch_3"}, {"1000a00002", "switch_4"}}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[i%len(keys)]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.a.Execute(ctx, vendors.Command{DeviceID: k.id, Key: k.key, Value: i%2 == 0}); err != nil {
				t.Errorf("command %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	// The queries after the commands follow at the low priority.
	r.rec.WaitFor(t, 10*time.Second, "the queries", func() bool { return countOp(s.Requests(), "ws query") >= 10 })
	var frames []time.Time
	for _, q := range s.Requests() {
		if strings.HasPrefix(q.Op, "ws ") && q.Op != "ws connect" && !q.Time.Before(t0) {
			frames = append(frames, q.Time)
		}
	}
	closest := time.Duration(1 << 62)
	for i := 1; i < len(frames); i++ {
		closest = min(closest, frames[i].Sub(frames[i-1]))
	}
	span := frames[len(frames)-1].Sub(frames[0])
	t.Logf("%d frames (%d update, %d query) over %s; closest pair on arrival %s; REST calls %d",
		len(frames), countOp(s.Requests(), "ws update"), countOp(s.Requests(), "ws query"), span.Round(time.Millisecond), closest, len(restCalls(s.Requests(), t0)))
	// Only the first and last arrival times can be late, so the span is
	// checked with 100 ms to spare (a 90 ms spacing would still fail).
	if want := time.Duration(len(frames)-1)*100*time.Millisecond - 100*time.Millisecond; span < want {
		t.Errorf("%d frames arrived within %s, want ≥ %s", len(frames), span, want)
	}
	if s.Violations() != 0 {
		t.Errorf("violations: %v", s.ViolationLog())
	}
	if n := len(restCalls(s.Requests(), t0)); n != 0 {
		t.Errorf("%d REST calls with the socket up", n)
	}
}

// TestOAuthStateSingleUse: the login route redirects to a signed
// authorization URL; the callback's state works once, a replay is refused
// without calling the cloud, and the code is exchanged in the callback's
// region.
func TestOAuthStateSingleUse(t *testing.T) {
	s := newSim(t, ewelinksim.Options{AutoApprove: true, Region: "as", Devices: small("1000a00001")})
	bridge, mount := mountBridge(t)
	a, logs := build(t, oauthConfig(s), t.TempDir(), withPublicURL(bridge.URL))
	mount(a.Routes())
	r := run(t, a, logs)
	r.rec.WaitFor(t, 5*time.Second, "reauth", func() bool { return r.lastStatus().Reauth })
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	hop := func(u string) string {
		t.Helper()
		resp, err := noFollow.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d, want a redirect", u, resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	authorize := hop(bridge.URL + "/ewelink/test/login")
	au, _ := url.Parse(authorize)
	q := au.Query()
	if q.Get("redirectUrl") != bridge.URL+"/ewelink/test/callback" || q.Get("state") == "" || q.Get("grantType") != "authorization_code" {
		t.Fatalf("authorization URL %s", authorize)
	}
	callback := hop(authorize) // the simulator checks the signature
	cu, _ := url.Parse(callback)
	if cu.Query().Get("state") != q.Get("state") || cu.Query().Get("region") != "as" {
		t.Fatalf("callback %s", callback)
	}
	get := func() int {
		resp, err := http.Get(callback)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("callback answered %d", code)
	}
	r.waitConnected(t)
	n := countOp(s.Requests(), "POST /v2/user/oauth/token")
	if code := get(); code != http.StatusBadRequest || countOp(s.Requests(), "POST /v2/user/oauth/token") != n {
		t.Errorf("replayed callback: %d, %d more exchanges", code, countOp(s.Requests(), "POST /v2/user/oauth/token")-n)
	}
	if got := r.lastStatus().Info["region"]; got != "as" || n != 1 {
		t.Errorf("region %q after %d exchanges, want as after 1", got, n)
	}
}

// TestRelistFindsAddedAndRemoved: the periodic relist (relist_interval) and
// the relist after a reconnect both bring added and removed devices into
// the inventory; between them the list is not read.
func TestRelistFindsAddedAndRemoved(t *testing.T) {
	fx := small("1000a00001", "1000a00002", "1000a00005")
	s := newSim(t, ewelinksim.Options{Devices: fx[:2]})
	r := start(t, passwordConfig(s, "window: 5s", "relist_interval: 1s"), t.TempDir())
	r.waitDevices(t, 2)
	r.waitConnected(t)
	has := func(id string) bool { _, ok := r.rec.Devices()[id]; return ok }
	// Periodic relist.
	s.AddDevice(fx[2])
	s.RemoveDevice("1000a00002")
	t0 := time.Now()
	r.rec.WaitFor(t, 10*time.Second, "the periodic relist", func() bool { return has("1000a00005") && !has("1000a00002") })
	lists := countOp(s.Requests(), "GET /v2/family")
	t.Logf("periodic relist caught the change after %s; %d lists so far", time.Since(t0).Round(time.Millisecond), lists)
	// Relist on reconnect, with the timer far away.
	r.stop(t)
	r2 := start(t, passwordConfig(s, "window: 5s"), t.TempDir())
	r2.waitDevices(t, 2)
	r2.waitConnected(t)
	base := countOp(s.Requests(), "GET /v2/family")
	s.AddDevice(fx[1])
	time.Sleep(300 * time.Millisecond)
	if _, ok := r2.rec.Devices()["1000a00002"]; ok || countOp(s.Requests(), "GET /v2/family") != base {
		t.Fatalf("the list was read without a reconnect or the timer")
	}
	s.DropStreams()
	r2.rec.WaitFor(t, 10*time.Second, "the relist after the reconnect", func() bool { _, ok := r2.rec.Devices()["1000a00002"]; return ok })
	if n := countOp(s.Requests(), "GET /v2/family") - base; n != 1 {
		t.Errorf("%d relists for one reconnect", n)
	}
}

// TestHalfDeadSocketReconnects: a socket that stays open but answers
// nothing (no pong) is given up after twice the heartbeat interval, and the
// adapter reconnects once.
func TestHalfDeadSocketReconnects(t *testing.T) {
	s := newSim(t, ewelinksim.Options{HBInterval: 0.3, Devices: small("1000a00001")})
	r := start(t, passwordConfig(s, "window: 5s"), t.TempDir())
	r.waitConnected(t)
	if n := s.MuteStreams(); n != 1 {
		t.Fatalf("%d streams muted", n)
	}
	t0 := time.Now()
	r.rec.WaitFor(t, 10*time.Second, "a second connection", func() bool { return countOp(s.Requests(), "ws userOnline") == 2 && s.Streams() == 1 })
	r.waitConnected(t)
	t.Logf("reconnected %s after the socket went quiet (heartbeat 300ms)", time.Since(t0).Round(time.Millisecond))
	if !strings.Contains(r.logs.String(), "no pong") {
		t.Errorf("the log does not say why the socket was dropped")
	}
	time.Sleep(500 * time.Millisecond)
	if n := countOp(s.Requests(), "ws connect"); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}
