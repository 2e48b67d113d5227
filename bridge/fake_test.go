package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// fake is an in-test adapter: it reports its devices, records every call and
// can be told to block or fail.
type fake struct {
	devices []vendors.Device

	mu        sync.Mutex
	sink      vendors.Sink
	execs     []vendors.Command
	execErr   error
	block     chan struct{} // Execute waits for it when set
	started   chan vendors.Command
	refreshes []string
	requests  []string
	runs      int
	runErrs   []error // what successive runs return at once (nil: run until cancelled)
	ready     chan struct{}
	readyOnce sync.Once
}

func newFake(devices ...vendors.Device) *fake {
	return &fake{devices: devices, ready: make(chan struct{}), started: make(chan vendors.Command, 100)}
}

func (f *fake) Run(ctx context.Context, sink vendors.Sink) error {
	f.mu.Lock()
	f.sink = sink
	f.runs++
	n := f.runs
	var err error
	if n <= len(f.runErrs) {
		err = f.runErrs[n-1]
	}
	devices := f.devices
	f.mu.Unlock()
	if err != nil && vendors.IsPermanent(err) {
		return err
	}
	sink.Status(vendors.Status{State: vendors.StateConnected})
	sink.Inventory(devices)
	f.readyOnce.Do(func() { close(f.ready) })
	if err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

func (f *fake) Execute(ctx context.Context, cmd vendors.Command) error {
	f.mu.Lock()
	f.execs = append(f.execs, cmd)
	block, err := f.block, f.execErr
	f.mu.Unlock()
	f.started <- cmd
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (f *fake) Refresh(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes = append(f.refreshes, id)
	return nil
}

func (f *fake) Request(_ context.Context, action string, params json.RawMessage) (any, error) {
	f.mu.Lock()
	f.requests = append(f.requests, action)
	f.mu.Unlock()
	if action == "fail" {
		return nil, errors.New("asked to fail")
	}
	return map[string]any{"action": action, "params": params}, nil
}

func (f *fake) Sink(t *testing.T) vendors.Sink {
	t.Helper()
	select {
	case <-f.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("adapter never ran")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sink
}

func (f *fake) Execs() []vendors.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]vendors.Command(nil), f.execs...)
}

func (f *fake) Refreshes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refreshes...)
}

// bare hides the fake's optional interfaces.
type bare struct{ f *fake }

func (b bare) Run(ctx context.Context, s vendors.Sink) error        { return b.f.Run(ctx, s) }
func (b bare) Execute(ctx context.Context, c vendors.Command) error { return b.f.Execute(ctx, c) }

func plug(id string) vendors.Device {
	return vendors.Device{ID: id, Name: "Plug " + id, Manufacturer: "Acme", Model: "P1", Entities: []vendors.Entity{
		{Key: "switch", Platform: vendors.Switch, Writable: true},
		{Key: "power", Platform: vendors.Sensor, Name: "Power", DeviceClass: "power", Unit: "W", StateClass: "measurement"},
	}}
}

// kitchen has an entity of every writable platform.
func kitchen(id string) vendors.Device {
	return vendors.Device{ID: id, Name: "Kitchen " + id, Entities: []vendors.Entity{
		{Key: "switch", Platform: vendors.Switch, Writable: true},
		{Key: "light", Platform: vendors.Light, Name: "Light", Writable: true, Light: &vendors.LightSpec{
			ColorModes: []string{"color_temp", "rgb"}, MinKelvin: 2700, MaxKelvin: 6500, Effects: []string{"rainbow"}}},
		{Key: "dimmer", Platform: vendors.Light, Name: "Dimmer", Writable: true, Light: &vendors.LightSpec{ColorModes: []string{"brightness"}}},
		{Key: "blind", Platform: vendors.Cover, Name: "Blind", Writable: true, Cover: &vendors.CoverSpec{PositionKey: "position", TiltKey: "tilt", CanStop: true}},
		{Key: "gate", Platform: vendors.Cover, Name: "Gate", Writable: true, Cover: &vendors.CoverSpec{}},
		{Key: "fan", Platform: vendors.Fan, Name: "Fan", Writable: true, Fan: &vendors.FanSpec{PercentageKey: "fan_speed", PresetKey: "fan_mode", PresetModes: []string{"auto", "sleep"}}},
		{Key: "target", Platform: vendors.Number, Name: "Target", Writable: true, HasRange: true, Min: 5, Max: 30, Step: 0.5},
		{Key: "mode", Platform: vendors.Select, Name: "Mode", Writable: true, Options: []string{"eco", "comfort"}},
		{Key: "restart", Platform: vendors.Button, Name: "Restart", Writable: true},
		{Key: "alarm", Platform: vendors.AlarmControlPanel, Name: "Alarm", Writable: true, Options: []string{"ARM_AWAY", "DISARM"}},
		{Key: "firmware", Platform: vendors.Update, Name: "Firmware", Writable: true},
		{Key: "temperature", Platform: vendors.Sensor, Name: "Temperature", DeviceClass: "temperature", Unit: "°C", StateClass: "measurement"},
		{Key: "door", Platform: vendors.BinarySensor, Name: "Door", DeviceClass: "door"},
		{Key: "ring", Platform: vendors.Event, Name: "Ring", Options: []string{"press"}},
		{Key: "snapshot", Platform: vendors.Camera, Name: "Snapshot"},
	}}
}

