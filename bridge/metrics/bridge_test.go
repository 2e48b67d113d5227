package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/metrics"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// meter is a minimal adapter: one plug, commands succeed.
type meter struct{ m vendors.Metrics }

func (a meter) Run(ctx context.Context, s vendors.Sink) error {
	s.Status(vendors.Status{State: vendors.StateConnected, Budget: map[string]int64{"calls": 9}})
	s.Inventory([]vendors.Device{{ID: "p1", Name: "Plug", Entities: []vendors.Entity{
		{Key: "switch", Platform: vendors.Switch, Writable: true},
		{Key: "power", Platform: vendors.Sensor, Name: "Power", DeviceClass: "power", Unit: "W", StateClass: "measurement"},
	}}})
	s.Availability("p1", true)
	s.Update("p1", map[string]any{"switch": "OFF", "power": 42.5})
	a.m.APIRequest("list", 30*time.Millisecond, nil)
	a.m.Budget("calls", 9)
	<-ctx.Done()
	return ctx.Err()
}

func (meter) Execute(context.Context, vendors.Command) error { return nil }

// TestBridgeMetrics wires the metrics into a running bridge and reads them
// from /metrics after a command went through MQTT.
func TestBridgeMetrics(t *testing.T) {
	url := bridgetest.BrokerURL(t)
	base, prefix := bridgetest.Topics(t, url)
	cfg := discovery.Config{BaseTopic: base, Prefix: prefix}
	m := metrics.New(metrics.Options{Version: "t", DeviceValues: true})
	client, err := mqttx.New(mqttx.Options{URL: url, ClientID: "c2mtest-" + bridgetest.RandomID(6), CleanSession: true, Will: bridge.WillFor(cfg), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	b := bridge.New(client, bridge.Options{Discovery: cfg, Metrics: m, Log: zerolog.Nop(), ListInterval: 10 * time.Millisecond})
	m.SetDeviceValues(b.DeviceValues)
	if err := b.AddAccount("meter", "home", meter{m.Account("meter", "home")}); err != nil {
		t.Fatal(err)
	}
	rec := bridgetest.Subscribe(t, url, base+"/#")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()

	rec.Wait(cfg.DeviceTopic("meter", "p1"), nil, 10*time.Second)
	bridgetest.Publish(t, url, cfg.SetTopic("meter", "p1", "switch"), 1, false, []byte("ON"))
	bridgetest.Publish(t, url, cfg.SetTopic("meter", "p1", "nope"), 1, false, []byte("ON"))
	rec.Wait(cfg.DeviceTopic("meter", "p1")+"/result", func(mqttx.Message) bool { return len(rec.On(cfg.DeviceTopic("meter", "p1")+"/result")) == 2 }, 10*time.Second)
	rec.Wait(cfg.BridgeTopic("info"), func(m mqttx.Message) bool { return strings.Contains(string(m.Payload), `"devices":1`) }, 10*time.Second)

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	var body string
	want := []string{
		`cloud2mqtt_commands_total{result="ok",vendor="meter"} 1`,
		`cloud2mqtt_commands_total{result="UNKNOWN_KEY",vendor="meter"} 1`,
		`cloud2mqtt_devices{account="home",vendor="meter"} 1`,
		`cloud2mqtt_devices_online{account="home",vendor="meter"} 1`,
		`cloud2mqtt_account_up{account="home",vendor="meter"} 1`,
		`cloud2mqtt_mqtt_connected 1`,
		`cloud2mqtt_mqtt_messages_received_total{kind="command"} 2`,
		`cloud2mqtt_vendor_api_requests_total{account="home",op="list",vendor="meter"} 1`,
		`cloud2mqtt_quota_remaining{account="home",name="calls",vendor="meter"} 9`,
		`cloud2mqtt_device_value{device="p1",key="power",vendor="meter"} 42.5`,
		`cloud2mqtt_mqtt_messages_published_total{kind="state"}`,
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing %s in\n%s", missing, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
