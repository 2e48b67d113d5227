package expeed_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
)

// The cloud's URL verification passes for every signature variant and
// timestamp unit the seed could mean, and the nonce comes back verbatim.
func TestURLVerification(t *testing.T) {
	for _, variant := range []string{"lower", "upper", "raw"} {
		for _, ms := range []bool{false, true} {
			t.Run(variant+"/ms="+strconv.FormatBool(ms), func(t *testing.T) {
				h := newHarness(t, expeedsim.Options{SignatureVariant: variant, TimestampMillis: ms}, "")
				defer h.Close()
				r := mustStart(t, h, h.Config(), buildOpt{})
				r.ready(10 * time.Second)
				if err := h.sim.VerifyURL(context.Background()); err != nil {
					t.Fatal(err)
				}
				r.rec.WaitFor(t, 5*time.Second, "push_url_verified in the status", func() bool {
					return r.lastStatus().Info["push_url_verified"] == "yes"
				})
				noSecrets(t, "logs", r.logs.String(), h.Secrets())
			})
		}
	}
}

// A forged, stale or incomplete verification is refused, and a forgery is logged.
func TestForgedVerificationRefused(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "push_signature_variants: [md5_hex_lower]\n")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	ctx := context.Background()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := "n0nce-abc"

	status, body, err := h.sim.SendVerification(ctx, strings.Repeat("0", 32), nonce, now)
	if err != nil || status != http.StatusForbidden || strings.Contains(body, nonce) {
		t.Fatalf("forged signature: %d %q %v", status, body, err)
	}
	if !strings.Contains(r.logs.String(), "push url verification refused") || !strings.Contains(r.logs.String(), "wrong signature") {
		t.Errorf("the forgery was not logged:\n%s", r.logs.String())
	}
	// Right token, but signed over other parameters.
	if status, _, _ := h.sim.SendVerification(ctx, h.sim.Signature(nonce, now), "other", now); status != http.StatusForbidden {
		t.Errorf("signature for another nonce: %d", status)
	}
	// A correct signature on a stale timestamp.
	old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	if status, _, _ := h.sim.SendVerification(ctx, h.sim.Signature(nonce, old), nonce, old); status != http.StatusForbidden {
		t.Errorf("stale timestamp: %d", status)
	}
	// A variant that is not allowed by the config.
	raw := expeedsim.New(expeedsim.Options{CallbackToken: h.sim.Options().CallbackToken, SignatureVariant: "raw"})
	defer raw.Close()
	if status, _, _ := h.sim.SendVerification(ctx, raw.Signature(nonce, now), nonce, now); status != http.StatusForbidden {
		t.Errorf("raw-digest variant with only md5_hex_lower allowed: %d", status)
	}
	if status, _, _ := h.sim.SendVerification(ctx, "", nonce, now); status != http.StatusBadRequest {
		t.Errorf("missing signature: %d", status)
	}
	// And the genuine one still passes.
	if err := h.sim.VerifyURL(ctx); err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "logs", r.logs.String(), h.Secrets())
}

// Pushes reach the adapter only on the exact secret path.
func TestPushOnWrongPathRefused(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	good := pushURL(h)
	body := `{"msg_type":"2","device_id":"TH0001","data":[{"temp":999}]}`
	base := strings.TrimSuffix(good, "/"+h.sim.Options().PushSecret)
	for _, u := range []string{
		base + "/wrong-secret-0123456789",
		base,
		good + "/extra",
		good[:len(good)-1],
	} {
		if status, _ := post(t, u, body, nil); status != http.StatusNotFound {
			t.Errorf("push to a wrong path got %d, want 404", status)
		}
	}
	// Even where a mux hands the handler a longer path, it answers 404.
	route := r.a.(vendors.Router).Routes()[0]
	rw := httptest.NewRecorder()
	route.Handler.ServeHTTP(rw, httptest.NewRequest(http.MethodPost, route.Path+"/x", strings.NewReader(body)))
	if rw.Code != http.StatusNotFound {
		t.Errorf("handler on a sub-path answered %d", rw.Code)
	}
	if v, _ := r.rec.Value("TH0001", "temp"); v == 99.9 {
		t.Fatal("a push on a wrong path changed the state")
	}
	if status, _ := post(t, good, body, nil); status != http.StatusOK {
		t.Fatalf("push on the right path: %d", status)
	}
	r.rec.WaitValue(t, 5*time.Second, "TH0001", "temp", 99.9)
	if strings.Contains(r.logs.String(), h.sim.Options().PushSecret) {
		t.Error("the push path secret was logged")
	}
}

