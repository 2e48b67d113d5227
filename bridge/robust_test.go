package bridge

import (
	"context"
	"encoding/json"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// memBridge is a bridge on a memClient with running command workers.
func memBridge(t *testing.T, vendor string, a vendors.Adapter) (*Bridge, *memClient) {
	t.Helper()
	mem := &memClient{last: map[string][]byte{}, keep: true}
	b := New(mem, Options{Discovery: discovery.Config{BaseTopic: "t", Prefix: "ha"}, Log: zerolog.Nop(), CommandTimeout: time.Second})
	if err := b.AddAccount(vendor, "home", a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.runCtx = ctx
	var wg sync.WaitGroup
	b.accounts[0].startWorkers(ctx, &wg)
	t.Cleanup(func() { cancel(); wg.Wait() })
	return b, mem
}

// waitPublished steps the publisher until topic has a message.
func waitPublished(t *testing.T, b *Bridge, mem *memClient, topic string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.step()
		mem.mu.Lock()
		p, ok := mem.last[topic]
		mem.mu.Unlock()
		if ok {
			var v map[string]any
			_ = json.Unmarshal(p, &v)
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing on %s", topic)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

type panicky struct{ *fake }

func (p *panicky) Execute(context.Context, vendors.Command) error { panic("boom") }

func TestAdapterPanicBecomesResult(t *testing.T) {
	p := &panicky{newFake()}
	b, mem := memBridge(t, "fake", p)
	b.accounts[0].Inventory([]vendors.Device{plug("p1")})
	b.onCommand(mqttx.Message{Topic: "t/fake/p1/set/switch", Payload: []byte("ON")})
	r := waitPublished(t, b, mem, "t/fake/p1/result")
	if r["error"] != vendors.CodeInternal {
		t.Fatalf("result %v", r)
	}
}

type panicRun struct {
	*fake
	mu   sync.Mutex
	runs int
}

func (p *panicRun) Run(ctx context.Context, s vendors.Sink) error {
	p.mu.Lock()
	p.runs++
	n := p.runs
	p.mu.Unlock()
	if n == 1 {
		panic("first run explodes")
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestAdapterRunPanicIsRestarted(t *testing.T) {
	p := &panicRun{fake: newFake()}
	b, _ := memBridge(t, "fake", p)
	b.opts.RestartBackoff = vendorsBackoff()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.accounts[0].run(ctx); close(done) }()
	eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.runs >= 2
	})
	cancel()
	<-done
	if b.Info().Accounts[0].Status != "backoff" {
		t.Errorf("status %v", b.Info().Accounts[0])
	}
}

func TestDuplicateDeliveryRunsOnce(t *testing.T) {
	f := newFake(plug("p1"))
	b, _ := memBridge(t, "fake", f)
	b.accounts[0].Inventory(f.devices)
	m := mqttx.Message{Topic: "t/fake/p1/set/switch", Payload: []byte("ON"), QoS: 1}
	b.onCommand(m)
	m.Duplicate = true
	b.onCommand(m) // the broker never got our PUBACK and sent it again
	<-f.started
	select {
	case c := <-f.started:
		t.Fatalf("executed twice: %+v", c)
	case <-time.After(100 * time.Millisecond):
	}
	// A new command with the same payload (no DUP flag) is a new command.
	m.Duplicate = false
	b.onCommand(m)
	<-f.started
}

func TestUnrenderableDeviceStillPublishesState(t *testing.T) {
	f := newFake(plug("p1"))
	b, mem := memBridge(t, "Bad-Vendor", f) // discovery refuses such vendor names
	a := b.accounts[0]
	a.Inventory(f.devices)
	a.Update("p1", map[string]any{"switch": "ON"})
	st := waitPublished(t, b, mem, "t/Bad-Vendor/p1")
	if st["switch"] != "ON" {
		t.Errorf("state %v", st)
	}
	if _, ok := mem.last["ha/device/t_Bad-Vendor_p1/config"]; ok {
		t.Error("config published")
	}
}

func TestRoutesAndDeviceValues(t *testing.T) {
	f := newFake(plug("p1"))
	b, _ := memBridge(t, "fake", routed{f})
	b.accounts[0].Inventory(f.devices)
	b.accounts[0].Update("p1", map[string]any{"switch": "ON", "power": 7.5})
	if r := b.Routes(); len(r) != 1 || r[0].Path != "/fake/home/hook" {
		t.Errorf("routes %v", r)
	}
	var got []string
	b.DeviceValues(func(v, d, k string, x float64) { got = append(got, v+"/"+d+"/"+k) })
	if len(got) != 1 || got[0] != "fake/p1/power" {
		t.Errorf("values %v", got)
	}
	if c := DefaultClientID(discovery.Config{}); c != "cloud2mqtt-cloud2mqtt" {
		t.Errorf("client id %q", c)
	}
	if w := WillFor(discovery.Config{BaseTopic: "x"}); w.Topic != "x/bridge/state" || string(w.Payload) != "offline" || !w.Retained {
		t.Errorf("will %+v", w)
	}
}

type routed struct{ *fake }

func (routed) Routes() []vendors.Route {
	return []vendors.Route{{Path: "/fake/home/hook", Handler: http.NotFoundHandler()}}
}

func vendorsBackoff() vendorkit.Backoff {
	return vendorkit.Backoff{Base: time.Millisecond, Max: 5 * time.Millisecond, Floor: time.Millisecond}
}

// TestResultDuringOutageIsDelivered: a command that finishes while the
// connection to the broker is down is still answered once it is back.
func TestResultDuringOutageIsDelivered(t *testing.T) {
	h := newHarness(t)
	proxy := bridgetest.NewProxy(t, h.url)
	h.connURL = proxy.URL()
	f := newFake(plug("p1"))
	f.block = make(chan struct{})
	h.add("fake", "home", f)
	h.start(nil)
	<-f.ready
	h.publish(h.topic("fake", "p1", "set", "switch"), "ON", false)
	select {
	case <-f.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not reach the adapter")
	}
	proxy.Cut()
	deadline := time.Now().Add(5 * time.Second)
	for h.client.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(f.block) // the command finishes while the bridge is disconnected
	time.Sleep(200 * time.Millisecond)
	proxy.Restore()
	if r := h.resultN("fake", "p1", 1); r["status"] != "ok" {
		t.Errorf("result = %v", r)
	}
}
