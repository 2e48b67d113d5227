package ewelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// TestSignVectors checks the signature against the reference's vectors (§3.3).
func TestSignVectors(t *testing.T) {
	cases := []struct{ key, msg, want string }{
		{"OdPuCZ4PkPPi0rVKRVcGmll2NM6vVk0c", `{"email":"1234@gmail.com","password":"12345678","countryCode":"+1"}`, "ttZ/gluzqrafvGonjMD20p4//arW6KoZKbo1SOMEzCA="},
		{"OdPuCZ4PkPPi0rVKRVcGmll2NM6vVk0c", `{"email": "1234@gmail.com", "password": "12345678", "countryCode": "+1"}`, "cE/Wl57Ithy21Elieq5wFsYwJWl2IrkBxlmuCnwI73c="},
		{"abc", "ABC_123", "v1+mfNY2ukxswM8sZOTg99srZsVnUVv9DGXeav1096M="},
		{"test-secret", "countryCode=86", "AFtdK6i0jv0hkHa0aqQ34Xutgwj40JT/kCDiz/NMXa0="},
		{"test-secret", `{"rt":"test-refresh-token"}`, "iUiE/2z7YRv6bQIGwgBA81fSkfYSW3vAxtPPs17vM9s="},
	}
	for _, c := range cases {
		if got := sign(c.key, []byte(c.msg)); got != c.want {
			t.Errorf("sign(%q, %q) = %s, want %s", c.key, c.msg, got, c.want)
		}
	}
	// The refresh body the adapter marshals is byte-for-byte the signed one.
	body, _ := json.Marshal(map[string]string{"rt": "test-refresh-token"})
	if sign("test-secret", body) != cases[4].want {
		t.Errorf("refresh body %s signs differently", body)
	}
	q := url.Values{"countryCode": {"86"}, "b": {"x y"}, "a": {"1&2"}}
	if got := queryMessage(q); got != "a=1&2&b=x y&countryCode=86" {
		t.Errorf("GET message %q: want sorted, raw values", got)
	}
	if n := nonce(8); len(n) != 8 || strings.Trim(n, alnum) != "" {
		t.Errorf("nonce %q", n)
	}
}

func testEnv() vendors.Env {
	return vendors.Env{Vendor: vendorName, Account: "home", Log: zerolog.Nop(), PublicURL: "http://bridge.local:8080"}
}