// harness runs a bridge against the test broker with topics of its own.
type harness struct {
	t        *testing.T
	url      string // the broker
	connURL  string // where the bridge connects (the broker or a proxy)
	cfg      discovery.Config
	clientID string
	accounts []struct {
		vendor, name string
		a            vendors.Adapter
	}
	b      *Bridge
	client *mqttx.Paho
	rec    *bridgetest.Recorder // <base>/#
	ha     *bridgetest.Recorder // <prefix>/#
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	url := bridgetest.BrokerURL(t)
	base, prefix := bridgetest.Topics(t, url)
	h := &harness{
		t: t, url: url, connURL: url,
		cfg:      discovery.Config{BaseTopic: base, Prefix: prefix, Version: "test"},
		clientID: "c2mtest-bridge-" + bridgetest.RandomID(6),
	}
	t.Cleanup(func() { dropSession(t, url, h.clientID) })
	return h
}

// dropSession removes the bridge's persistent session from a shared broker.
func dropSession(t *testing.T, url, id string) {
	c, err := mqttx.New(mqttx.Options{URL: url, ClientID: id, CleanSession: true, Log: zerolog.Nop()})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c.Connect(ctx) == nil {
		c.Disconnect()
	}
}

func (h *harness) add(vendor, name string, a vendors.Adapter) {
	h.accounts = append(h.accounts, struct {
		vendor, name string
		a            vendors.Adapter
	}{vendor, name, a})
}

func (h *harness) topic(vendor, id string, rest ...string) string {
	t := h.cfg.DeviceTopic(vendor, id)
	for _, r := range rest {
		t += "/" + r
	}
	return t
}

func testOptions(h *harness) Options {
	return Options{
		Discovery:      h.cfg,
		Version:        "test",
		Commit:         "abc123",
		Log:            zerolog.New(zerolog.NewTestWriter(h.t)).Level(zerolog.WarnLevel),
		BirthDelay:     50 * time.Millisecond,
		SweepWait:      300 * time.Millisecond,
		ListInterval:   20 * time.Millisecond,
		CommandTimeout: 5 * time.Second,
		StopTimeout:    5 * time.Second,
	}
}

// start runs the bridge and waits until bridge/state is online.
func (h *harness) start(mod func(*Options)) {
	h.t.Helper()
	if h.rec == nil {
		h.rec = bridgetest.Subscribe(h.t, h.url, h.cfg.BaseTopic+"/#")
		h.ha = bridgetest.Subscribe(h.t, h.url, h.cfg.Prefix+"/#")
	}
	opts := testOptions(h)
	if mod != nil {
		mod(&opts)
	}
	client, err := mqttx.New(mqttx.Options{
		URL: h.connURL, ClientID: h.clientID, Will: WillFor(h.cfg),
		KeepAlive: 2 * time.Second, ConnectRetryInterval: 100 * time.Millisecond,
		MaxReconnectInterval: 300 * time.Millisecond, AckTimeout: 5 * time.Second,
		Log: zerolog.Nop(),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.client = client
	h.b = New(client, opts)
	for _, a := range h.accounts {
		if err := h.b.AddAccount(a.vendor, a.name, a.a); err != nil {
			h.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.b.Run(ctx) }()
	h.t.Cleanup(h.stop)
	h.rec.WaitPayload(h.cfg.BridgeTopic("state"), "online", 10*time.Second)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		h.t.Error("Run did not return")
	}
}

// publish sends a command from another client.
func (h *harness) publish(topic string, payload string, retained bool) {
	h.t.Helper()
	bridgetest.Publish(h.t, h.url, topic, 1, retained, []byte(payload))
}

// resultN waits for the n-th (1-based) result on a device and decodes it.
func (h *harness) resultN(vendor, id string, n int) map[string]any {
	h.t.Helper()
	topic := h.topic(vendor, id, "result")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if on := h.rec.On(topic); len(on) >= n {
			return decode(h.t, on[n-1].Payload)
		}
		h.rec.WaitOK(topic, func(mqttx.Message) bool { return len(h.rec.On(topic)) >= n }, 100*time.Millisecond)
	}
	h.t.Fatalf("no result #%d on %s (have %d)", n, topic, len(h.rec.On(topic)))
	return nil
}

// waitJSON waits for a message on topic whose JSON satisfies pred.
func (h *harness) waitJSON(r *bridgetest.Recorder, topic string, pred func(map[string]any) bool) map[string]any {
	h.t.Helper()
	m := r.Wait(topic, func(m mqttx.Message) bool {
		var v map[string]any
		return json.Unmarshal(m.Payload, &v) == nil && pred(v)
	}, 10*time.Second)
	return decode(h.t, m.Payload)
}

func decode(t *testing.T, p []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(p, &v); err != nil {
		t.Fatalf("not JSON: %q: %v", p, err)
	}
	return v
}

func discoveryOverride(name string) discovery.Override { return discovery.Override{Name: name} }
