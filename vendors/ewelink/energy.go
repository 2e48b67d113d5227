package ewelink

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// The cloud has no lifetime energy counter for most meters, only histories
// of daily (or hourly) consumption, newest first (reference §9.3). The
// adapter keeps its own lifetime counter per channel: it adds what each new
// history shows beyond the last one it saw, recognising a period rollover by
// the closed periods moving one place back. The counter is persisted, so it
// never goes backwards across restarts, and Home Assistant gets a true
// total_increasing sensor.

// historyKind is one history format.
type historyKind int

const (
	// hundredDays: uiid 5/32/182 hundredDaysKwhData, 6 chars per day.
	hundredDays historyKind = iota
	// dualR3: uiid 126/130 kwhHistories_0N, 4 chars per day.
	dualR3
	// hourly: uiid 190 hoursKwhData, 3 chars per hour.
	hourly
)

// keepHistory bounds the history stored per counter; enough overlap to
// recognise a rollover after a long outage.
const keepHistory = 64

// decodeHistory parses a history string into hundredths of kWh, newest first.
func decodeHistory(kind historyKind, s string) ([]int, error) {
	size := map[historyKind]int{hundredDays: 6, dualR3: 4, hourly: 3}[kind]
	if len(s) < size || len(s) > 1<<16 {
		return nil, fmt.Errorf("energy history of %d chars", len(s))
	}
	out := make([]int, 0, len(s)/size)
	for i := 0; i+size <= len(s); i += size {
		c := s[i : i+size]
		var v int
		switch kind {
		case hundredDays:
			// kWh = hex(c[0:2]) + c[3]×0.1 + c[5]×0.01
			hi, err1 := strconv.ParseUint(c[0:2], 16, 8)
			d1, err2 := digit(c[3])
			d2, err3 := digit(c[5])
			if err1 != nil || err2 != nil || err3 != nil {
				return nil, fmt.Errorf("energy history: bad day %q", c)
			}
			v = int(hi)*100 + d1*10 + d2
		case dualR3:
			// kWh = hex(c[0:2]) + dec(c[2:4])×0.01
			hi, err1 := strconv.ParseUint(c[0:2], 16, 8)
			lo, err2 := strconv.ParseUint(c[2:4], 10, 8)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("energy history: bad day %q", c)
			}
			v = int(hi)*100 + int(lo)
		case hourly:
			// kWh = hex(c[0]) + dec(c[1:3])×0.01
			hi, err1 := strconv.ParseUint(c[0:1], 16, 8)
			lo, err2 := strconv.ParseUint(c[1:3], 10, 8)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("energy history: bad hour %q", c)
			}
			v = int(hi)*100 + int(lo)
		}
		out = append(out, v)
	}
	return out, nil
}

func digit(c byte) (int, error) {
	if c < '0' || c > '9' {
		return 0, fmt.Errorf("not a digit")
	}
	return int(c - '0'), nil
}

// advance returns how much energy cur shows beyond old (both newest first):
// it finds how many periods passed (the shift s at which the closed periods
// of old reappear in cur), then adds what the old current period gained
// before it closed plus everything of the periods since. A current period
// that went down with an ambiguous match counts as a rollover.
func advance(old, cur []int) int64 {
	if len(cur) == 0 {
		return 0
	}
	if len(old) == 0 {
		var sum int64
		for _, v := range cur {
			sum += int64(v)
		}
		return sum
	}
	matches := func(s int) bool {
		n := 0
		for i := 1; i < len(old) && s+i < len(cur); i++ {
			if cur[s+i] != old[i] {
				return false
			}
			n++
		}
		return n > 0 || s == 0
	}
	shift := -1
	for s := 0; s < len(cur); s++ {
		if matches(s) {
			shift = s
			break
		}
	}
	if shift == 0 && cur[0] < old[0] && len(cur) > 1 && matches(1) {
		shift = 1
	}
	if shift < 0 {
		shift = 0 // the cloud rewrote its history; count only today's growth
	}
	var added int64
	if shift < len(cur) {
		added += int64(max(0, cur[shift]-old[0]))
	}
	for i := 0; i < shift && i < len(cur); i++ {
		added += int64(cur[i])
	}
	return added
}

type energyCounter struct {
	// Total is the lifetime counter in hundredths of kWh.
	Total int64 `json:"total"`
	// Hist is the last history seen, newest first.
	Hist []int `json:"hist"`
}

// energyBook keeps every lifetime counter of an account, persisted.
type energyBook struct {
	mu     sync.Mutex
	c      map[string]*energyCounter
	store  vendors.Store
	log    zerolog.Logger
	loaded bool
	// dirty counters are written at most every energySaveEvery: the file
	// holds every counter of the account, and a write per device's first
	// report made onboarding quadratic. A write that comes late loses
	// nothing: each saved counter is its history and its total together, and
	// the next history adds what the saved one had not seen.
	dirty bool
	saved time.Time
}

