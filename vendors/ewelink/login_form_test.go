package ewelink

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
)

// TestPasswordLoginFormNeedsItsToken: the password-mode login page logs in
// only from a form it served; a bare POST (another site's page) makes no
// cloud call.
func TestPasswordLoginFormNeedsItsToken(t *testing.T) {
	s := newSim(t, ewelinksim.Options{Devices: small("1000a00001")})
	a, _ := build(t, passwordConfig(s), t.TempDir(), withPublicURL("http://bridge.invalid"))
	var login http.Handler
	for _, rt := range a.Routes() {
		if strings.HasSuffix(rt.Path, "/login") {
			login = rt.Handler
		}
	}
	if login == nil {
		t.Fatal("no login route")
	}
	post := func(form url.Values) int {
		req := httptest.NewRequest(http.MethodPost, "/ewelink/test/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		login.ServeHTTP(w, req)
		return w.Code
	}

	for _, form := range []url.Values{{}, {"state": {"forged"}}} {
		if code := post(form); code != http.StatusForbidden {
			t.Errorf("POST %v: %d, want 403", form, code)
		}
	}
	if n := countOp(s.Requests(), "POST /v2/user/login"); n != 0 {
		t.Fatalf("%d cloud logins from forged forms", n)
	}

	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ewelink/test/login", nil))
	m := regexp.MustCompile(`name="state" value="([0-9a-f]+)"`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("the login page has no form token:\n%s", w.Body.String())
	}
	if code := post(url.Values{"state": {m[1]}}); code != http.StatusOK {
		t.Errorf("POST with the page's token: %d, want 200", code)
	}
	if n := countOp(s.Requests(), "POST /v2/user/login"); n != 1 {
		t.Errorf("%d cloud logins, want 1", n)
	}
	if code := post(url.Values{"state": {m[1]}}); code != http.StatusForbidden {
		t.Errorf("the same form twice: %d, want 403", code)
	}
}
