package expeed_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
	"gopkg.in/yaml.v3"
)

// The registered sample is a YAML list whose every entry passes the factory.
func TestSampleConfigPassesTheFactory(t *testing.T) {
	reg, ok := vendors.Lookup("expeed")
	if !ok {
		t.Fatal("expeed is not registered")
	}
	if !strings.HasPrefix(reg.Sample, "- name: ") {
		t.Fatalf("sample must be a list at column 0")
	}
	var items []yaml.Node
	if err := yaml.Unmarshal([]byte(reg.Sample), &items); err != nil || len(items) == 0 {
		t.Fatalf("sample: %v (%d entries)", err, len(items))
	}
	for _, it := range items {
		b, _ := yaml.Marshal(&it)
		r, err := build(t, nil, string(b), buildOpt{})
		if err != nil {
			t.Fatalf("sample entry refused: %v", err)
		}
		routes := r.a.(vendors.Router).Routes()
		if len(routes) != 1 || routes[0].Path != "/expeed/home/CHANGE-ME-16-to-128-random-chars" {
			t.Errorf("routes %v", routes)
		}
	}
	// Every key of the config is documented in the sample.
	for _, key := range []string{"platform_key", "secret_key", "base_url", "push_path", "push_secret", "push_token",
		"push_signature_variants", "push_max_skew", "push_timestamp_unit", "push_status_online_value", "push_calibrate",
		"push_calibrate_after", "push_calibrate_delay", "push_check_device_key", "push_allowed_networks",
		"push_trusted_proxies", "auth_style", "setting_body", "timezone", "token_budget", "token_refresh_margin",
		"requests_per_second", "burst", "safety_poll", "command_timeout", "backoff_min", "backoff_max",
		"history_max_pages", "learn_devices", "manufacturer", "devices", "device_id", "device_key", "datapoints"} {
		if !strings.Contains(reg.Sample, key+":") {
			t.Errorf("sample does not document %s", key)
		}
	}
}

// The factory reports every problem at once.
func TestConfigErrors(t *testing.T) {
	config := `name: x
secret_key: s
push_secret: short
auth_style: cookie
setting_body: nested
timezone: Mars/Olympus
token_budget: 500
push_signature_variants: [sha256]
push_allowed_networks: [not-a-net]
push_status_online_value: 2
devices:
  - device_id: D1
    datapoints:
      temp: {platform: light}
      setp: {platform: number, writable: true}
      mode: {platform: select}
      t2: {platform: sensor, device_class: temperature, unit: "K"}
      ro: {platform: sensor, writable: true}
  - device_id: D1
    device_key: k
`
	_, err := build(t, nil, config, buildOpt{})
	if err == nil {
		t.Fatal("a bad config was accepted")
	}
	for _, want := range []string{"platform_key is required", "push_secret", "push_token is required", "auth_style",
		"setting_body", "Mars/Olympus", "token_budget", "sha256", "not-a-net", "push_status_online_value",
		"device_key is required", "appears twice", `"temp"`, "needs min and max", "select needs options",
		"takes unit", "cannot be writable"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "short") {
		t.Error("the error quotes the push_secret")
	}
	if _, err := build(t, nil, "name: empty\n", buildOpt{}); err == nil {
		t.Error("an empty config was accepted")
	}
}

// The demo: fixtures scaled to the device count, drifting values, a
// verification once the bridge is up, commands whose results arrive by push.
func TestStartDemo(t *testing.T) {
	var mu sync.Mutex
	var handler http.Handler
	bridge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hd := handler
		mu.Unlock()
		if hd == nil {
			http.NotFound(w, r) // the bridge is up, the adapter not yet mounted
			return
		}
		hd.ServeHTTP(w, r)
	}))
	defer bridge.Close()
	config, stop, err := expeedsim.StartDemo(6, bridge.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.HasPrefix(config, `name: "demo"`) {
		t.Fatalf("config starts %q", config[:20])
	}
	time.Sleep(300 * time.Millisecond) // drift and pushes queue while the bridge has no route
	r, err := build(t, nil, config, buildOpt{})
	if err != nil {
		t.Fatalf("demo config refused: %v", err)
	}
	mux := http.NewServeMux()
	for _, rt := range r.a.(vendors.Router).Routes() {
		mux.Handle(rt.Path, rt.Handler)
	}
	mu.Lock()
	handler = mux
	mu.Unlock()
	r.start()
	r.ready(15 * time.Second)
	if n := len(r.rec.Devices()); n != 6 {
		t.Fatalf("%d demo devices, want 6", n)
	}
	r.rec.WaitFor(t, 10*time.Second, "the URL verification", func() bool {
		return r.lastStatus().Info["push_url_verified"] == "yes"
	})
	drifting := [][2]string{{"AQ0001", "pm25"}, {"AQ0002", "pm25"}, {"AQ0001", "temp"}, {"AQ0002", "temp"}, {"TH0001", "temp"}, {"TH0002", "temp"}}
	var before []any
	for _, k := range drifting {
		v, _ := r.rec.Value(k[0], k[1])
		before = append(before, v)
	}
	r.rec.WaitFor(t, 15*time.Second, "a drifting value", func() bool {
		for i, k := range drifting {
			if v, _ := r.rec.Value(k[0], k[1]); v != before[i] {
				return true
			}
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cur, _ := r.rec.Value("PL0002", "switch")
	on := cur != vendors.On
	if err := r.a.Execute(ctx, vendors.Command{DeviceID: "PL0002", Key: "switch", Value: on}); err != nil {
		t.Fatal(err)
	}
	want := vendors.Off
	if on {
		want = vendors.On
	}
	r.rec.WaitValue(t, 5*time.Second, "PL0002", "switch", want)
	r.stop()
}
