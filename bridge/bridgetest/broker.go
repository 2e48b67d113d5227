// Package bridgetest helps tests talk to a real MQTT broker: the one named by
// CLOUD2MQTT_TEST_BROKER (CI runs Mosquitto there) or an in-process mochi
// broker. Topics are unique per test, so parallel tests and a shared broker
// never collide, and retained messages a test leaves are cleared at its end.
package bridgetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/broker"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
)

// EnvBroker names the environment variable with an external broker URL.
const EnvBroker = "CLOUD2MQTT_TEST_BROKER"

// BrokerURL returns the external test broker, or starts an in-process broker
// on a free loopback port that stops when the test ends.
func BrokerURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvBroker); u != "" {
		return u
	}
	b, err := broker.Start("127.0.0.1:0", zerolog.Nop())
	if err != nil {
		t.Fatalf("start embedded broker: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b.URL()
}

// RandomID returns n random bytes in hex.
func RandomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Client returns a connected clean-session client, disconnected when the test ends.
func Client(t testing.TB, url string) *mqttx.Paho {
	t.Helper()
	c, err := mqttx.New(mqttx.Options{
		URL:          url,
		ClientID:     "c2mtest-" + RandomID(6),
		CleanSession: true,
		AckTimeout:   5 * time.Second,
		Log:          zerolog.Nop(),
	})
	if err != nil {
		t.Fatalf("mqtt client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(c.Disconnect)
	return c
}

// Publish sends one message from a fresh client and waits until the broker
// has it (a QoS 1 message is acknowledged before the client disconnects).
func Publish(t testing.TB, url, topic string, qos byte, retained bool, payload []byte) {
	t.Helper()
	c := Client(t, url)
	defer c.Disconnect()
	if err := c.Publish(topic, qos, retained, payload); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	// A round trip through the broker proves the publish was processed.
	r := subscribe(t, c, "c2mtest_sync/"+RandomID(6))
	r.Sync()
}
