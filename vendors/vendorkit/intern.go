package vendorkit

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Interner hands out one shared copy of each short string it is given, for
// strings that repeat across a fleet and across frames (JSON keys, entity
// keys, entity names). Readers take no lock: a new string copies the table,
// and new strings stop coming once every kind of device has been seen. It
// is bounded, so odd input cannot grow it; past the bound, or for a long
// string, Intern returns a fresh copy. The zero value is ready to use.
type Interner struct {
	m  atomic.Pointer[map[string]string]
	mu sync.Mutex
}

const (
	maxInterned    = 4096
	maxInternedLen = 32
)

// Intern returns the shared copy of string(b); b is not kept.
func (t *Interner) Intern(b []byte) string {
	if len(b) > maxInternedLen {
		return string(b)
	}
	if m := t.m.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	s := string(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	next := map[string]string{}
	if old := t.m.Load(); old != nil {
		if v, ok := (*old)[s]; ok { // added meanwhile
			return v
		}
		if len(*old) >= maxInterned {
			return s
		}
		next = maps.Clone(*old)
	}
	next[s] = s
	t.m.Store(&next)
	return s
}

// InternString is Intern for a string (s itself when it is too long).
func (t *Interner) InternString(s string) string {
	if len(s) > maxInternedLen {
		return s
	}
	return t.Intern([]byte(s)) // b does not escape: no allocation
}

// size is the number of strings held.
func (t *Interner) size() int {
	if m := t.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}
