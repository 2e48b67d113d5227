package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// TestDemoEndToEnd runs the demo's wiring (every simulator, every real
// adapter, the bridge, the HTTP server) against the test broker and checks
// what a Home Assistant user sees: discovery, state, commands and results,
// metrics and health.
func TestDemoEndToEnd(t *testing.T) {
	url := bridgetest.BrokerURL(t)
	base, prefix := bridgetest.Topics(t, url)
	logs := &vendortest.LogBuffer{}
	red := &vendorkit.Redactor{}
	log, err := newLogger(logs, "debug", "json", red)
	if err != nil {
		t.Fatal(err)
	}
	d, err := startDemo(demoOptions{
		MQTTURL: url, HTTPAddr: "127.0.0.1:0", Devices: 3, BaseTopic: base, DiscoveryPrefix: prefix,
		StateDir: t.TempDir(), LogLevel: "debug",
	}, log, red)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	states := bridgetest.Subscribe(t, url, base+"/#")
	configs := bridgetest.Subscribe(t, url, prefix+"/#")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.app.run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the bridge did not stop within 20s of cancel")
		}
	}()

	states.WaitPayload(base+"/bridge/state", "online", 10*time.Second)

	// Every vendor's devices are discovered, with state and availability.
	dev := base + "/ewelink/1000a00002"
	for _, topic := range []string{dev, base + "/expeed/PL0001", base + "/ezviz/C6N100001", base + "/shelly/b923fa"} {
		if _, ok := states.WaitOK(topic, nil, 30*time.Second); !ok {
			t.Errorf("no state on %s; topics seen: %s", topic, topicList(states))
		}
	}
	states.WaitPayload(dev+"/availability", "online", 10*time.Second)
	cfgMsg := configs.Wait(prefix+"/device/"+objectID(t, d, "ewelink", "1000a00002")+"/config", nil, 10*time.Second)
	var disc struct {
		Device     map[string]any            `json:"dev"`
		Components map[string]map[string]any `json:"cmps"`
	}
	if err := json.Unmarshal(cfgMsg.Payload, &disc); err != nil {
		t.Fatalf("discovery payload: %v", err)
	}
	sw, ok := disc.Components["switch_2"]
	if !ok {
		t.Fatalf("no switch_2 component in %s", cfgMsg.Payload)
	}
	if sw["command_topic"] != dev+"/set/switch_2" {
		t.Errorf("switch_2 command_topic = %v", sw["command_topic"])
	}

	// A command round trip: /set/<key> reaches the simulated cloud, whose
	// answer comes back as state, and the result says ok.
	state := func(m mqttx.Message) map[string]any {
		var s map[string]any
		_ = json.Unmarshal(m.Payload, &s)
		return s
	}
	want := "ON"
	if s := state(states.Wait(dev, nil, time.Second)); s["switch_2"] == "ON" {
		want = "OFF"
	}
	states.Reset()
	bridgetest.Publish(t, url, dev+"/set/switch_2", 1, false, []byte(want))
	res := states.Wait(dev+"/result", nil, 15*time.Second)
	if !strings.Contains(string(res.Payload), `"status":"ok"`) {
		t.Errorf("result = %s", res.Payload)
	}
	states.Wait(dev, func(m mqttx.Message) bool { return state(m)["switch_2"] == want }, 10*time.Second)

	// A bad command gets an error result.
	states.Reset()
	bridgetest.Publish(t, url, dev+"/set", 1, false, []byte(`{"switch_2": 42}`))
	res = states.Wait(dev+"/result", nil, 10*time.Second)
	if !strings.Contains(string(res.Payload), `"status":"error"`) {
		t.Errorf("bad command result = %s", res.Payload)
	}

	// Metrics and health on the HTTP server.
	body := httpGet(t, d.bridgeURL+"/metrics")
	for _, m := range []string{"cloud2mqtt_mqtt_connected 1", `cloud2mqtt_commands_total{result="ok",vendor="ewelink"}`, "cloud2mqtt_vendor_api_requests_total"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	if h := httpGet(t, d.bridgeURL+"/healthz"); !strings.Contains(h, `"status":"ok"`) {
		t.Errorf("/healthz = %s", h)
	}

	if strings.Contains(logs.String(), `"level":"error"`) {
		t.Errorf("errors logged during the demo:\n%s", logs.String())
	}
}

func topicList(r *bridgetest.Recorder) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range r.Messages() {
		if !seen[m.Topic] {
			seen[m.Topic] = true
			out = append(out, m.Topic)
		}
	}
	return strings.Join(out, " ")
}

func objectID(t *testing.T, d *demo, vendor, id string) string {
	t.Helper()
	return d.cfg.Discovery(version).ObjectID(vendor, id)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
