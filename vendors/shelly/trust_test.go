package shelly

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
)

func mustKey(t *testing.T, pemText string) *ecdsa.PublicKey {
	t.Helper()
	k, err := parseP384(pemText)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerifyTrust(t *testing.T) {
	sim := newSim(t, shellysim.Options{Tag: "ITG_X"})
	pub := mustKey(t, sim.PublicKeyPEM())
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	now := time.Now()
	exp := now.Add(2 * time.Minute).Unix()
	const dev = "b48a0a1cd978"
	enc := base64.RawURLEncoding
	good := sim.SignTrust(map[string]any{"exp": exp, "itg": "ITG_X", "did": dev})
	parts := strings.Split(good, ".")
	cases := map[string]string{
		"other key":      shellysim.SignES384(other, map[string]any{"exp": exp, "itg": "ITG_X", "did": dev}),
		"expired":        sim.SignTrust(map[string]any{"exp": now.Add(-time.Minute).Unix(), "itg": "ITG_X", "did": dev}),
		"no exp":         sim.SignTrust(map[string]any{"itg": "ITG_X", "did": dev}),
		"other tag":      sim.SignTrust(map[string]any{"exp": exp, "itg": "ITG_Y", "did": dev}),
		"other device":   sim.SignTrust(map[string]any{"exp": exp, "itg": "ITG_X", "did": "b48a0a1cd979"}),
		"not yet valid":  sim.SignTrust(map[string]any{"exp": exp, "nbf": now.Add(time.Minute).Unix(), "itg": "ITG_X", "did": dev}),
		"alg none":       enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		"alg HS384":      enc.EncodeToString([]byte(`{"alg":"HS384"}`)) + "." + parts[1] + "." + parts[2],
		"payload edited": parts[0] + "." + enc.EncodeToString([]byte(`{"exp":9999999999,"itg":"ITG_X","did":"`+dev+`"}`)) + "." + parts[2],
		"empty":          "",
		"garbage":        "a.b.c",
		"two parts":      parts[0] + "." + parts[1],
	}
	if err := verifyTrust(good, pub, "ITG_X", dev, now); err != nil {
		t.Fatalf("a valid SCL-Trust was refused: %v", err)
	}
	if err := verifyTrust("Bearer "+good, pub, "ITG_X", strings.ToUpper(dev), now); err != nil {
		t.Errorf("Bearer prefix / upper-case id refused: %v", err)
	}
	if err := verifyTrust(good, pub, "ITG_X", dev, now.Add(2*time.Minute+20*time.Second)); err != nil {
		t.Errorf("30 s of exp leeway not granted: %v", err)
	}
	for name, tok := range cases {
		if err := verifyTrust(tok, pub, "ITG_X", dev, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Shelly's own key does not accept the simulator's test key.
	if err := verifyTrust(good, mustKey(t, shellyPublicKey), "ITG_X", dev, now); err == nil {
		t.Error("the test key is accepted without being configured")
	}
}

func TestConsentCallbackRejectsAndChangesNothing(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	dev := r.sim.Devices()[0]
	body := r.sim.ConsentBody(dev.ID, "add")
	post := func(tok string, b []byte) int {
		req := httptest.NewRequest(http.MethodPost, r.routes[0].Path, strings.NewReader(string(b)))
		if tok != "" {
			req.Header.Set("SCL-Trust", tok)
		}
		w := httptest.NewRecorder()
		r.routes[0].Handler.ServeHTTP(w, req)
		return w.Code
	}
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	exp := time.Now().Add(time.Minute).Unix()
	for name, c := range map[string]struct {
		tok  string
		body []byte
	}{
		"forged":       {shellysim.SignES384(other, map[string]any{"exp": exp, "itg": r.sim.Tag(), "did": dev.ID}), body},
		"expired":      {r.sim.TrustToken(dev.ID, time.Now().Add(-time.Hour)), body},
		"missing":      {"", body},
		"other device": {r.sim.TrustToken(r.sim.Devices()[1].ID, time.Now().Add(time.Minute)), body},
		"bad body":     {r.sim.TrustToken(dev.ID, time.Now().Add(time.Minute)), []byte(`{"deviceId":`)},
		"bad action":   {r.sim.TrustToken(dev.ID, time.Now().Add(time.Minute)), []byte(strings.Replace(string(body), `"add"`, `"grant"`, 1))},
	} {
		if code := post(c.tok, c.body); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, code)
		}
	}
	grants, _ := r.adapter.(*integrator).grants.all()
	if len(grants) != 0 {
		t.Fatalf("rejected callbacks stored grants: %v", grants)
	}
	req := httptest.NewRequest(http.MethodGet, r.routes[0].Path, nil)
	w := httptest.NewRecorder()
	r.routes[0].Handler.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d", w.Code)
	}
	if strings.Contains(r.logs.String(), "eyJ") {
		t.Error("a token reached the log")
	}
}

func TestConsentCallbackStoresGrantsAndRemoves(t *testing.T) {
	r := newItgRig(t, shellysim.Options{})
	r.consent("add")
	r.consent("add") // the same grants again: harmless
	a := r.adapter.(*integrator)
	grants, _ := a.grants.all()
	if len(grants) != 6 {
		t.Fatalf("%d grants stored, want 6", len(grants))
	}
	plug := r.deviceByCode("SHPLG-S")
	g := grants[plug.ID]
	if g.Host != plug.Host || g.Access != "01" || g.Code != "SHPLG-S" || len(g.Names) != 1 {
		t.Errorf("grant %+v", g)
	}
	// The grants survive in the state directory (written atomically by the store).
	again := &grantStore{store: a.env.Store}
	if stored, _ := again.all(); len(stored) != 6 {
		t.Errorf("%d grants on disk", len(stored))
	}
	r.start()
	r.waitDevices(6)
	if st := r.rec.Statuses(); len(st) == 0 || !strings.Contains(st[len(st)-1].Info["consent_url"], "itg=ITG_SIM&cb=") {
		t.Errorf("status lacks the consent URL: %+v", st)
	}
	if !strings.Contains(r.logs.String(), "integrator.html?itg=ITG_SIM") {
		t.Error("the consent URL is not logged at start")
	}
	r.consent("remove", plug.ID)
	r.rec.WaitFor(t, 5*time.Second, "the device to leave the inventory", func() bool {
		_, ok := r.rec.Devices()[plug.ID]
		return !ok && len(r.rec.Devices()) == 5
	})
	if grants, _ := (&grantStore{store: a.env.Store}).all(); len(grants) != 5 {
		t.Errorf("%d grants stored after a remove", len(grants))
	}
}
