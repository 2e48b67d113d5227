package expeed_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
)

// Ten bridge restarts in a row over one state directory cost one token call
// in all: the cached token is reused.
func TestTenRestartsCostNoExtraTokenCalls(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	dir := t.TempDir()
	for i := 0; i < 10; i++ {
		r := mustStart(t, h, h.Config(), buildOpt{dir: dir})
		r.ready(10 * time.Second)
		if err := r.stop(); err != context.Canceled {
			t.Fatalf("restart %d: Run returned %v", i, err)
		}
	}
	if n := h.sim.TokenCalls(); n != 1 {
		t.Fatalf("ten starts made %d token calls, want 1", n)
	}
	if n := countOps(h.sim.Requests(), "currentDatapoints"); n != 30 {
		t.Errorf("ten starts of three devices read current datapoints %d times, want 30", n)
	}
	// The cache is a 0600 file that holds the token, not the secret_key.
	files, _ := filepath.Glob(filepath.Join(dir, "*token*.json"))
	if len(files) != 2 {
		t.Fatalf("state files %v, want the token and its counter", files)
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(f), st.Mode().Perm())
		}
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), h.sim.Options().SecretKey) {
			t.Errorf("%s holds the secret_key", filepath.Base(f))
		}
	}
}

// A token is replaced shortly before it expires, without a refused call.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	clk := &clock{t: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
	h := newHarness(t, expeedsim.Options{Now: clk.Now}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{now: clk.Now})
	r.ready(10 * time.Second)
	if err := r.a.(vendors.Refresher).Refresh(context.Background(), "TH0001"); err != nil {
		t.Fatal(err)
	}
	if n := h.sim.TokenCalls(); n != 1 {
		t.Fatalf("%d token calls, want 1", n)
	}
	if exp := r.metrics.expiry; !exp.Equal(clk.Now().Add(7200 * time.Second)) {
		t.Errorf("token expiry metric %v", exp)
	}
	clk.Add(7200*time.Second - 13*time.Minute) // 13 minutes left: still used
	if err := r.a.(vendors.Refresher).Refresh(context.Background(), "TH0001"); err != nil {
		t.Fatal(err)
	}
	if n := h.sim.TokenCalls(); n != 1 {
		t.Fatalf("token renewed with 13 of 120 minutes left")
	}
	clk.Add(2 * time.Minute) // 11 minutes left: under 10 %, renewed first
	if err := r.a.(vendors.Refresher).Refresh(context.Background(), "TH0001"); err != nil {
		t.Fatal(err)
	}
	if n := h.sim.TokenCalls(); n != 2 {
		t.Fatalf("%d token calls, want a renewal before expiry", n)
	}
	for _, q := range h.sim.Requests() {
		if q.Code == 1 {
			t.Errorf("%s was refused for an expired token", q.Op)
		}
	}
}

// A refused token (result_code 1) costs one new token, not a loop: when the
// new one is refused too (here: the cloud wants auth in the query string),
// the call fails with AUTH_REQUIRED and later calls do not refresh again.
func TestRefusedTokenRefreshesOnceNotInALoop(t *testing.T) {
	h := newHarness(t, expeedsim.Options{AuthStyle: "query"}, "")
	defer h.Close()
	config := strings.Replace(h.Config(), "auth_style: query\n", "", 1)
	r, err := build(t, h, config, buildOpt{})
	if err != nil {
		t.Fatal(err)
	}
	ref := r.a.(vendors.Refresher)
	for i := 0; i < 5; i++ {
		err := ref.Refresh(context.Background(), "TH0001")
		if vendors.Code(err) != vendors.CodeAuth {
			t.Fatalf("refresh %d: got %v, want AUTH_REQUIRED", i, err)
		}
		if !strings.Contains(err.Error(), "auth_style") {
			t.Errorf("error gives no hint: %v", err)
		}
	}
	if n := h.sim.TokenCalls(); n != 2 {
		t.Fatalf("%d token calls for five refused refreshes, want 2 (the first and one retry)", n)
	}
}

// Every auth_style the seed could mean works against a cloud that reads it.
func TestAuthStyles(t *testing.T) {
	for _, style := range []string{"headers", "single_header", "query"} {
		t.Run(style, func(t *testing.T) {
			h := newHarness(t, expeedsim.Options{AuthStyle: style}, "")
			defer h.Close()
			r := mustStart(t, h, h.Config(), buildOpt{})
			r.ready(10 * time.Second)
			if err := r.exec(vendors.Command{DeviceID: "PL0001", Key: "switch", Value: false}); err != nil {
				t.Fatal(err)
			}
			if v, _ := h.sim.Value("PL0001", "switch"); v != 0 {
				t.Fatalf("plug switch %v after OFF", v)
			}
		})
	}
}

