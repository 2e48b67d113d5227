package shelly

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// publisher hands what the fleet learns to the sink in the right order: a
// device whose entities changed is held back until the (debounced) inventory
// has gone out, so the bridge always knows an entity before its value. All
// sink calls happen under one lock, so they keep their order.
type publisher struct {
	mu    sync.Mutex
	sink  vendors.Sink
	fleet *fleet
	store vendors.Store
	log   zerolog.Logger
	delay time.Duration
	// settle bounds how long the first inventory waits for devices not yet
	// seen (their servers still connecting), so it goes out whole rather
	// than server by server.
	settle time.Duration
	dirty  bool
	held   map[string]*held
	kick   chan struct{}
}

type held struct {
	vals   map[string]any
	online *bool
}

func newPublisher(sink vendors.Sink, f *fleet, store vendors.Store, log zerolog.Logger, delay time.Duration) *publisher {
	return &publisher{sink: sink, fleet: f, store: store, log: log, delay: delay, settle: initialSettle, held: map[string]*held{}, kick: make(chan struct{}, 1)}
}

func (p *publisher) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// update publishes changed values; invChanged says the device's entities
// (or the device list) changed.
func (p *publisher) update(id string, vals map[string]any, invChanged bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.held[id]
	if invChanged || h != nil {
		if h == nil {
			h = &held{vals: map[string]any{}}
			p.held[id] = h
		}
		for k, v := range vals {
			h.vals[k] = v
		}
		if invChanged {
			p.dirty = true
			p.wake()
		}
		return
	}
	if len(vals) > 0 {
		p.sink.Update(id, vals)
	}
}

// availability publishes a device's online flag.
func (p *publisher) availability(id string, online bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h := p.held[id]; h != nil {
		h.online = &online
		return
	}
	p.sink.Availability(id, online)
}

// changed marks the device list changed (a device added or removed).
func (p *publisher) changed(removed string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if removed != "" {
		delete(p.held, removed)
	}
	p.dirty = true
	p.wake()
}

// flush sends the inventory and everything held back.
func (p *publisher) flush() {
	p.mu.Lock()
	p.sink.Inventory(p.fleet.inventory())
	for id, h := range p.held {
		if len(h.vals) > 0 {
			p.sink.Update(id, h.vals)
		}
		if h.online != nil {
			p.sink.Availability(id, *h.online)
		}
	}
	p.held = map[string]*held{}
	p.dirty = false
	p.mu.Unlock()
}

// save writes the device snapshot if it changed and returns how long it
// took. The snapshot is a cache (the cloud re-sends every status), so it is
// written by run at most every saveEvery and on shutdown, not on every flush:
// a crash loses at most the shapes learnt since the last save.
func (p *publisher) save() time.Duration {
	start := time.Now()
	if err := p.fleet.save(p.store); err != nil {
		p.log.Warn().Err(err).Msg("cannot save device shapes")
	}
	return time.Since(start)
}

// saveEvery is the shortest gap between two device snapshot writes; a slow
// write (a large fleet) stretches it so saving stays under ~10 % of a core.
const saveEvery = time.Second

// initialSettle: how long the first inventory may wait for unseen devices.
const initialSettle = 3 * time.Second

// run sends the first inventory once every known device was seen (or settle
// has passed), then flushes changes after delay.
func (p *publisher) run(ctx context.Context) {
	settled := time.Now().Add(p.settle)
	first := true
	var saveT *time.Timer
	var saveC <-chan time.Time
	gap := saveEvery
	armSave := func() {
		if saveC == nil {
			saveT = time.NewTimer(gap)
			saveC = saveT.C
		}
	}
	defer func() {
		if saveT != nil {
			saveT.Stop()
		}
		p.save()
	}()
	if p.fleet.unseen() == 0 && !p.fleet.pending() {
		p.flush()
		armSave()
		first = false
	}
	var timer *time.Timer
	var fire <-chan time.Time
	if first {
		timer = time.NewTimer(p.delay)
		fire = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-saveC:
			saveC = nil
			gap = max(saveEvery, 10*p.save())
		case <-p.kick:
			if fire == nil {
				timer = time.NewTimer(p.delay)
				fire = timer.C
			}
		case <-fire:
			fire = nil
			p.mu.Lock()
			dirty := p.dirty
			p.mu.Unlock()
			if first && p.fleet.unseen() > 0 && time.Now().Before(settled) {
				timer = time.NewTimer(p.delay)
				fire = timer.C
				continue
			}
			if dirty || (first && !p.fleet.pending()) {
				p.flush()
				armSave()
				first = false
			}
		}
	}
}
