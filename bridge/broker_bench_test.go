package bridge

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// countingClient counts the state publishes the bridge hands to the real
// MQTT client.
type countingClient struct {
	mqttx.Client
	states atomic.Int64
	prefix string
}

func (c *countingClient) Publish(topic string, qos byte, retained bool, payload []byte) error {
	err := c.Client.Publish(topic, qos, retained, payload)
	if err == nil && len(topic) > len(c.prefix) && topic[:len(c.prefix)] == c.prefix {
		c.states.Add(1)
	}
	return err
}

// BenchmarkBridgeCoreToBroker is the bridge core alone on the event path:
// an adapter reports a changed value (no cloud, no decoding) and the bridge
// publishes the device's state through paho to the test broker. Compare
// with BenchmarkBarePahoToBroker: the same number of QoS 0 retained
// messages of the same size from a bare client. Both report msgs/s; run
// them with -benchtime 100000x or more.
func BenchmarkBridgeCoreToBroker(b *testing.B) {
	url := bridgetest.BrokerURL(b)
	base, prefix := bridgetest.Topics(b, url)
	cl, err := mqttx.New(mqttx.Options{URL: url, ClientID: "c2m-bench-core-" + bridgetest.RandomID(4), Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	cc := &countingClient{Client: cl, prefix: base + "/fake/"}
	br := New(cc, Options{Discovery: discovery.Config{BaseTopic: base, Prefix: prefix}, Log: zerolog.Nop(), DisableDiscovery: true})
	if err := br.AddAccount("fake", "home", newFake()); err != nil {
		b.Fatal(err)
	}
	a := br.accounts[0]
	const n = 1000
	ids := make([]string, n)
	devs := make([]vendors.Device, n)
	for i := range devs {
		ids[i] = fmt.Sprintf("dev%05d", i)
		devs[i] = plug(ids[i])
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = br.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !cl.IsConnected() {
		time.Sleep(10 * time.Millisecond)
	}
	a.Inventory(devs)
	time.Sleep(500 * time.Millisecond)
	before := cc.states.Load()
	idle := func() {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			br.mu.Lock()
			empty := len(br.dirty) == 0
			br.mu.Unlock()
			if empty {
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	values := map[string]any{"switch": "ON", "power": 0.0}
	i := 0
	start := time.Now()
	for b.Loop() {
		values["power"] = float64(i)
		a.Update(ids[i%n], values)
		i++
		// One change per device, then let the publisher drain: a producer
		// in a tight loop would only measure coalescing.
		if i%n == 0 {
			idle()
		}
	}
	idle()
	took := time.Since(start)
	sent := cc.states.Load() - before
	b.ReportMetric(float64(i)/took.Seconds(), "events/s")
	b.ReportMetric(float64(sent)/took.Seconds(), "msgs/s")
	b.ReportMetric(float64(sent)/float64(i), "msgs/event")
}

func BenchmarkBarePahoToBroker(b *testing.B) {
	url := bridgetest.BrokerURL(b)
	base, _ := bridgetest.Topics(b, url)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("c2m-bench-bare-" + bridgetest.RandomID(4)))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		b.Fatal("connect", tok.Error())
	}
	defer c.Disconnect(250)
	topics := make([]string, 1000)
	for i := range topics {
		topics[i] = fmt.Sprintf("%s/bare/dev%05d", base, i)
	}
	payload := []byte(`{"power":12345,"switch":"ON","last_seen":"2026-12-02T18:00:00Z"}`)
	i := 0
	start := time.Now()
	var last paho.Token
	for b.Loop() {
		last = c.Publish(topics[i%len(topics)], 0, true, payload)
		i++
	}
	last.WaitTimeout(10 * time.Second)
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "msgs/s")
}
