package shelly

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// fleet is the set of devices of one account and their last known status,
// shared by both account types: statuses in, entities and values out.
type fleet struct {
	mu    sync.Mutex
	log   zerolog.Logger
	devs  map[string]*device
	dirty bool // a device's shape changed since the last save
	delta deltaScratch
	// owners keeps one copy of each view's Owners list (the same for every
	// device of a model), by the list joined; it grows with the shapes seen.
	owners map[string][]string
}

// deltaScratch is applyDelta's working memory, reused under mu: a delta
// arrives for every reading a device reports, and building its throw-away
// view afresh each time was most of the adapter's garbage.
type deltaScratch struct {
	merged   map[string]any
	used     map[string]bool
	v        view
	undo     []fieldUndo
	readings readingsPass
}

// fieldUndo is a status field as it was before a delta was merged into its
// component in place, so a delta the fast path refuses leaves no trace.
type fieldUndo struct {
	comp map[string]any
	key  string
	old  any
	had  bool
}

func (s *deltaScratch) reset() {
	if s.merged == nil {
		s.merged, s.used = map[string]any{}, map[string]bool{}
		s.v.Values = map[string]any{}
	}
	clear(s.merged)
	clear(s.used)
	clear(s.v.Values)
	s.v.Targets = s.v.Targets[:0]
	s.v.Entities, s.v.Owners, s.v.Unknown = s.v.Entities[:0], s.v.Owners[:0], s.v.Unknown[:0]
	s.v.MAC, s.v.FW, s.v.Collided = "", "", false
	s.undo = s.undo[:0]
}

// undoMerge restores the fields a refused delta changed.
func (s *deltaScratch) undoMerge() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		u := s.undo[i]
		if u.had {
			u.comp[u.key] = u.old
		} else {
			delete(u.comp, u.key)
		}
	}
	s.undo = s.undo[:0]
}

type device struct {
	id   string
	meta meta
	// st is the last known status, or nil while it rests whole as one JSON
	// object in rest (from a full status until a delta touches it; see
	// frozen). status() and statusTree() read it either way.
	st     map[string]any
	rest   []byte
	gen    int  // 0 unknown, 1 Gen1, 2 Gen2+
	online int8 // -1 unknown, 0 offline, 1 online
	// full is set once a full status was seen; until then the entities of
	// the persisted snapshot (base) stay, so a restart does not shrink a
	// device to the few entities its first delta mentions.
	full    bool
	base    json.RawMessage // the snapshot's status, a JSON object
	baseGen int
	view    view
	// prev holds the values last handed on while the view is undiffed
	// (nil: none yet); otherwise view.Values are what was handed on.
	prev     map[string]any
	shape    vendors.Device
	hasShape bool
	logged   map[string]bool
	// wire is the id form last received on the stream, used when sending.
	wire string
	// seen: a status (or a persisted snapshot) exists. Devices never seen
	// stay out of the inventory: there is nothing to show for them yet.
	seen bool
	// undiffed: the view was rebuilt since its values were last handed on
	// (a settings or grant change).
	undiffed bool
}

func newFleet(log zerolog.Logger) *fleet {
	return &fleet{log: log, devs: map[string]*device{}}
}

// known reports whether a canonical id is in the fleet (for normID).
func (f *fleet) known(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.devs[id]
	return ok
}

func (f *fleet) knownLocked(id string) bool { _, ok := f.devs[id]; return ok }

// norm normalizes a wire id against the fleet.
func (f *fleet) norm(raw string) string { return normID(raw, f.known) }

// ids lists the fleet's device ids, sorted.
func (f *fleet) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.devs))
	for id := range f.devs {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ensure adds a device or updates the meta fields set by the caller's
// source of truth (grant or config). It reports whether the inventory changed.
func (f *fleet) ensure(id string, upd func(*meta)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		d = &device{id: id, online: -1, st: map[string]any{}}
		f.devs[id] = d
	}
	before := d.meta
	before.Names = append([]string(nil), d.meta.Names...)
	if upd != nil {
		upd(&d.meta)
	}
	if ok && d.hasShape && reflect.DeepEqual(before, d.meta) {
		return false
	}
	return f.recompute(d) || !ok
}

