package metrics

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
)

var _ bridge.Metrics = (*Metrics)(nil)

// exercise touches every metric once.
func exercise(m *Metrics) {
	m.MQTTConnected(true)
	m.MQTTPublished("state")
	m.MQTTPublishFailed("config")
	m.MQTTReceived("command")
	m.PublishDropped("event")
	m.CommandResult("ewelink", "ok")
	m.CommandResult("ewelink", "DEVICE_OFFLINE")
	m.CommandQueue("ewelink", "home", 3)
	m.AccountStatus("ewelink", "home", "connected")
	m.AccountDevices("ewelink", "home", 10, 7)
	a := m.Account("ewelink", "home")
	a.APIRequest("device_list", 120*time.Millisecond, nil)
	a.APIRequest("device_list", 2*time.Second, errors.New("503"))
	a.RateLimitWait(250 * time.Millisecond)
	a.TokenExpiry(time.Unix(1_900_000_000, 0))
	a.StreamConnected(true)
	a.Budget("calls_today", 180)
}

func TestLint(t *testing.T) {
	m := New(Options{Version: "1.0", Commit: "abc", DeviceValues: true})
	m.SetDeviceValues(func(emit func(string, string, string, float64)) { emit("shelly", "abc123", "power", 12.5) })
	exercise(m)
	problems, err := testutil.CollectAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "cloud2mqtt_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

func TestValues(t *testing.T) {
	m := New(Options{})
	exercise(m)
	check := func(name string, want float64, labels ...string) {
		t.Helper()
		var got float64
		switch name {
		case "commands":
			got = testutil.ToFloat64(m.commands.WithLabelValues(labels...))
		case "devices_online":
			got = testutil.ToFloat64(m.devicesOnline.WithLabelValues(labels...))
		case "api_failures":
			got = testutil.ToFloat64(m.apiFailures.WithLabelValues(labels...))
		case "api_requests":
			got = testutil.ToFloat64(m.apiRequests.WithLabelValues(labels...))
		case "account_status":
			got = testutil.ToFloat64(m.accountStatus.WithLabelValues(labels...))
		case "token":
			got = testutil.ToFloat64(m.tokenExpiry.WithLabelValues(labels...))
		}
		if got != want {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	check("commands", 1, "ewelink", "DEVICE_OFFLINE")
	check("devices_online", 7, "ewelink", "home")
	check("api_requests", 2, "ewelink", "home", "device_list")
	check("api_failures", 1, "ewelink", "home", "device_list")
	check("account_status", 1, "ewelink", "home", "connected")
	check("account_status", 0, "ewelink", "home", "error")
	check("token", 1_900_000_000, "ewelink", "home")
	if got := testutil.ToFloat64(m.mqttConnected); got != 1 {
		t.Errorf("mqtt_connected %v", got)
	}
}

// TestNoSecretInLabels: adapter-supplied names that are not plain words
// (a URL with a token) never become label values.
func TestNoSecretInLabels(t *testing.T) {
	m := New(Options{})
	a := m.Account("ewelink", "home")
	a.APIRequest("https://api.example/v2?token=s3cr3t", time.Second, nil)
	a.Budget("key=s3cr3t", 1)
	m.CommandResult("ewelink", "Bearer s3cr3t")
	body := scrape(t, m)
	if strings.Contains(body, "s3cr3t") {
		t.Fatal("secret in /metrics")
	}
	if !strings.Contains(body, `op="other"`) {
		t.Error("odd op not replaced")
	}
}

func TestDeviceValuesOptional(t *testing.T) {
	off := New(Options{})
	off.SetDeviceValues(func(emit func(string, string, string, float64)) { emit("v", "d", "power", 1) })
	if strings.Contains(scrape(t, off), "cloud2mqtt_device_value") {
		t.Error("device values exported though off")
	}
	on := New(Options{DeviceValues: true})
	if strings.Contains(scrape(t, on), "cloud2mqtt_device_value{") {
		t.Error("values without a source")
	}
	on.SetDeviceValues(func(emit func(string, string, string, float64)) {
		emit("shelly", "abc", "power", 12.5)
		emit("shelly", "abc", "energy", 3)
	})
	body := scrape(t, on)
	if !strings.Contains(body, `cloud2mqtt_device_value{device="abc",key="power",vendor="shelly"} 12.5`) {
		t.Errorf("device values missing:\n%s", body)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// The exposition is gzipped only with the per-device values: without them
// it is a few kilobytes, and a gzip writer would hold about 1 MB.
func TestCompressionOnlyWithDeviceValues(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{{Options{}, ""}, {Options{DeviceValues: true}, "gzip"}} {
		m := New(tc.opts)
		exercise(m)
		srv := httptest.NewServer(m.Handler())
		req := httptest.NewRequest("GET", srv.URL, nil)
		req.RequestURI = ""
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if got := resp.Header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("device values %v: Content-Encoding %q, want %q", tc.opts.DeviceValues, got, tc.want)
		}
		if tc.want == "" && len(body) > 64<<10 {
			t.Errorf("uncompressed exposition of %d bytes", len(body))
		}
	}
}
