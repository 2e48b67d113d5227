package broker_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/broker"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
)

func TestStartServeClose(t *testing.T) {
	b, err := broker.Start("127.0.0.1:0", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(b.Addr()); port == "0" || port == "" {
		t.Fatalf("addr %s", b.Addr())
	}
	c, err := mqttx.New(mqttx.Options{URL: b.URL(), ClientID: "t", CleanSession: true, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	if err := c.Subscribe("a/#", 1, func(m mqttx.Message) { got <- string(m.Payload) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish("a/b", 1, false, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "hi" {
			t.Fatalf("got %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	c.Disconnect()
	_ = b.Close()
	_ = b.Close() // idempotent
	if _, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		t.Error("still listening after Close")
	}
	if _, err := broker.Start("256.0.0.1:1", zerolog.Nop()); err == nil {
		t.Error("bad address accepted")
	}
}
