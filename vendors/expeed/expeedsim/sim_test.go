package expeedsim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type answer map[string]any

func get(t *testing.T, s *Server, path string, q url.Values, token, key string) answer {
	t.Helper()
	u := s.URL() + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header["access_token"] = []string{token}
		req.Header["device_key"] = []string{key}
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("%s: http %d, not JSON: %v", req.URL.Path, resp.StatusCode, err)
	}
	return a
}

func code(a answer) int { return int(a["result_code"].(float64)) }

func login(t *testing.T, s *Server) string {
	t.Helper()
	o := s.Options()
	a := get(t, s, "/platform/token", url.Values{"platform_key": {o.PlatformKey}, "secret_key": {o.SecretKey}}, "", "")
	if code(a) != 0 || a["expires_in"].(float64) != 7200 {
		t.Fatalf("token: %v", a)
	}
	return a["access_token"].(string)
}

func TestTokenQuotaAndExpiry(t *testing.T) {
	now := time.Date(2024, 5, 1, 15, 0, 0, 0, time.UTC) // 23:00 China time
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := New(Options{DailyTokenQuota: 3, Now: clock})
	defer s.Close()
	o := s.Options()
	if a := get(t, s, "/platform/token", url.Values{"platform_key": {o.PlatformKey}, "secret_key": {"wrong"}}, "", ""); code(a) != 1 {
		t.Fatalf("wrong secret: %v", a)
	}
	tok := login(t, s)
	login(t, s)
	if a := get(t, s, "/platform/token", url.Values{"platform_key": {o.PlatformKey}, "secret_key": {o.SecretKey}}, "", ""); code(a) != codeQuota {
		t.Fatalf("fourth call of three: %v", a)
	}
	if s.Violations() != 1 || s.TokenCalls() != 4 {
		t.Fatalf("violations %d calls %d", s.Violations(), s.TokenCalls())
	}
	key := s.DeviceKeys()[0]
	if a := get(t, s, "/devices/device_status/TH0001", nil, tok, key); code(a) != 0 || a["device_status"].(float64) != 1 {
		t.Fatalf("status: %v", a)
	}
	mu.Lock()
	now = now.Add(7200 * time.Second)
	mu.Unlock()
	if a := get(t, s, "/devices/device_status/TH0001", nil, tok, key); code(a) != 1 {
		t.Fatalf("expired token: %v", a)
	}
	login(t, s) // a new China-time day: the quota is back
	reqs := s.Requests()
	if !reqs[0].Login || reqs[len(reqs)-2].Login {
		t.Error("login flags wrong")
	}
}