// The per-day budget is persisted, refuses to go over, reports backoff with
// the remaining budget, and opens again the next (China-time) day.
func TestTokenBudget(t *testing.T) {
	// 23:00 in China on 1 May.
	clk := &clock{t: time.Date(2024, 5, 1, 15, 0, 0, 0, time.UTC)}
	h := newHarness(t, expeedsim.Options{Now: clk.Now}, "token_budget: 2\n")
	defer h.Close()
	dir := t.TempDir()
	r := mustStart(t, h, h.Config(), buildOpt{dir: dir, now: clk.Now})
	r.ready(10 * time.Second)
	ref := r.a.(vendors.Refresher)
	if v, ok := r.metrics.get("token_calls_left"); !ok || v != 1 {
		t.Fatalf("budget metric %v %v, want 1 left", v, ok)
	}
	h.sim.ExpireTokens()
	if err := ref.Refresh(context.Background(), "TH0001"); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute) // a refused token younger than a minute is not replaced
	h.sim.ExpireTokens()
	err := ref.Refresh(context.Background(), "TH0001")
	if vendors.Code(err) != vendors.CodeRateLimited || !strings.Contains(err.Error(), "budget exhausted") {
		t.Fatalf("got %v, want the budget error", err)
	}
	if n := h.sim.TokenCalls(); n != 2 {
		t.Fatalf("%d token calls with a budget of 2", n)
	}
	r.rec.WaitFor(t, 5*time.Second, "a backoff status with no budget left", func() bool {
		st := r.lastStatus()
		return st.State == vendors.StateBackoff && st.Budget["token_calls_left"] == 0 && strings.Contains(st.LastError, "budget")
	})
	if v, _ := r.metrics.get("token_calls_left"); v != 0 {
		t.Errorf("budget metric %v, want 0", v)
	}
	before := len(h.sim.Requests())
	err = r.exec(vendors.Command{DeviceID: "PL0001", Key: "switch", Value: false})
	if vendors.Code(err) != vendors.CodeRateLimited {
		t.Fatalf("command with the budget spent: %v", err)
	}
	if n := countOps(h.sim.Requests()[before:], "token"); n != 0 {
		t.Fatalf("%d token calls over the budget", n)
	}
	r.stop()

	// A restart does not reset the counter.
	r2 := mustStart(t, h, h.Config(), buildOpt{dir: dir, now: clk.Now})
	r2.rec.WaitFor(t, 5*time.Second, "backoff after restart", func() bool {
		return r2.lastStatus().State == vendors.StateBackoff
	})
	if n := h.sim.TokenCalls(); n != 2 {
		t.Fatalf("a restart spent the budget again: %d token calls", n)
	}
	r2.stop()

	// Past midnight China time the budget is back.
	clk.Add(time.Hour + time.Minute)
	r3 := mustStart(t, h, h.Config(), buildOpt{dir: dir, now: clk.Now})
	r3.ready(10 * time.Second)
	r3.connected(5 * time.Second)
	if n := h.sim.TokenCalls(); n != 3 {
		t.Fatalf("%d token calls after midnight, want 3", n)
	}
	if st := r3.lastStatus(); st.State != vendors.StateConnected || st.Budget["token_calls_left"] != 1 {
		t.Errorf("status %+v", st)
	}
	if h.sim.Violations() != 0 {
		t.Errorf("%d violations", h.sim.Violations())
	}
}

// Refused credentials end Run with a permanent error after one token call.
func TestBadCredentialsArePermanent(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	r := mustStart(t, h, h.BadConfig(), buildOpt{})
	select {
	case err := <-r.done:
		r.cancel = nil
		if !vendors.IsPermanent(err) || vendors.Code(err) != vendors.CodeAuth {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going with refused credentials")
	}
	if n := h.sim.TokenCalls(); n != 1 {
		t.Errorf("%d token calls", n)
	}
	if st := r.lastStatus(); st.State != vendors.StateError {
		t.Errorf("status %+v", st)
	}
	noSecrets(t, "logs", r.logs.String(), h.Secrets())
}
