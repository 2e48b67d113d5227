package vendors

import (
	"fmt"
	"sort"
	"sync"
)

// Registration is what a vendor package registers from init().
type Registration struct {
	Vendor  string
	Factory Factory
	// Sample is the documented YAML of the vendor's sample accounts: list
	// items ("- name: ...") at column 0; sample-config indents them under
	// vendors.<vendor>:.
	Sample string
}

var (
	regMu    sync.RWMutex
	registry = map[string]Registration{}
)

// Register adds a vendor; it panics on a duplicate or empty name.
func Register(r Registration) {
	regMu.Lock()
	defer regMu.Unlock()
	if r.Vendor == "" || r.Factory == nil {
		panic("vendors: incomplete registration")
	}
	if _, dup := registry[r.Vendor]; dup {
		panic(fmt.Sprintf("vendors: duplicate registration of %q", r.Vendor))
	}
	registry[r.Vendor] = r
}

// Lookup returns a vendor's registration.
func Lookup(vendor string) (Registration, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	r, ok := registry[vendor]
	return r, ok
}

// Names lists the registered vendors, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