// remove drops a device; it reports whether it was there.
func (f *fleet) remove(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.devs[id]; !ok {
		return false
	}
	delete(f.devs, id)
	f.dirty = true
	return true
}

// applyStatus merges (or, full, replaces) a device's status and returns the
// values that changed and whether its entities changed.
func (f *fleet) applyStatus(id string, st map[string]any, full bool, wire string) (vals map[string]any, invChanged, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return nil, false, false
	}
	if wire != "" {
		d.wire = wire
	}
	if !full {
		if vals, ok := f.applyDelta(d, st); ok {
			return vals, false, true
		}
	}
	if g2, known := isGen2Status(st); known {
		g := 1
		if g2 {
			g = 2
		}
		if d.gen != g {
			d.gen = g
			d.st, d.rest = map[string]any{}, nil
		}
	} else if d.gen == 0 {
		d.gen = genFromMeta(d.meta.Gen)
	}
	if full {
		d.st, d.rest = map[string]any{}, nil
		d.full = true
		d.base = nil
	}
	status := d.status()
	thawKeys(status, st)
	mergeStatus(status, st)
	invChanged = f.recompute(d) || !d.seen
	if full {
		d.st, d.rest = restWhole(status)
	}
	d.seen = true
	vals = f.diffLocked(d)
	d.undiffed = false
	return vals, invChanged, true
}

// applyDelta is the fast path of a StatusOnChange: when a delta only updates
// Gen2 components the device already has, it merges and maps those
// components alone and returns their changed values. ok is false, and
// nothing is changed, when the delta could change the device's entities (or
// anything but those components' values); then the caller rebuilds the view.
func (f *fleet) applyDelta(d *device, st map[string]any) (vals map[string]any, ok bool) {
	if d.gen != 2 || !d.seen || d.undiffed || (!d.full && d.base != nil) ||
		len(st) == 0 || len(d.view.Owners) != len(d.view.Entities) {
		return nil, false
	}
	s := &f.delta
	s.reset()
	merged := s.merged
	// readings: the delta keeps the entities of its components without
	// mapping them (kindShaped, mapReadings); collisions need the full way.
	readings := !d.view.Collided
	for k, v := range st {
		_, isObj := obj(v)
		had, hadObj := obj(thaw(d.status(), k))
		comp, _, isComp := splitComp(k)
		if !isComp || !isObj || !hadObj || slices.Contains(d.view.Unknown, k) {
			return nil, false
		}
		readings = readings && kindShaped[comp] && sameKinds(had, v, 0)
	}
	// Merge into the components in place (as mergeValue would into a
	// copy), remembering what to undo if the delta is refused below.
	for k, v := range st {
		nv, _ := obj(v)
		comp, _ := obj(d.st[k])
		for f, x := range nv {
			old, had := comp[f]
			s.undo = append(s.undo, fieldUndo{comp, f, old, had})
			comp[f] = mergeValue(old, x, 1)
		}
		merged[k] = comp
	}
	// A delta mostly touches one component: compare owners with it rather
	// than look each of the device's entities up in merged.
	var only string
	if len(merged) == 1 {
		for k := range merged {
			only = k
		}
	}
	touched := func(owner string) bool {
		if only != "" {
			return owner == only
		}
		_, ok := merged[owner]
		return ok
	}
	// Where keys collided in the full build, mark the keys the other
	// components hold, so collisions resolve as they did there (unknown keys
	// sort after every mapped component, so they never take a key from
	// one). Elsewhere the builder tracks no keys, which would be map writes
	// for nothing: a key the full build would now prefix or drop maps to
	// other entities here, and the check below sends the delta the slow way.
	b := &builder{st: d.st, m: &d.meta, v: &s.v}
	if d.view.Collided {
		b.used = s.used
		for i := range d.view.Entities {
			if !touched(d.view.Owners[i]) {
				s.used[d.view.Entities[i].Key] = true
			}
		}
	}
	// The delta adds no key, so the counts of the full build hold.
	b.multi, b.temps = d.view.Multi, d.view.Temps
	if readings && only != "" && s.mapReadings(b, d, only) {
		return handOn(d, b.v.Values), true
	}
	if only != "" {
		b.gen2Key(only, merged[only])
	} else {
		for _, k := range sortedKeys(merged, rankGen2) {
			b.gen2Key(k, merged[k])
		}
	}
	// The components must map to the very entities and targets they had.
	j := 0
	for i := range d.view.Entities {
		e := &d.view.Entities[i] // by pointer: an Entity is a large struct
		if !touched(d.view.Owners[i]) {
			continue
		}
		if j >= len(b.v.Entities) || b.v.Owners[j] != d.view.Owners[i] || !e.Equal(&b.v.Entities[j]) {
			s.undoMerge()
			return nil, false
		}
		t, had := d.view.Targets.get(e.Key)
		nt, has := b.v.Targets.get(e.Key)
		if had != has || (had && !t.equal(nt)) {
			s.undoMerge()
			return nil, false
		}
		j++
	}
	if j != len(b.v.Entities) {
		s.undoMerge()
		return nil, false
	}
	for i := range b.v.Entities {
		e := &b.v.Entities[i]
		dropValue(d.view.Values, b.v.Values, e.Key)
		if e.Cover != nil {
			dropValue(d.view.Values, b.v.Values, e.Cover.PositionKey)
			dropValue(d.view.Values, b.v.Values, e.Cover.TiltKey)
		}
	}
	return handOn(d, b.v.Values), true
}

