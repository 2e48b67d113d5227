package mqttx_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+/set", "a/x/set", true},
		{"a/+/+/set", "a/v/id/set", true},
		{"a/+/+/set", "a/v/id/set/k", false},
		{"a/+/+/set/+", "a/v/id/set/k", true},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"#", "a/b", true},
		{"#", "$SYS/x", false},
		{"+/b", "/b", true},
		{"a/b", "a/b/", false},
		{"a/b/", "a/b/", true},
		{"a/+", "a/", true},
	}
	for _, c := range cases {
		if got := mqttx.Match(c.filter, c.topic); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func newClient(t *testing.T, url, id string, clean bool, will *mqttx.Will) *mqttx.Paho {
	t.Helper()
	c, err := mqttx.New(mqttx.Options{
		URL: url, ClientID: id, CleanSession: clean, Will: will,
		KeepAlive: 2 * time.Second, ConnectRetryInterval: 100 * time.Millisecond,
		MaxReconnectInterval: 500 * time.Millisecond, AckTimeout: 5 * time.Second,
		Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dropSession removes a persistent session from a shared broker.
func dropSession(t *testing.T, url, id string) {
	c := newClient(t, url, id, true, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err == nil {
		c.Disconnect()
	}
}

func connect(t *testing.T, c mqttx.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Disconnect)
}

type inbox struct {
	mu   sync.Mutex
	msgs []mqttx.Message
	ch   chan mqttx.Message
}

func newInbox() *inbox { return &inbox{ch: make(chan mqttx.Message, 100)} }

func (i *inbox) handle(m mqttx.Message) {
	i.mu.Lock()
	i.msgs = append(i.msgs, m)
	i.mu.Unlock()
	i.ch <- m
}

func (i *inbox) next(t *testing.T) mqttx.Message {
	t.Helper()
	select {
	case m := <-i.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message")
		return mqttx.Message{}
	}
}

func TestPublishSubscribe(t *testing.T) {
	t.Parallel()
	url := bridgetest.BrokerURL(t)
	base, _ := bridgetest.Topics(t, url)
	c := newClient(t, url, "c2mtest-"+bridgetest.RandomID(6), true, nil)
	in := newInbox()
	if err := c.Subscribe(base+"/+/set", 1, in.handle); err != nil {
		t.Fatal(err)
	}
	connect(t, c)
	if err := c.Publish(base+"/dev/set", 1, false, []byte("ON")); err != nil {
		t.Fatal(err)
	}
	m := in.next(t)
	if m.Topic != base+"/dev/set" || string(m.Payload) != "ON" || m.Retained || m.QoS != 1 {
		t.Fatalf("got %+v", m)
	}
	// A retained message reaches a new subscription flagged retained.
	if err := c.Publish(base+"/r", 1, true, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	in2 := newInbox()
	if err := c.Subscribe(base+"/r", 1, in2.handle); err != nil {
		t.Fatal(err)
	}
	if m := in2.next(t); !m.Retained || string(m.Payload) != "kept" {
		t.Fatalf("retained: %+v", m)
	}
	if err := c.Unsubscribe(base + "/+/set"); err != nil {
		t.Fatal(err)
	}
}

func TestPublishWhileDisconnected(t *testing.T) {
	c := newClient(t, "tcp://127.0.0.1:1", "c2mtest-x", true, nil)
	if err := c.Publish("a", 0, false, nil); !errors.Is(err, mqttx.ErrNotConnected) {
		t.Fatalf("got %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Connect(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect to nothing: %v", err)
	}
	c.Disconnect()
}

func TestURLs(t *testing.T) {
	for _, u := range []string{"http://x:1", "tcp://", "::bad"} {
		if _, err := mqttx.New(mqttx.Options{URL: u, ClientID: "x"}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	_, err := mqttx.New(mqttx.Options{URL: "tcp://user:s3cret@host:1883", ClientID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mqttx.New(mqttx.Options{URL: "tcp://user:s3cret@host:1883%zz", ClientID: "x"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad URL error leaks or passes: %v", err)
	}
	if _, err := mqttx.New(mqttx.Options{URL: "tcp://h:1"}); err == nil {
		t.Error("empty client id accepted")
	}
}

// TestReconnectPersistentSessionAndWill cuts the network under a persistent
// client: the broker publishes the will, a QoS 1 message sent meanwhile is
// delivered exactly once after the automatic reconnect, and the
// subscriptions are made again.
func TestReconnectPersistentSessionAndWill(t *testing.T) {
	t.Parallel()
	url := bridgetest.BrokerURL(t)
	base, _ := bridgetest.Topics(t, url)
	proxy := bridgetest.NewProxy(t, url)
	id := "c2mtest-" + bridgetest.RandomID(6)
	t.Cleanup(func() { dropSession(t, url, id) })

	watch := bridgetest.Subscribe(t, url, base+"/#")
	c := newClient(t, proxy.URL(), id, false, &mqttx.Will{Topic: base + "/state", Payload: []byte("offline"), Retained: true, QoS: 1})
	in := newInbox()
	var connects, losses atomic.Int32
	lost := make(chan struct{}, 10)
	c.OnConnect(func() { connects.Add(1) })
	c.OnConnectionLost(func(error) { losses.Add(1); lost <- struct{}{} })
	if err := c.Subscribe(base+"/cmd", 1, in.handle); err != nil {
		t.Fatal(err)
	}
	connect(t, c)
	if err := c.Publish(base+"/state", 1, true, []byte("online")); err != nil {
		t.Fatal(err)
	}
	watch.WaitPayload(base+"/state", "online", 5*time.Second)

	proxy.Cut()
	watch.WaitPayload(base+"/state", "offline", 10*time.Second)
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("connection loss not noticed")
	}
	bridgetest.Publish(t, url, base+"/cmd", 1, false, []byte("while-away"))
	if c.IsConnected() {
		t.Fatal("connected through a cut proxy")
	}
	proxy.Restore()

	m := in.next(t)
	if string(m.Payload) != "while-away" {
		t.Fatalf("got %q", m.Payload)
	}
	// The subscription works on the new connection too.
	bridgetest.Publish(t, url, base+"/cmd", 1, false, []byte("after"))
	if m := in.next(t); string(m.Payload) != "after" {
		t.Fatalf("got %q", m.Payload)
	}
	select {
	case m := <-in.ch:
		t.Fatalf("delivered again: %q", m.Payload)
	case <-time.After(300 * time.Millisecond):
	}
	if connects.Load() < 2 || losses.Load() < 1 {
		t.Fatalf("connects %d losses %d", connects.Load(), losses.Load())
	}
}

// TestPersistentSessionAcrossRestart: a QoS 1 message sent while the client
// was gone reaches a new process with the same client id.
func TestPersistentSessionAcrossRestart(t *testing.T) {
	t.Parallel()
	url := bridgetest.BrokerURL(t)
	base, _ := bridgetest.Topics(t, url)
	id := "c2mtest-" + bridgetest.RandomID(6)
	t.Cleanup(func() { dropSession(t, url, id) })

	first := newClient(t, url, id, false, nil)
	if err := first.Subscribe(base+"/cmd", 1, func(mqttx.Message) {}); err != nil {
		t.Fatal(err)
	}
	connect(t, first)
	first.Disconnect()

	bridgetest.Publish(t, url, base+"/cmd", 1, false, []byte("queued"))

	second := newClient(t, url, id, false, nil)
	in := newInbox()
	if err := second.Subscribe(base+"/cmd", 1, in.handle); err != nil {
		t.Fatal(err)
	}
	connect(t, second)
	if m := in.next(t); string(m.Payload) != "queued" {
		t.Fatalf("got %q", m.Payload)
	}
}

func TestLoadTLS(t *testing.T) {
	if _, err := mqttx.LoadTLS(mqttx.TLSFiles{CAFile: "/nonexistent"}); err == nil {
		t.Error("missing CA accepted")
	}
	if _, err := mqttx.LoadTLS(mqttx.TLSFiles{CertFile: "x"}); err == nil {
		t.Error("cert without key accepted")
	}
	cfg, err := mqttx.LoadTLS(mqttx.TLSFiles{Insecure: true})
	if err != nil || !cfg.InsecureSkipVerify {
		t.Fatal(cfg, err)
	}
}
