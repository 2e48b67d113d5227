package bridge

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// memClient is an mqttx.Client that keeps nothing but counts.
type memClient struct {
	published atomic.Int64
	mu        sync.Mutex
	last      map[string][]byte
	keep      bool
	order     []string // topics in publish order, when keep is set
}

func (m *memClient) Connect(context.Context) error { return nil }
func (m *memClient) Publish(topic string, _ byte, _ bool, payload []byte) error {
	m.published.Add(1)
	if m.keep {
		m.mu.Lock()
		m.last[topic] = payload
		m.order = append(m.order, topic)
		m.mu.Unlock()
	}
	return nil
}
func (m *memClient) Subscribe(string, byte, mqttx.Handler) error { return nil }
func (m *memClient) Unsubscribe(string) error                    { return nil }
func (m *memClient) OnConnect(func())                            {}
func (m *memClient) OnConnectionLost(func(error))                {}
func (m *memClient) Disconnect()                                 {}
func (m *memClient) IsConnected() bool                           { return true }

// benchBridge is a bridge on a memClient with n plugs of one account, driven
// synchronously (no Run: the test calls the sink and the publisher step).
func benchBridge(tb testing.TB, n int) (*Bridge, *account, *memClient) {
	mem := &memClient{last: map[string][]byte{}}
	b := New(mem, Options{Discovery: discovery.Config{BaseTopic: "bench", Prefix: "ha"}, Log: zerolog.Nop()})
	if err := b.AddAccount("fake", "home", newFake()); err != nil {
		tb.Fatal(err)
	}
	a := b.accounts[0]
	devs := make([]vendors.Device, n)
	for i := range devs {
		devs[i] = plug(fmt.Sprintf("dev%05d", i))
	}
	a.Inventory(devs)
	b.step()
	return b, a, mem
}

// BenchmarkUpdate is the hot path: an adapter reports a changed value, the
// publisher renders the device's JSON state and publishes it.
func BenchmarkUpdate(b *testing.B) {
	br, a, mem := benchBridge(b, 1000)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("dev%05d", i)
	}
	values := map[string]any{"switch": "ON", "power": 0.0}
	before := mem.published.Load()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		values["power"] = float64(i)
		a.Update(ids[i%len(ids)], values)
		br.step()
		i++
	}
	if got := mem.published.Load() - before; got != int64(i) {
		b.Fatalf("%d publishes for %d changes", got, i)
	}
}

// BenchmarkUpdateUnchanged: a value that did not change costs no publish.
func BenchmarkUpdateUnchanged(b *testing.B) {
	_, a, mem := benchBridge(b, 1000)
	values := map[string]any{"switch": "ON", "power": 5.0}
	a.Update("dev00001", values)
	before := mem.published.Load()
	b.ReportAllocs()
	for b.Loop() {
		a.Update("dev00001", values)
	}
	if mem.published.Load() != before {
		b.Fatal("published an unchanged state")
	}
}

// TestStateCacheSize keeps the cache of 10 000 devices small.
func TestStateCacheSize(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 10 000 devices")
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	br, a, mem := benchBridge(t, 10000)
	for i := 0; i < 10000; i++ {
		a.Update(fmt.Sprintf("dev%05d", i), map[string]any{"switch": "ON", "power": float64(i), "voltage": 230.1, "energy": 1234.5})
	}
	br.step()
	mem.last = map[string][]byte{}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	perDevice := (int64(m1.HeapAlloc) - int64(m0.HeapAlloc)) / 10000
	t.Logf("heap per device (inventory, 4 values, topics): %d bytes", perDevice)
	if perDevice > 4096 {
		t.Errorf("%d bytes of heap per device", perDevice)
	}
	runtime.KeepAlive(br)
	if mem.published.Load() < 20000 {
		t.Fatalf("published %d", mem.published.Load())
	}
	// Coalescing: 10 changes of one device before the publisher runs are one publish.
	before := mem.published.Load()
	for i := 0; i < 10; i++ {
		a.Update("dev00007", map[string]any{"power": float64(1000 + i)})
	}
	br.step()
	if n := mem.published.Load() - before; n != 1 {
		t.Errorf("%d publishes for 10 coalesced changes", n)
	}
}

// countMetrics records what the bridge reports.
type countMetrics struct {
	nopMetrics
	mu      sync.Mutex
	dropped map[string]int
}

func (c *countMetrics) PublishDropped(kind string) {
	c.mu.Lock()
	c.dropped[kind]++
	c.mu.Unlock()
}

// TestSinkNeverBlocks: with the publisher stalled, events beyond the queue
// are dropped and counted instead of blocking the adapter; images coalesce.
func TestSinkNeverBlocks(t *testing.T) {
	br, a, mem := benchBridge(t, 1)
	cm := &countMetrics{dropped: map[string]int{}}
	br.m = cm
	before := mem.published.Load()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < maxQueuedOut+76; i++ {
			a.Event("dev00000", "button", "press", nil)
		}
		for i := 0; i < 5; i++ {
			a.Image("dev00000", "snapshot", []byte{byte(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("sink blocked")
	}
	if cm.dropped["event"] != 76 {
		t.Errorf("dropped %v", cm.dropped)
	}
	mem.keep = true
	br.step()
	if got := mem.published.Load() - before; got != maxQueuedOut+1 {
		t.Errorf("published %d", got)
	}
	if p := mem.last["bench/fake/dev00000/snapshot"]; len(p) != 1 || p[0] != 4 {
		t.Errorf("latest image %v", p)
	}
}