// mapReadings maps the kind-shaped component comp, whose entities the
// caller knows to be those of the view, for its values alone: the builder
// skips the entities' keys and names and takes the n-th entity it adds to be
// the view's n-th entity of comp. It leaves the values that differ from the
// view's in s.v.Values and drops from the view those the component no
// longer has. ok is false, and the view is untouched, when the counts
// differ; the caller then maps comp the full way.
func (s *deltaScratch) mapReadings(b *builder, d *device, comp string) (ok bool) {
	r := &s.readings
	r.keys, r.gone, r.old, r.added = r.keys[:0], r.gone[:0], d.view.Values, 0
	for i, owner := range d.view.Owners {
		if owner == comp {
			r.keys = append(r.keys, d.view.Entities[i].Key)
		}
	}
	b.readings = r
	b.gen2Key(comp, s.merged[comp])
	b.readings = nil
	if r.added != len(r.keys) {
		clear(s.v.Values)
		s.v.Targets = s.v.Targets[:0]
		return false
	}
	for _, k := range r.gone {
		delete(d.view.Values, k) // as dropValue
	}
	return true
}

// readingsPass is the state of a values-only mapping (mapReadings).
type readingsPass struct {
	keys  []string       // the component's entity keys, in the view's order
	old   map[string]any // the view's values
	added int            // entities added so far
	gone  []string       // keys whose value the component no longer has
}

// add takes the next entity's value: into changed when it differs from the
// view's, into gone when there is none. It returns the entity's key, or ""
// past the known entities.
func (r *readingsPass) add(changed map[string]any, val any, has bool) string {
	if r.added++; r.added > len(r.keys) {
		return ""
	}
	key := r.keys[r.added-1]
	if !has {
		r.gone = append(r.gone, key)
	} else if old, ok := r.old[key]; !ok || !vendors.EqualValue(old, val) {
		changed[key] = val
	}
	return key
}

// handOn stores a delta's values in the view and returns those that changed.
func handOn(d *device, fresh map[string]any) (vals map[string]any) {
	for k, v := range fresh {
		old, had := d.view.Values[k]
		d.view.Values[k] = v
		if had && vendors.EqualValue(old, v) {
			continue
		}
		if vals == nil {
			vals = map[string]any{}
		}
		vals[k] = v
	}
	return vals
}

// dropValue removes a value a component no longer has, as a full build would.
func dropValue(cur, fresh map[string]any, key string) {
	if _, ok := fresh[key]; !ok && key != "" {
		delete(cur, key)
	}
}

func genFromMeta(g string) int {
	if strings.EqualFold(strings.TrimSpace(g), "G1") {
		return 1
	}
	return 2
}