const (
	energyStoreName = "energy"
	energySaveEvery = time.Second
)

func (b *energyBook) load() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.loaded {
		return
	}
	b.loaded = true
	b.c = map[string]*energyCounter{}
	if b.store == nil {
		return
	}
	if _, err := b.store.Load(energyStoreName, &b.c); err != nil {
		b.log.Warn().Err(err).Msg("energy counters unreadable; starting from the cloud's history")
		b.c = map[string]*energyCounter{}
	}
	if b.c == nil {
		b.c = map[string]*energyCounter{}
	}
}

func counterKey(id string, ch int) string { return id + "/" + strconv.Itoa(ch) }

// feed adds a history sample and reports whether the total changed.
func (b *energyBook) feed(id string, ch int, hist []int) bool {
	b.load()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := counterKey(id, ch)
	c := b.c[k]
	if c == nil {
		c = &energyCounter{}
		b.c[k] = c
	}
	added := advance(c.Hist, hist)
	if len(hist) > keepHistory {
		hist = hist[:keepHistory]
	}
	changedHist := !equalInts(c.Hist, hist)
	c.Hist = append([]int(nil), hist...)
	c.Total += added
	if added > 0 || changedHist {
		b.dirty = true
		if time.Since(b.saved) >= energySaveEvery {
			b.saveLocked()
		}
	}
	return added > 0
}

// flush writes counters that changed since the last write.
func (b *energyBook) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dirty {
		b.saveLocked()
	}
}

func (b *energyBook) saveLocked() {
	b.saved = time.Now()
	if b.store == nil {
		b.dirty = false
		return
	}
	if err := b.store.Save(energyStoreName, b.c); err != nil {
		b.log.Warn().Err(err).Msg("saving energy counters failed")
		return
	}
	b.dirty = false
}

// total is the lifetime counter in kWh.
func (b *energyBook) total(id string, ch int) (float64, bool) {
	b.load()
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.c[counterKey(id, ch)]
	if !ok {
		return 0, false
	}
	return float64(c.Total) / 100, true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// energy exposes lifetime counters fed by a history param. channels 0 is
// one counter "energy"; n gives energy_1…energy_n.
type energy struct {
	kind     historyKind
	channels int
}

func (f energy) param(ch int) string {
	switch f.kind {
	case dualR3:
		return fmt.Sprintf("kwhHistories_%02d", ch)
	case hourly:
		return "hoursKwhData"
	}
	return "hundredDaysKwhData"
}

func (f energy) key(ch int) string {
	if f.channels == 0 {
		return "energy"
	}
	return fmt.Sprintf("energy_%d", ch+1)
}

func (f energy) count() int { return max(f.channels, 1) }

func (f energy) entities(t *thing) []vendors.Entity {
	var out []vendors.Entity
	for ch := 0; ch < f.count(); ch++ {
		name := "Energy"
		if f.channels > 0 {
			name = fmt.Sprintf("Energy %d", ch+1)
		}
		out = append(out, vendors.Entity{Key: f.key(ch), Name: name, Platform: vendors.Sensor, DeviceClass: "energy", Unit: "kWh", StateClass: "total_increasing", Precision: vendors.IntPtr(2)})
	}
	return out
}

func (f energy) values(t *thing, out map[string]any) {
	for ch := 0; ch < f.count(); ch++ {
		if v, ok := t.book.total(t.id, ch); ok {
			out[f.key(ch)] = round(v, 2)
		}
	}
}

func (f energy) observe(t *thing, upd params, live bool) []firedEvent {
	for ch := 0; ch < f.count(); ch++ {
		s, ok := text(upd[f.param(ch)])
		if !ok || s == "" {
			continue
		}
		hist, err := decodeHistory(f.kind, s)
		if err != nil {
			t.book.log.Debug().Err(err).Str("device", t.id).Msg("energy history ignored")
			continue
		}
		t.book.feed(t.id, ch, hist)
	}
	return nil
}

// requests are the "get" params that make the device send its history; never
// uiActive, which the cloud stopped honouring for third parties (§9.3).
func (f energy) requests() []params {
	switch f.kind {
	case dualR3:
		var out []params
		for ch := 0; ch < f.count(); ch++ {
			out = append(out, params{fmt.Sprintf("getKwh_%02d", ch): 2})
		}
		return out
	case hourly:
		return []params{{"getHoursKwh": map[string]any{"start": 0, "end": 24*30 - 1}}}
	}
	return []params{{"hundredDaysKwh": "get"}}
}