// TestSample: the documented sample decodes and passes the factory.
func TestSample(t *testing.T) {
	var entries []yaml.Node
	if err := yaml.Unmarshal([]byte(sampleYAML), &entries); err != nil {
		t.Fatalf("sample is not a YAML list: %v", err)
	}
	if len(entries) == 0 {
		t.Fatal("sample has no entry")
	}
	for i := range entries {
		node := &entries[i]
		if _, err := New(testEnv(), func(v any) error { return node.Decode(v) }); err != nil {
			t.Errorf("sample entry %d: %v", i, err)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(sampleYAML), "\n") {
		if strings.Contains(line, ":") && !strings.Contains(line, "#") {
			t.Errorf("sample line without a comment: %q", line)
		}
	}
}

// TestConfigValidation: every problem is reported at once; strict keys.
func TestConfigValidation(t *testing.T) {
	_, err := New(testEnv(), strictDecode("name: x\nlogin: password\nregion: mars\nbackoff_min: -1s\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"app_id", "app_secret", "email or phone", "password", "country_code", "region", "backoff_min"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	if _, err := New(testEnv(), strictDecode("name: x\napp_id: a\napp_secret: b\nbogus_key: 1\n")); err == nil || !strings.Contains(err.Error(), "bogus_key") {
		t.Errorf("unknown key: %v", err)
	}
	a, err := New(testEnv(), strictDecode("name: x\napp_id: a\napp_secret: b\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := a.(*Adapter).cfg
	if c.Login != loginOAuth || *c.MonthlyQuota != 50000 || c.EndpointGap != 500*time.Millisecond || c.WindowCalls != 300 ||
		c.Window != 5*time.Minute || c.WSSendGap != 100*time.Millisecond || c.BackoffMin != 15*time.Second || c.BackoffMax != 64*time.Minute ||
		c.CallbackPath != "/ewelink/home/callback" || c.RelistInterval != 30*time.Minute || c.EnergyInterval != time.Hour {
		t.Errorf("defaults: %+v", c)
	}
	if got := c.apiBase("cn"); got != "https://cn-apia.coolkit.cn" {
		t.Errorf("cn base %s", got)
	}
	if got := c.dispatchURL("eu"); got != "https://eu-dispa.coolkit.cc/dispatch/app" {
		t.Errorf("eu dispatch %s", got)
	}
	p, err := New(testEnv(), strictDecode("name: x\napp_id: a\napp_secret: b\nlogin: password\nphone: \"+8618023456789\"\npassword: p\ncountry_code: \"+86\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if pc := p.(*Adapter).cfg; pc.Region != "cn" || *pc.MonthlyQuota != 0 {
		t.Errorf("password defaults: region %s quota %d", pc.Region, *pc.MonthlyQuota)
	}
}

// TestTolerantValues: strings or numbers, "unavailable", on/off spellings.
func TestTolerantValues(t *testing.T) {
	for _, c := range []struct {
		in   any
		want float64
		ok   bool
	}{
		{"12.5", 12.5, true}, {json.Number("3"), 3, true}, {7.0, 7, true}, {" -61 ", -61, true},
		{"unavailable", 0, false}, {"", 0, false}, {"NaN", 0, false}, {true, 0, false}, {nil, 0, false},
	} {
		if got, ok := num(c.in); ok != c.ok || got != c.want {
			t.Errorf("num(%#v) = %v %v", c.in, got, ok)
		}
	}
	for in, want := range map[any]bool{"on": true, "OFF": false, true: true, json.Number("0"): false, "1": true} {
		if got, ok := onOff(in); !ok || got != want {
			t.Errorf("onOff(%v) = %v %v", in, got, ok)
		}
	}
	if _, ok := onOff("maybe"); ok {
		t.Error("onOff accepted maybe")
	}
	p := params{"switches": []any{map[string]any{"switch": "on", "outlet": 0}, map[string]any{"switch": "off", "outlet": 1}}, "white": map[string]any{"br": 10, "ct": 5}}
	p.merge(params{"switches": []any{map[string]any{"switch": "on", "outlet": 1}}, "white": map[string]any{"br": 50}, "x": "y"})
	if got := jsonText(p); got != `{"switches":[{"outlet":0,"switch":"on"},{"outlet":1,"switch":"on"}],"white":{"br":50,"ct":5},"x":"y"}` {
		t.Errorf("merge: %s", got)
	}
}

// TestHistoryFormats decodes the three energy history formats (§9.3).
func TestHistoryFormats(t *testing.T) {
	cases := []struct {
		kind historyKind
		in   string
		want []int
	}{
		{hundredDays, "190101000509", []int{2511, 59}},
		{dualR3, "0a250001", []int{1025, 1}},
		{hourly, "a05012", []int{1005, 12}},
	}
	for _, c := range cases {
		got, err := decodeHistory(c.kind, c.in)
		if err != nil || !equalInts(got, c.want) {
			t.Errorf("decode(%d, %q) = %v %v, want %v", c.kind, c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "zz0101", "19010"} {
		if _, err := decodeHistory(hundredDays, bad); err == nil && len(bad) >= 6 {
			t.Errorf("accepted %q", bad)
		}
	}
}

// TestAdvance: growth, rollovers, ambiguity and rewrites never lose or
// double-count and never go negative.
func TestAdvance(t *testing.T) {
	cases := []struct {
		name     string
		old, cur []int
		want     int64
	}{
		{"first sample seeds with the whole history", nil, []int{10, 20, 30}, 60},
		{"same day growth", []int{10, 200, 300}, []int{25, 200, 300}, 15},
		{"no change", []int{10, 200, 300}, []int{10, 200, 300}, 0},
		{"one rollover", []int{135, 200, 300}, []int{10, 150, 200, 300}, 15 + 10},
		{"two rollovers", []int{135, 200, 300}, []int{5, 40, 150, 200, 300}, 15 + 40 + 5},
		{"equal days, today went down: rollover", []int{100, 200, 200, 200}, []int{50, 200, 200, 200, 200}, 100 + 50},
		{"history rewritten: today only", []int{100, 1, 2, 3}, []int{120, 7, 8, 9}, 20},
		{"idle days", []int{0, 0, 0}, []int{0, 0, 0, 0}, 0},
	}
	for _, c := range cases {
		if got := advance(c.old, c.cur); got != c.want {
			t.Errorf("%s: advance = %d, want %d", c.name, got, c.want)
		}
	}
}

// memStore is a vendors.Store in memory; saves counts the writes of a name.
type memStore struct {
	mu    sync.Mutex
	m     map[string][]byte
	saves map[string]int
}

func (s *memStore) Load(name string, v any) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[name]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

func (s *memStore) Save(name string, v any) error {
	b, err := json.Marshal(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m, s.saves = map[string][]byte{}, map[string]int{}
	}
	s.m[name] = b
	s.saves[name]++
	return err
}

func testBudget(c config, now func() time.Time, store vendors.Store) *budget {
	if c.MonthlyQuota == nil {
		q := int64(0)
		c.MonthlyQuota = &q
	}
	return newBudget(&c, now, store, vendors.NopMetrics{}, zerolog.Nop())
}

// TestBudgetSpacingAndWindow: one endpoint's calls are gap apart (from the
// end of the previous call) and no window holds more than window_calls.
func TestBudgetSpacingAndWindow(t *testing.T) {
	b := testBudget(config{EndpointGap: 30 * time.Millisecond, WindowCalls: 4, Window: 400 * time.Millisecond}, time.Now, nil)
	var mu sync.Mutex
	var starts, ends []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := b.acquire(context.Background(), "GET /x", vendorkit.Low, false)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			ends = append(ends, time.Now())
			mu.Unlock()
			release()
		}()
	}
	wg.Wait()
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(ends[i-1]); gap < 30*time.Millisecond {
			t.Errorf("call %d started %s after the previous ended", i, gap)
		}
	}
	// starts are read after acquire returns, so a loaded machine can make
	// them look closer than they left; 300ms of the 400ms window still
	// catches a burst of five (they would span ~140ms).
	for i := range starts {
		n := 0
		for j := range starts {
			if d := starts[j].Sub(starts[i]); d >= 0 && d < 300*time.Millisecond {
				n++
			}
		}
		if n > 4 {
			t.Errorf("%d calls within 300ms of a 4-per-400ms window", n)
		}
	}
}

// TestBudgetPriority: a command waiting behind polls goes first.
func TestBudgetPriority(t *testing.T) {
	b := testBudget(config{EndpointGap: time.Millisecond, WindowCalls: 1000, Window: 100 * time.Second}, time.Now, nil) // 10/s, burst 5
	ctx := context.Background()
	for i := 0; i < 5; i++ { // use the burst
		release, _ := b.acquire(ctx, "GET /burst", vendorkit.Low, false)
		release()
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	call := func(name string, p vendorkit.Priority) {
		defer wg.Done()
		release, err := b.acquire(ctx, "ep-"+name, p, false)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
		release()
	}
	for _, n := range []string{"poll1", "poll2", "poll3"} {
		wg.Add(1)
		go call(n, vendorkit.Low)
	}
	time.Sleep(20 * time.Millisecond)
	wg.Add(1)
	go call("command", vendorkit.High)
	wg.Wait()
	pos := -1
	for i, n := range order {
		if n == "command" {
			pos = i
		}
	}
	if pos < 0 || pos > 1 {
		t.Errorf("order %v: the command should pass the waiting polls", order)
	}
}

// TestMonthlyCounter: persisted, reported, reset at a new month.
func TestMonthlyCounter(t *testing.T) {
	now := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := &memStore{}
	q := int64(3)
	b := testBudget(config{EndpointGap: time.Millisecond, WindowCalls: 100, Window: time.Second, MonthlyQuota: &q}, clock, store)
	for i := 0; i < 3; i++ {
		release, err := b.acquire(context.Background(), "GET /x", vendorkit.Low, true)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	_, err := b.acquire(context.Background(), "GET /x", vendorkit.Low, true)
	var rl *vendors.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Fatalf("over quota: %v", err)
	}
	b2 := testBudget(config{EndpointGap: time.Millisecond, WindowCalls: 100, Window: time.Second, MonthlyQuota: &q}, clock, store)
	if r := b2.remaining(); r["monthly_calls_remaining"] != 0 || r["monthly_calls_used"] != 3 {
		t.Errorf("not persisted: %v", r)
	}
	now = now.Add(2 * time.Minute) // February
	if r := b2.remaining(); r["monthly_calls_remaining"] != 3 {
		t.Errorf("not reset in a new month: %v", r)
	}
}

// TestEnergyBookWritesAtMostEverySecond: the first histories of a thousand
// meters make one write of the counter file, not a thousand (each write
// holds every counter), and flush writes what is still pending, so a new
// book starts from every counter.
func TestEnergyBookWritesAtMostEverySecond(t *testing.T) {
	store := &memStore{}
	book := &energyBook{store: store, log: zerolog.Nop()}
	for i := range 1000 {
		book.feed(fmt.Sprintf("dev%d", i), 0, []int{int(i % 7), 100})
	}
	if n := store.saves[energyStoreName]; n != 1 {
		t.Fatalf("%d writes for 1000 first histories within a second, want 1", n)
	}
	book.flush()
	book.flush() // nothing new: no write
	if n := store.saves[energyStoreName]; n != 2 {
		t.Fatalf("%d writes after two flushes, want 2", n)
	}
	again := &energyBook{store: store, log: zerolog.Nop()}
	for _, i := range []int{0, 999} {
		id := fmt.Sprintf("dev%d", i)
		want, _ := book.total(id, 0)
		if got, ok := again.total(id, 0); !ok || got != want {
			t.Errorf("%s after a reload: %v (%v), want %v", id, got, ok, want)
		}
	}
}
