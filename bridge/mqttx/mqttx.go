// Package mqttx is the bridge's MQTT client: a small interface and its
// implementation on paho.mqtt.golang (the only importer of paho).
package mqttx

import (
	"context"
	"crypto/tls"
	"errors"
	"time"

	"github.com/rs/zerolog"
)

// Message is one received MQTT message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	QoS      byte
	// Duplicate is the DUP flag: the broker may have delivered it before.
	Duplicate bool
}

// Handler receives messages. It runs on the client's receive path, in arrival
// order, so it must not block: it enqueues work and returns.
type Handler func(Message)

// Client is what the bridge needs from MQTT.
type Client interface {
	// Connect connects and returns once the first connection is up (retrying
	// until then) or ctx ends. Subscriptions made before Connect are made on
	// every connection.
	Connect(ctx context.Context) error
	// Publish sends a message. It fails fast with ErrNotConnected while the
	// connection is down; it never waits for a QoS 1 acknowledgement (a
	// bounded window of unacknowledged messages applies back-pressure).
	Publish(topic string, qos byte, retained bool, payload []byte) error
	// Subscribe registers h for filter and subscribes now if connected; the
	// subscription is made again on every reconnect.
	Subscribe(filter string, qos byte, h Handler) error
	// Unsubscribe removes a subscription.
	Unsubscribe(filter string) error
	// OnConnect adds a callback run (in its own goroutine) after each
	// connection is up and every subscription is made again.
	OnConnect(f func())
	// OnConnectionLost adds a callback run when the connection drops.
	OnConnectionLost(f func(error))
	// Disconnect sends DISCONNECT (so the broker does not publish the last
	// will) and stops reconnecting.
	Disconnect()
	// IsConnected reports whether a connection is open now.
	IsConnected() bool
}

// Will is the last will the broker publishes when the connection is lost
// without a DISCONNECT.
type Will struct {
	Topic    string
	Payload  []byte
	Retained bool
	QoS      byte
}

// Options configure the paho client.
type Options struct {
	// URL is tcp://, mqtt://, ssl://, tls://, mqtts://, ws:// or wss:// host:port.
	// User info in the URL is used as username/password when those are empty.
	URL      string
	ClientID string
	Username string
	Password string
	TLS      *tls.Config
	// CleanSession drops the broker-side session on connect. The bridge keeps
	// it false so QoS 1 commands sent while it was away are delivered.
	CleanSession bool

	KeepAlive            time.Duration // default 30s
	WriteTimeout         time.Duration // default 10s
	ConnectTimeout       time.Duration // default 10s
	ConnectRetryInterval time.Duration // default 5s
	MaxReconnectInterval time.Duration // default 30s
	// AckTimeout bounds the wait for a QoS 1 acknowledgement (default 30s).
	AckTimeout time.Duration
	// InFlight bounds unacknowledged QoS 1 publishes (default 256).
	InFlight int

	Will *Will

	OnConnect        func()
	OnConnectionLost func(error)
	// OnPublishError is told of publishes that failed after Publish returned
	// (no acknowledgement in time).
	OnPublishError func(topic string, err error)

	Log zerolog.Logger
}

// ErrNotConnected is returned by Publish while the connection is down.
var ErrNotConnected = errors.New("mqtt: not connected")

// ErrTimeout is returned when the broker did not answer in time.
var ErrTimeout = errors.New("mqtt: timeout")

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.KeepAlive, 30*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.ConnectTimeout, 10*time.Second)
	def(&o.ConnectRetryInterval, 5*time.Second)
	def(&o.MaxReconnectInterval, 30*time.Second)
	def(&o.AckTimeout, 30*time.Second)
	if o.InFlight <= 0 {
		o.InFlight = 256
	}
}
