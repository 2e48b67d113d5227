package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// renderer produces discovery payloads; discovery.Config is the real one.
type renderer interface {
	DevicePayload(vendor string, d *vendors.Device, o discovery.Override) ([]byte, error)
	BridgePayload(accounts []discovery.Account) ([]byte, error)
	Owns(payload []byte) bool
}

// Bridge connects the adapters to MQTT.
type Bridge struct {
	opts   Options
	topics discovery.Config
	client mqttx.Client
	log    zerolog.Logger
	m      Metrics
	render renderer

	mu        sync.Mutex
	accounts  []*account
	devices   map[devKey]*device
	dirty     []*device
	seq       uint64
	images    map[imageKey][]byte
	sweep     map[string]bool // owned retained config topics seen at start-up
	sweepDone bool
	flags     bridgeFlags
	lastInfo  time.Time
	lastList  time.Time
	listTimer *time.Timer
	parked    []parked
	parkTimer *time.Timer

	out  chan outMsg
	held []outMsg // publisher only: unretained messages waiting for the connection
	wake chan struct{}

	scratch          []byte    // publisher-owned
	batch            []*device // publisher-owned
	works            []work    // publisher-owned
	bridgeConfigHash uint64    // publisher-owned

	started      atomic.Bool
	connects     atomic.Int64
	birthPending atomic.Bool
	startTime    time.Time
	runCtx       context.Context
	dedupe       dedupe
	requests     chan struct{} // semaphore for bridge requests

	loggedUnknown sync.Map // devKey → true: one debug line per unknown device
	drops         atomic.Int64
	dropLog       throttle
}

// throttle lets one log line through per interval.
type throttle struct{ next atomic.Int64 }

func (t *throttle) allow(now time.Time, every time.Duration) bool {
	n := t.next.Load()
	return now.UnixNano() >= n && t.next.CompareAndSwap(n, now.Add(every).UnixNano())
}

type bridgeFlags struct {
	state, config, configForce, info, list bool
	// restate: once the pending configs are out, publish every device's
	// state, availability and lights again (the contract's order after a
	// Home Assistant birth or a reconnect).
	restate bool
}

type imageKey struct {
	dev *device
	key string
}

// outMsg is one queued unretained (or sweep) message.
type outMsg struct {
	topic    string
	payload  []byte
	qos      byte
	retained bool
	kind     string
	// sweep marks the clearing of a stale discovery config; it is checked
	// again against the current devices just before it is sent.
	sweep bool
}

// New builds a bridge on client (not yet connected; give it WillFor's will).
func New(client mqttx.Client, opts Options) *Bridge {
	opts.defaults()
	b := &Bridge{
		opts:     opts,
		topics:   opts.Discovery,
		client:   client,
		log:      opts.Log,
		m:        opts.Metrics,
		render:   opts.Discovery,
		devices:  map[devKey]*device{},
		images:   map[imageKey][]byte{},
		sweep:    map[string]bool{},
		out:      make(chan outMsg, maxQueuedOut),
		wake:     make(chan struct{}, 1),
		requests: make(chan struct{}, 4),
	}
	return b
}

// AddAccount adds a configured vendor account; call it before Run.
func (b *Bridge) AddAccount(vendor, name string, a vendors.Adapter) error {
	if b.started.Load() {
		return errors.New("bridge: AddAccount after Run")
	}
	if vendor == "" || name == "" || a == nil {
		return errors.New("bridge: account needs vendor, name and adapter")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.accounts {
		if x.vendor == vendor && x.name == name {
			return fmt.Errorf("bridge: duplicate account %s/%s", vendor, name)
		}
	}
	b.accounts = append(b.accounts, newAccount(b, vendor, name, a))
	return nil
}

// Run connects to MQTT, runs every adapter and serves commands until ctx
// ends; then it publishes bridge/state offline and disconnects. It returns nil
// after a clean shutdown.
func (b *Bridge) Run(ctx context.Context) error {
	if b.started.Swap(true) {
		return errors.New("bridge: Run called twice")
	}
	b.startTime = b.opts.Now()
	b.runCtx = ctx
	if err := b.subscribe(); err != nil {
		return err
	}
	b.client.OnConnect(b.onConnect)
	b.client.OnConnectionLost(func(error) { b.m.MQTTConnected(false) })
	b.log.Info().Str("base_topic", b.topics.BaseTopic).Msg("connecting to mqtt")
	if err := b.client.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			b.client.Disconnect()
			return nil
		}
		return fmt.Errorf("mqtt connect: %w", err)
	}
	b.m.MQTTConnected(true)

	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	var pubWG sync.WaitGroup
	pubWG.Add(1)
	go func() { defer pubWG.Done(); b.publishLoop(pubCtx) }()

	b.mu.Lock()
	b.flags = bridgeFlags{state: true, config: true, info: true, list: true}
	b.mu.Unlock()
	b.signal()
	b.startSweep()

	var workers sync.WaitGroup
	for _, a := range b.accounts {
		a.startWorkers(ctx, &workers)
	}
	var adapters sync.WaitGroup
	for _, a := range b.accounts {
		adapters.Add(1)
		go func() { defer adapters.Done(); a.run(ctx) }()
	}
	b.log.Info().Int("accounts", len(b.accounts)).Msg("bridge running")

	<-ctx.Done()
	b.log.Info().Msg("bridge stopping")
	if !waitTimeout(&adapters, b.opts.StopTimeout) {
		b.log.Warn().Dur("waited", b.opts.StopTimeout).Msg("adapters did not stop in time")
	}
	if !waitTimeout(&workers, b.opts.StopTimeout) {
		b.log.Warn().Dur("waited", b.opts.StopTimeout).Msg("commands did not finish in time")
	}
	stopPub()
	pubWG.Wait()
	if err := b.client.Publish(b.topics.BridgeTopic("state"), 1, true, []byte("offline")); err != nil {
		b.log.Warn().Err(err).Msg("publish offline failed")
	}
	b.client.Disconnect()
	b.log.Info().Msg("bridge stopped")
	return nil
}

// onConnect runs after every (re)connection, once the subscriptions are made
// again. After a reconnect everything is published again: a broker restarted
// without persistence has lost every retained message.
func (b *Bridge) onConnect() {
	b.m.MQTTConnected(true)
	if b.connects.Add(1) > 1 {
		b.log.Info().Msg("mqtt reconnected; publishing everything again")
		b.republish(everything)
	}
}

// signal wakes the publisher.
func (b *Bridge) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// enqueue marks d for the publisher; b.mu is held.
func (b *Bridge) enqueue(d *device, flags uint8) {
	d.pending |= flags
	if !d.queued {
		d.queued = true
		b.dirty = append(b.dirty, d)
	}
}

// queueOut hands an unretained message to the publisher without blocking;
// a full queue drops it and counts the drop.
func (b *Bridge) queueOut(m outMsg) bool {
	select {
	case b.out <- m:
		return true
	default:
		b.m.PublishDropped(m.kind)
		if n := b.drops.Add(1); b.dropLog.allow(time.Now(), 10*time.Second) {
			b.log.Warn().Str("topic", m.topic).Str("kind", m.kind).Int64("dropped_total", n).Msg("publish queue full; message dropped")
		}
		return false
	}
}

// queueOutWait is queueOut for goroutines that may wait (command workers).
func (b *Bridge) queueOutWait(ctx context.Context, m outMsg) {
	select {
	case b.out <- m:
	case <-ctx.Done():
		b.queueOut(m)
	}
}

// waitTimeout waits for wg at most d; it reports whether wg finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