// applySettings takes names (and the firmware version) from a settings
// object. modeChanged says the device switched profile/mode (relay ↔ cover,
// colour ↔ white), after which a full status should be fetched.
func (f *fleet) applySettings(id string, s map[string]any) (invChanged, modeChanged, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return false, false, false
	}
	m := &d.meta
	if n, ok := strAt(s, "sys", "device", "name"); ok {
		m.Name = n
	} else if n, ok := strAt(s, "name"); ok {
		m.Name = n
	}
	if fw, ok := strAt(s, "sys", "device", "fw_id"); ok {
		m.FW = fw
	} else if fw, ok := strAt(s, "fw"); ok {
		m.FW = fw
	}
	mode, _ := strAt(s, "sys", "device", "profile")
	if mode == "" {
		mode, _ = strAt(s, "mode")
	}
	if mode != "" {
		modeChanged = m.Mode != "" && m.Mode != mode
		m.Mode = mode
	}
	for k, v := range s {
		c, ok := obj(v)
		if !ok {
			continue
		}
		if _, _, isComp := splitComp(k); isComp {
			if n, ok := strAt(c, "name"); ok {
				if m.ChanNames == nil {
					m.ChanNames = map[string]string{}
				}
				m.ChanNames[k] = n
			}
		}
	}
	for _, arrKey := range []string{"relays", "rollers", "lights"} {
		for i, it := range items(s[arrKey]) {
			if n, ok := strAt(it, "name"); ok {
				if m.ChanNames == nil {
					m.ChanNames = map[string]string{}
				}
				m.ChanNames[arrKey+":"+itoa(i)] = n
			}
		}
	}
	return f.recompute(d), modeChanged, true
}

// setOnline records availability; it reports whether it changed.
func (f *fleet) setOnline(id string, online bool) (changed, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return false, false
	}
	v := int8(0)
	if online {
		v = 1
	}
	changed = d.online != v
	d.online = v
	return changed, true
}

// online reports a device's availability (known false if never told).
func (f *fleet) online(id string) (online, known bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok || d.online < 0 {
		return false, false
	}
	return d.online == 1, true
}

// lookup finds an entity for a command.
func (f *fleet) lookup(id, key string) (e vendors.Entity, t target, dev bool, found bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return e, t, false, false
	}
	for _, ent := range d.view.Entities {
		if ent.Key == key {
			t, _ := d.view.Targets.get(key)
			return ent, t, true, true
		}
	}
	return e, t, true, false
}

// wireID is the id form to send on the stream.
func (f *fleet) wireID(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.devs[id]; ok && d.wire != "" {
		return d.wire
	}
	return id
}

// value is a device's current value for an entity key.
func (f *fleet) value(id, key string) (any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return nil, false
	}
	v, ok := d.view.Values[key]
	return v, ok
}

// statusKeys lists the top-level status keys of a device (for pick lists).
func (f *fleet) statusKeys(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[id]
	if !ok {
		return nil
	}
	var out []string
	for k := range d.statusTree() {
		if _, _, isComp := splitComp(k); isComp {
			out = append(out, k)
		}
	}
	return out
}

// recompute rebuilds a device's view; it reports whether its shape
// (the inventory entry) changed.
func (f *fleet) recompute(d *device) bool {
	gen2 := d.gen != 1
	v := buildView(&d.meta, d.statusTree(), gen2)
	if !d.full && d.base != nil {
		bv := buildView(&d.meta, wholeStatus(d.base), d.baseGen != 1)
		have := map[string]bool{}
		for _, e := range v.Entities {
			have[e.Key] = true
		}
		for _, e := range bv.Entities {
			if !have[e.Key] {
				v.Entities = append(v.Entities, e)
				if t, ok := bv.Targets.get(e.Key); ok {
					v.Targets.set(e.Key, t)
				}
			}
		}
		if v.MAC == "" {
			v.MAC = bv.MAC
		}
		v.Owners = nil // the persisted entities have no place in this view's order
	}
	for _, k := range v.Unknown {
		if !d.logged[k] {
			if d.logged == nil {
				d.logged = map[string]bool{}
			}
			d.logged[k] = true
			f.log.Debug().Str("device", d.id).Str("component", k).Msg("unknown status component kept in state, not discovered")
		}
	}
	v.Entities = vendors.InternEntities(v.Entities)
	v.Owners = f.internOwners(v.Owners)
	v.Targets = slices.Clip(v.Targets)
	if !d.undiffed {
		d.prev = d.view.Values
	}
	d.view = v
	d.undiffed = true
	shape := vendors.Device{
		ID:           d.id,
		Name:         deviceName(d),
		Manufacturer: "Shelly",
		Model:        modelName(d.meta.Code),
		ModelID:      d.meta.Code,
		SWVersion:    v.FW,
		MAC:          strings.ToLower(v.MAC),
		Entities:     v.Entities,
	}
	if d.hasShape && reflect.DeepEqual(shape, d.shape) {
		return false
	}
	d.shape, d.hasShape = shape, true
	f.dirty = true
	return true
}