func TestDeviceCallCodes(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	tok := login(t, s)
	key := s.DeviceKeys()[0]
	if a := get(t, s, "/devices/device_status/NOPE", nil, tok, key); code(a) != 2 {
		t.Errorf("unknown device: %v", a)
	}
	if a := get(t, s, "/devices/device_status/TH0001", nil, tok, "wrong"); code(a) != 3 {
		t.Errorf("wrong device_key: %v", a)
	}
	if a := get(t, s, "/devices/TH0001/currentDatapoints", nil, tok, key); code(a) != 4 {
		t.Errorf("no id: %v", a)
	}
	a := get(t, s, "/devices/TH0001/currentDatapoints", url.Values{"id": {"temp,switch"}}, tok, key)
	data := a["data"].(map[string]any)
	if code(a) != 0 || data["temp"].(float64) != 215 || len(data) != 3 || !strings.Contains(data["timestamp"].(string), "T") {
		t.Errorf("current: %v", a)
	}
	s.FailNext(503, 1)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/devices/device_status/TH0001", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 503 {
		t.Errorf("injected failure: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	s.ThrottleNext(time.Second, 1)
	for i := 0; i < 2; i++ {
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("throttled: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	if s.Violations() != 1 {
		t.Errorf("a call inside the Retry-After is a violation: %d", s.Violations())
	}
}

func TestHistoryPaging(t *testing.T) {
	s := New(Options{HistorySeed: 120})
	defer s.Close()
	tok := login(t, s)
	key := s.DeviceKeys()[0]
	q := url.Values{"limit": {"50"}, "first": {"1"}}
	var all []string
	for page := 0; page < 5; page++ {
		a := get(t, s, "/devices/TH0001/datapoints", q, tok, key)
		if code(a) != 0 {
			t.Fatalf("page %d: %v", page, a)
		}
		for _, r := range a["data"].([]any) {
			all = append(all, r.(map[string]any)["timestamp"].(string))
		}
		c, more := a["cursor"]
		if !more {
			break
		}
		q.Set("cursor", jsonNum(c))
	}
	if len(all) != 120 {
		t.Fatalf("%d records over the pages, want 120", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("record %d out of order or repeated: %s after %s", i, all[i], all[i-1])
		}
	}
	for _, bad := range []url.Values{{"start": {"2024-01-01T00-00-00-000"}}, {"limit": {"0"}}, {"limit": {"6001"}}, {"first": {"2"}}, {"cursor": {"x"}},
		{"start": {"yesterday"}, "end": {"2024-01-01T00-00-00-000"}}} {
		if a := get(t, s, "/devices/TH0001/datapoints", bad, tok, key); code(a) != 3 {
			t.Errorf("%v: %v", bad, a)
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A setting is answered at once and its outcome pushed later, after the
// data upload with the new values.
func TestSettingPushesItsResult(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"result_code":0,"result_message":"ok"}`))
	}))
	defer bridge.Close()
	s := New(Options{})
	defer s.Close()
	s.SetBridgeURL(bridge.URL)
	tok := login(t, s)
	key := s.DeviceKeys()[0]
	post := func(body string) answer {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/devices/TH0001/device_setting", strings.NewReader(body))
		req.Header["access_token"] = []string{tok}
		req.Header["device_key"] = []string{key}
		return do(t, req)
	}
	for _, bad := range []string{`{"temp":200}`, `{"settemp":10}`, `{"nope":1}`, `{}`, `[1]`, `{"data":{"settemp":200}}`} {
		if a := post(bad); code(a) != 5 {
			t.Errorf("%s: %v", bad, a)
		}
	}
	a := post(`{"settemp":250}`)
	id, _ := a["message_id"].(string)
	if code(a) != 0 || id == "" {
		t.Fatalf("setting: %v", a)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || !strings.Contains(bodies[0], `"msg_type":"2"`) || !strings.Contains(bodies[0], `"settemp":250`) ||
		!strings.Contains(bodies[1], `"msg_type":3`) || !strings.Contains(bodies[1], `"message_id":"`+id+`"`) {
		t.Fatalf("pushes %v", bodies)
	}
	s.SetOnline("TH0001", false)
	if a := post(`{"settemp":250}`); code(a) != 3 {
		t.Errorf("setting an off-line device: %v", a)
	}
}

func TestVerificationSignature(t *testing.T) {
	s := New(Options{CallbackToken: "mytoken"})
	defer s.Close()
	if got := s.Signature("abc123", "1500000000"); got != "7296729774603f5de43253a32f17cc77" {
		t.Errorf("lower: %s", got)
	}
	up := New(Options{CallbackToken: "mytoken", SignatureVariant: "upper"})
	defer up.Close()
	if got := up.Signature("abc123", "1500000000"); got != "d613182d30ecdb24268ee30e8ecd4743" {
		t.Errorf("upper: %s", got)
	}
	raw := New(Options{CallbackToken: "mytoken", SignatureVariant: "raw"})
	defer raw.Close()
	if got := raw.Signature("abc123", "1500000000"); got != "029d473a161dbee08872abf86e8b658a" {
		t.Errorf("raw: %s", got)
	}
	var gotQuery url.Values
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.Query()
		_, _ = io.WriteString(w, r.URL.Query().Get("nonce"))
	}))
	defer bridge.Close()
	s.SetBridgeURL(bridge.URL)
	if err := s.VerifyURL(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gotQuery.Get("signature") != s.Signature(gotQuery.Get("nonce"), gotQuery.Get("timestamp")) {
		t.Errorf("verification sent %v", gotQuery)
	}
}

// Pushes wait and retry until the bridge answers.
func TestPushesRetryUntilTheBridgeAnswers(t *testing.T) {
	var mu sync.Mutex
	up := false
	got, refused := 0, 0
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			refused++
			http.NotFound(w, r)
			return
		}
		got++
	}))
	defer bridge.Close()
	s := New(Options{PushRetryMax: 20 * time.Millisecond})
	defer s.Close()
	s.SetValue("TH0001", "temp", 230) // queued: no URL yet
	s.SetBridgeURL(bridge.URL)
	s.SetValue("TH0001", "temp", 231)
	// The bridge comes up only after it has refused a delivery, however
	// slowly the simulator gets to its first attempt.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := refused
		if n > 0 {
			up = true
		}
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	deadline = time.Now().Add(5 * time.Second)
	for s.PendingPushes() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if got != 2 {
		t.Fatalf("%d pushes arrived, want 2", got)
	}
	if p := s.Pushes(); len(p) != 2 || p[0].Attempts < 2 {
		t.Errorf("push log %+v", p)
	}
}

func TestDemoConfigAndScale(t *testing.T) {
	config, stop, err := StartDemo(7, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for _, want := range []string{`name: "demo"`, "push_path: \"/expeed/demo\"", `device_id: "TH0003"`, `device_id: "AQ0003"`,
		"settemp: {platform: number", "min: 5, max: 35, step: 0.5", "energy: {platform: sensor, device_class: energy"} {
		if !strings.Contains(config, want) {
			t.Errorf("demo config lacks %q:\n%s", want, config)
		}
	}
}
