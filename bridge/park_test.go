package bridge

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// TestCommandsWaitForFirstInventory: a command that arrives before the
// adapters reported their devices (a persistent session delivers queued
// commands right after connecting) is held until the inventory comes, and
// answered UNKNOWN_DEVICE only if the device does not appear in time.
func TestCommandsWaitForFirstInventory(t *testing.T) {
	mem := &memClient{last: map[string][]byte{}, keep: true}
	b := New(mem, Options{Discovery: discovery.Config{BaseTopic: "t", Prefix: "ha"}, Log: zerolog.Nop(), CommandTimeout: 200 * time.Millisecond})
	f := newFake()
	if err := b.AddAccount("fake", "home", f); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.runCtx = ctx
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	b.accounts[0].startWorkers(ctx, &wg)

	b.onCommand(mqttx.Message{Topic: "t/fake/p1/set/switch", Payload: []byte("ON"), QoS: 1})
	b.onCommand(mqttx.Message{Topic: "t/fake/never/set/switch", Payload: []byte("ON"), QoS: 1})
	b.step()
	if len(mem.last) != 0 {
		t.Fatalf("answered before the inventory: %v", mem.last)
	}
	b.accounts[0].Inventory([]vendors.Device{plug("p1")})
	select {
	case cmd := <-f.started:
		if cmd.DeviceID != "p1" || cmd.Value != true {
			t.Fatalf("executed %+v", cmd)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("parked command not executed")
	}
	// Every account has reported: the unknown one is answered at once.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.step()
		mem.mu.Lock()
		p1, never := mem.last["t/fake/p1/result"], mem.last["t/fake/never/result"]
		mem.mu.Unlock()
		if p1 != nil && never != nil {
			var r1, r2 map[string]any
			_ = json.Unmarshal(p1, &r1)
			_ = json.Unmarshal(never, &r2)
			if r1["status"] != "ok" || r2["error"] != vendors.CodeUnknownDevice {
				t.Fatalf("results %v %v", r1, r2)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no results")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestParkedCommandsTimeOut: without any inventory, parked commands are
// answered after CommandTimeout.
func TestParkedCommandsTimeOut(t *testing.T) {
	mem := &memClient{last: map[string][]byte{}, keep: true}
	b := New(mem, Options{Discovery: discovery.Config{BaseTopic: "t", Prefix: "ha"}, Log: zerolog.Nop(), CommandTimeout: 50 * time.Millisecond})
	if err := b.AddAccount("fake", "home", newFake()); err != nil {
		t.Fatal(err)
	}
	b.runCtx = context.Background()
	b.onCommand(mqttx.Message{Topic: "t/fake/p1/set", Payload: []byte(`{"switch":"ON","transaction":"z"}`), QoS: 1})
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.step()
		mem.mu.Lock()
		p := mem.last["t/fake/p1/result"]
		mem.mu.Unlock()
		if p != nil {
			var r map[string]any
			_ = json.Unmarshal(p, &r)
			if r["error"] != vendors.CodeUnknownDevice || r["transaction"] != "z" {
				t.Fatalf("result %v", r)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("parked command never answered")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