func (f *fleet) internOwners(owners []string) []string {
	if len(owners) == 0 {
		return owners
	}
	key := strings.Join(owners, ",")
	if shared, ok := f.owners[key]; ok {
		return shared
	}
	if f.owners == nil {
		f.owners = map[string][]string{}
	}
	owners = slices.Clip(owners)
	f.owners[key] = owners
	return owners
}

func deviceName(d *device) string {
	switch {
	case d.meta.Name != "":
		return d.meta.Name
	case len(d.meta.Names) == 1 && d.meta.Names[0] != "":
		return d.meta.Names[0]
	}
	short := d.id
	if len(short) > 6 {
		short = short[len(short)-6:]
	}
	return modelName(d.meta.Code) + " " + short
}

// diffLocked returns the values that changed since they were last handed on.
func (f *fleet) diffLocked(d *device) map[string]any {
	var out map[string]any
	for k, v := range d.view.Values {
		if old, ok := d.prev[k]; ok && vendors.EqualValue(old, v) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	d.prev = nil
	return out
}

// pending reports whether the fleet has devices but none seen yet (then
// an inventory would only say "no devices" for a moment).
func (f *fleet) pending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.devs {
		if d.seen {
			return false
		}
	}
	return len(f.devs) > 0
}

// unseen counts devices known (granted or configured) without any status yet.
func (f *fleet) unseen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, d := range f.devs {
		if !d.seen {
			n++
		}
	}
	return n
}

// inventory is the full device list (of devices seen).
func (f *fleet) inventory() []vendors.Device {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]vendors.Device, 0, len(f.devs))
	for _, d := range f.devs {
		if !d.seen {
			continue
		}
		out = append(out, d.shape) // its entities are interned: shared, never changed
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// snapshot is what survives a restart: each device's meta and last status,
// so its entities are known before the cloud answers.
type snapshot struct {
	Meta   meta            `json:"meta"`
	Gen    int             `json:"gen"`
	Status json.RawMessage `json:"status"` // a JSON object
}

const snapshotName = "devices"

// save persists the device shapes if they changed.
func (f *fleet) save(store vendors.Store) error {
	f.mu.Lock()
	if !f.dirty || store == nil {
		f.mu.Unlock()
		return nil
	}
	// Statuses are taken as JSON (a resting one as it is), so nothing the
	// lock guards is read once it is released.
	snap := make(map[string]snapshot, len(f.devs))
	for id, d := range f.devs {
		m := d.meta
		m.ChanNames = maps.Clone(m.ChanNames) // settings write it in place
		s := snapshot{Meta: m, Gen: d.gen}
		switch {
		case d.rest != nil:
			s.Status = d.rest
		case !d.full && d.base != nil && len(d.st) == 0:
			s.Gen, s.Status = d.baseGen, d.base
		default:
			s.Status = statusJSON(d.st)
		}
		snap[id] = s
	}
	f.dirty = false
	f.mu.Unlock()
	return store.Save(snapshotName, snap)
}

// restore loads persisted shapes for the devices in want (others are
// dropped: the grant or config is the source of truth). Call it before
// ensure, which then overrides the meta it owns.
func (f *fleet) restore(store vendors.Store, want map[string]bool) error {
	if store == nil {
		return nil
	}
	var snap map[string]snapshot
	if _, err := store.Load(snapshotName, &snap); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, s := range snap {
		// the store read the file as JSON; a status must be an object
		if !want[id] || len(s.Status) == 0 || s.Status[0] != '{' {
			continue
		}
		d, ok := f.devs[id]
		if !ok {
			d = &device{id: id, online: -1, st: map[string]any{}}
			f.devs[id] = d
		}
		d.meta = s.Meta
		d.base, d.baseGen = s.Status, s.Gen
		d.seen = true
		if d.gen == 0 {
			d.gen = s.Gen
		}
		f.recompute(d)
	}
	return nil
}
