package ezviz_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

func logins(reqs []ezvizsim.Request) int {
	n := 0
	for _, q := range reqs {
		if q.Login {
			n++
		}
	}
	return n
}

// TestTokenAreaAndPersistence: business calls go to the areaDomain, the
// token is stored (0600) and reused after a restart without a login.
func TestTokenAreaAndPersistence(t *testing.T) {
	t.Parallel()
	sim := newSim(t, ezvizsim.Options{})
	dir := t.TempDir()
	r := startRig(t, sim, rigOpt{storeDir: dir})
	r.inventory()
	r.stop()
	for _, q := range sim.Requests() {
		if !q.Login && q.Host != "area" {
			t.Errorf("%s went to the %s host, not the areaDomain", q.Op, q.Host)
		}
	}
	if n := logins(sim.Requests()); n != 1 {
		t.Errorf("%d logins, want 1", n)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*tokens*.json"))
	if len(files) != 1 {
		t.Fatalf("token files %v", files)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(files[0])
	if strings.Contains(string(b), sim.AppSecret()) || strings.Contains(string(b), sim.AppKey()) {
		t.Error("the store holds the app key or secret")
	}
	again := startRig(t, sim, rigOpt{storeDir: dir})
	again.inventory()
	if n := logins(sim.Requests()); n != 1 {
		t.Errorf("restart logged in again: %d logins", n)
	}
}

// TestTokenRefreshBeforeExpiry: a token is replaced before it runs out
// (12 h, or half its lifetime when shorter), once.
func TestTokenRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	sim := newSim(t, ezvizsim.Options{TokenTTL: 14 * time.Hour})
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	r := startRig(t, sim, rigOpt{now: now})
	r.inventory()
	if n := logins(sim.Requests()); n != 1 {
		t.Fatalf("%d logins", n)
	}
	skew.Store(int64(8 * time.Hour)) // 6 h left of 14: under half the lifetime
	r.rec.WaitFor(t, 5*time.Second, "a second login", func() bool { return logins(sim.Requests()) == 2 })
	time.Sleep(500 * time.Millisecond)
	if n := logins(sim.Requests()); n != 2 {
		t.Errorf("%d logins after the refresh, want 2", n)
	}
}

// TestNoAreaDomain: the Chinese platform answers without areaDomain; calls
// then go to the token host.
func TestNoAreaDomain(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{sim: ezvizsim.Options{NoAreaDomain: true}})
	if len(r.inventory()) != 7 {
		t.Errorf("inventory size %d", len(r.rec.Devices()))
	}
}

// TestRefusedFreshTokenNoLoop: when even a fresh token gets 10002, the
// adapter does not log in again and again.
func TestRefusedFreshTokenNoLoop(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{config: map[string]string{"backoff_min": "2s", "backoff_max": "4s"}})
	r.inventory()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				r.sim.ExpireTokens()
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	if n := logins(r.sim.Requests()); n > 3 {
		t.Errorf("%d logins in 1.5 s while every token is refused", n)
	}
}

// TestBadCredentialsPermanent: refused credentials stop Run with a
// permanent AUTH error and an error status, after one login.
func TestBadCredentialsPermanent(t *testing.T) {
	t.Parallel()
	sim := newSim(t, ezvizsim.Options{})
	r := startRig(t, sim, rigOpt{config: map[string]string{"app_secret": "not-the-secret"}})
	select {
	case err := <-r.done:
		r.cancel = nil
		if !vendors.IsPermanent(err) || vendors.Code(err) != vendors.CodeAuth {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run kept going")
	}
	if n := logins(sim.Requests()); n != 1 {
		t.Errorf("%d logins", n)
	}
	st := r.rec.Statuses()
	if last := st[len(st)-1]; last.State != vendors.StateError || !strings.Contains(last.LastError, "app key and app secret do not match") {
		t.Errorf("last status %+v", last)
	}
}

// TestStoredTokenOfOtherApp: a stored token of another app key is ignored.
func TestStoredTokenOfOtherApp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := map[string]any{"for": "0000000000000000", "app": map[string]any{"token": "at.old", "expire_ms": time.Now().Add(48 * time.Hour).UnixMilli()}}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, "tokens.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOpt{storeDir: dir})
	r.inventory()
	if n := logins(r.sim.Requests()); n != 1 {
		t.Errorf("%d logins, want 1 (the foreign token is not used)", n)
	}
}