// push_allowed_networks refuses other sources; X-Forwarded-For counts only
// from a trusted proxy.
func TestPushSourceNetworks(t *testing.T) {
	body := `{"msg_type":"2","device_id":"TH0001","data":[{"temp":321}]}`
	t.Run("loopback not allowed", func(t *testing.T) {
		h := newHarness(t, expeedsim.Options{}, "push_allowed_networks: [10.0.0.0/8]\n")
		defer h.Close()
		r := mustStart(t, h, h.Config(), buildOpt{})
		r.ready(10 * time.Second)
		if status, _ := post(t, pushURL(h), body, map[string]string{"X-Forwarded-For": "10.1.2.3"}); status != http.StatusForbidden {
			t.Fatalf("push from 127.0.0.1 got %d, want 403", status)
		}
		if status, _, _ := h.sim.SendVerification(context.Background(), "x", "y", "1"); status != http.StatusForbidden {
			t.Errorf("verification from a disallowed address: %d", status)
		}
		if !strings.Contains(r.logs.String(), "outside push_allowed_networks") {
			t.Error("the refusal was not logged")
		}
		if v, _ := r.rec.Value("TH0001", "temp"); v == 32.1 {
			t.Fatal("a refused push changed the state")
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		h := newHarness(t, expeedsim.Options{}, "push_allowed_networks: [203.0.113.0/24]\npush_trusted_proxies: [127.0.0.1]\n")
		defer h.Close()
		r := mustStart(t, h, h.Config(), buildOpt{})
		r.ready(10 * time.Second)
		if status, _ := post(t, pushURL(h), body, map[string]string{"X-Forwarded-For": "198.51.100.9"}); status != http.StatusForbidden {
			t.Errorf("forwarded for a disallowed address: %d", status)
		}
		if status, _ := post(t, pushURL(h), body, map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.9"}); status != http.StatusForbidden {
			t.Errorf("nearest hop disallowed: %d", status)
		}
		if status, _ := post(t, pushURL(h), body, map[string]string{"X-Forwarded-For": "198.51.100.9, 203.0.113.9"}); status != http.StatusOK {
			t.Errorf("nearest hop allowed: %d", status)
		}
		r.rec.WaitValue(t, 5*time.Second, "TH0001", "temp", 32.1)
	})
}

// Malformed pushes get 400 with a reason and change nothing.
func TestMalformedPushesRefused(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	before, _ := r.rec.Value("TH0001", "temp")
	cases := []struct{ body, reason string }{
		{``, "empty body"},
		{`not json at all`, "neither JSON nor form"},
		{`{"msg_type":`, "not valid JSON"},
		{`{"device_id":"TH0001"}`, "msg_type missing"},
		{`{"msg_type":"two","device_id":"TH0001"}`, "msg_type is not a number"},
		{`{"msg_type":"1","device_id":"TH0001"}`, "device_status missing"},
		{`{"msg_type":"1","device_id":"TH0001","device_status":7}`, "device_status is not 0 or 1"},
		{`{"msg_type":"1","device_status":0}`, "device_id missing"},
		{`{"msg_type":"2","device_id":"TH0001","data":"x"}`, "data is not an array"},
		{`{"msg_type":"2","device_id":"TH0001"}`, "data missing"},
		{`{"msg_type":"2","device_id":"TH0001","data":[{"timestamp":"2030-01-01T00-00-00-000","temp":777},5]}`, "data[1]"},
		{`{"msg_type":"2","device_id":{"a":1},"data":[]}`, "device_id is not a string"},
		{`{"msg_type":3,"device_id":"TH0001","set_result":0}`, "message_id missing"},
		{`{"msg_type":3,"message_id":"m-1","set_result":"maybe"}`, "set_result is not 0 or 1"},
	}
	for _, c := range cases {
		status, body := post(t, pushURL(h), c.body, nil)
		if status != http.StatusBadRequest || !strings.Contains(body, c.reason) {
			t.Errorf("%q: got %d %s, want 400 with %q", c.body, status, body, c.reason)
		}
	}
	big := `{"msg_type":"2","device_id":"TH0001","data":[{"x":"` + strings.Repeat("a", 2<<20) + `"}]}`
	if status, _ := post(t, pushURL(h), big, nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB push: %d", status)
	}
	if status, _ := post(t, pushURL(h), `{"msg_type":"2","device_id":"TH0001","device_key":"not-the-key","data":[{"temp":555}]}`, nil); status != http.StatusForbidden {
		t.Errorf("push with a wrong device_key: %d", status)
	}
	time.Sleep(50 * time.Millisecond)
	if v, _ := r.rec.Value("TH0001", "temp"); v != before {
		t.Fatalf("temp changed from %v to %v by refused pushes", before, v)
	}
	noSecrets(t, "logs", r.logs.String(), h.Secrets())
}

// Loose but valid pushes are taken: numeric or padded msg_type, unknown
// fields, form encoding, a bare sample object; unknown msg_types are acked.
func TestTolerantPushes(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	cases := []struct {
		body, ctype string
		want        float64
	}{
		{`{"msg_type":2,"device_id":"TH0001","extra":{"x":[1]},"data":[{"timestamp":" 2030-01-01T00-00-01-000","temp":201,"new_field":"x"}]}`, "application/json", 20.1},
		{`{"msg_type":" 2 ","device_id":"TH0001","data":{"timestamp":"2030-01-01T00-00-02-000","temp":"202"}}`, "text/plain", 20.2},
		{`msg_type=2&device_id=TH0001&data=` + `%5B%7B%22timestamp%22%3A%222030-01-01T00-00-03-000%22%2C%22temp%22%3A203%7D%5D`, "application/x-www-form-urlencoded", 20.3},
	}
	for _, c := range cases {
		status, body := post(t, pushURL(h), c.body, map[string]string{"Content-Type": c.ctype})
		if status != http.StatusOK || !strings.Contains(body, `"result_code":0`) || !strings.Contains(body, `"result_msg":"ok"`) {
			t.Fatalf("%q: %d %s", c.body, status, body)
		}
		r.rec.WaitValue(t, 5*time.Second, "TH0001", "temp", c.want)
	}
	if status, _ := post(t, pushURL(h), `{"msg_type":"9","anything":true}`, nil); status != http.StatusOK {
		t.Errorf("unknown msg_type: %d", status)
	}
}

// Several sparse samples in one push apply in time order whatever their
// order in the body; a sample older than the state is ignored.
func TestDataPushOrderedAndSparse(t *testing.T) {
	h := newHarness(t, expeedsim.Options{}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	t0 := time.Now().Add(time.Minute)
	h.sim.PushSamples("TH0001", []expeedsim.Sample{
		{At: t0.Add(2 * time.Second), Values: map[string]float64{"temp": 250}},
		{At: t0.Add(1 * time.Second), Values: map[string]float64{"temp": 240, "switch": 0}},
		{At: t0.Add(3 * time.Second), Values: map[string]float64{"settemp": 260}},
	})
	r.rec.WaitValue(t, 5*time.Second, "TH0001", "settemp", 26.0)
	if v, _ := r.rec.Value("TH0001", "temp"); v != 25.0 {
		t.Fatalf("temp %v, want the newest sample's 25.0", v)
	}
	if v, _ := r.rec.Value("TH0001", "switch"); v != vendors.Off {
		t.Fatalf("switch %v, want OFF from the sparse sample", v)
	}
	h.sim.PushSamples("TH0001", []expeedsim.Sample{
		{At: t0.Add(1500 * time.Millisecond), Values: map[string]float64{"temp": 100}},
		{At: t0.Add(4 * time.Second), Values: map[string]float64{"switch": 1}},
	})
	r.rec.WaitValue(t, 5*time.Second, "TH0001", "switch", vendors.On)
	if v, _ := r.rec.Value("TH0001", "temp"); v != 25.0 {
		t.Fatalf("an older sample overwrote temp: %v", v)
	}
}

// The seed's loose typing: msg_type as a number everywhere, and numbers as
// strings in answers and pushes.
func TestLooseWireTypes(t *testing.T) {
	h := newHarness(t, expeedsim.Options{NumericMsgType: true, LooseTypes: true}, "")
	defer h.Close()
	r := mustStart(t, h, h.Config(), buildOpt{})
	r.ready(10 * time.Second)
	c := h.Change(t)
	r.rec.WaitValue(t, 5*time.Second, c.DeviceID, c.Key, c.Want)
	if err := r.exec(vendors.Command{DeviceID: "TH0001", Key: "settemp", Value: 30.0}); err != nil {
		t.Fatal(err)
	}
	if v, _ := h.sim.Value("TH0001", "settemp"); v != 300 {
		t.Fatalf("settemp raw %v, want 300", v)
	}
	h.sim.SetOnline("AQ0001", false)
	r.rec.WaitFor(t, 5*time.Second, "AQ0001 off line", func() bool {
		on, known := r.rec.Online("AQ0001")
		return known && !on
	})
}
