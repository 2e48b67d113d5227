package vendors

import (
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"sync"
	"unsafe"
	"weak"
)

// InternEntities returns a slice equal to ents that is shared by every
// caller holding equal entities: ten thousand plugs of one model keep one
// entity list between them, in the adapters and in the bridge alike. The
// result is read-only for everyone, ents included when it is returned as
// is. Entries live as long as some caller holds the slice.
func InternEntities(ents []Entity) []Entity {
	if len(ents) == 0 {
		return ents
	}
	h := hashEntities(ents)
	entityPool.mu.Lock()
	defer entityPool.mu.Unlock()
	for _, s := range entityPool.sets[h] {
		shared := s.slice()
		if shared == nil || len(shared) != len(ents) {
			continue
		}
		if &shared[0] == &ents[0] || equalEntities(shared, ents) {
			return shared
		}
	}
	c := slices.Clip(slices.Clone(ents))
	entityPool.sets[h] = append(entityPool.sets[h], internedSet{first: weak.Make(&c[0]), n: len(c)})
	runtime.AddCleanup(&c[0], forgetInterned, h)
	return c
}

func equalEntities(a, b []Entity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(&b[i]) {
			return false
		}
	}
	return true
}

var entityPool = struct {
	mu   sync.Mutex
	sets map[uint64][]internedSet
	seed maphash.Seed
}{sets: map[uint64][]internedSet{}, seed: maphash.MakeSeed()}

// internedSet points weakly at the first element of a shared slice, so that
// the pool never keeps a list alive that no device uses any more.
type internedSet struct {
	first weak.Pointer[Entity]
	n     int
}

func (s internedSet) slice() []Entity {
	p := s.first.Value()
	if p == nil {
		return nil
	}
	// p points at the first of n elements of one allocation, which p keeps
	// alive; a weak pointer cannot be made to the slice header itself.
	return unsafe.Slice(p, s.n)
}

// forgetInterned drops the collected entries of bucket h.
func forgetInterned(h uint64) {
	entityPool.mu.Lock()
	defer entityPool.mu.Unlock()
	live := entityPool.sets[h][:0]
	for _, s := range entityPool.sets[h] {
		if s.first.Value() != nil {
			live = append(live, s)
		}
	}
	if len(live) == 0 {
		delete(entityPool.sets, h)
		return
	}
	clear(entityPool.sets[h][len(live):])
	entityPool.sets[h] = live
}

// hashEntities hashes the fields that usually tell entity lists apart;
// equality is decided by a full comparison.
func hashEntities(ents []Entity) uint64 {
	var h maphash.Hash
	h.SetSeed(entityPool.seed)
	for i := range ents {
		e := &ents[i]
		h.WriteString(e.Key)
		h.WriteByte(0)
		h.WriteString(string(e.Platform))
		h.WriteByte(0)
		h.WriteString(e.Name)
		h.WriteByte(0)
		h.WriteString(e.DeviceClass)
		h.WriteByte(0)
		h.WriteString(e.Unit)
		h.WriteByte(0)
		maphash.WriteComparable(&h, math.Float64bits(e.Max))
	}
	return h.Sum64()
}
