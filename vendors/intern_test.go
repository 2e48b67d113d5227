package vendors

import (
	"runtime"
	"testing"
	"time"
)

func plugEntities(name string) []Entity {
	p := 1
	return []Entity{
		{Key: "switch", Platform: Switch, Writable: true},
		{Key: "power", Platform: Sensor, Name: name, DeviceClass: "power", Unit: "W", Precision: &p},
	}
}

func TestInternEntitiesSharesEqualLists(t *testing.T) {
	a := InternEntities(plugEntities("Power"))
	b := InternEntities(plugEntities("Power"))
	if &a[0] != &b[0] {
		t.Fatal("equal entity lists were not shared")
	}
	if again := InternEntities(a); &again[0] != &a[0] {
		t.Fatal("an interned list was copied again")
	}
	c := InternEntities(plugEntities("Watts"))
	if &c[0] == &a[0] {
		t.Fatal("different entity lists were shared")
	}
	if cap(a) != len(a) {
		t.Fatalf("cap %d > len %d: an append would write into the shared list", cap(a), len(a))
	}
	if got := InternEntities(nil); got != nil {
		t.Fatalf("nil interned to %v", got)
	}
	runtime.KeepAlive(b)
}

func TestInternEntitiesForgetsUnusedLists(t *testing.T) {
	before := internedLists()
	for i := 0; i < 100; i++ {
		InternEntities(plugEntities(string(rune('A' + i))))
	}
	deadline := time.Now().Add(5 * time.Second)
	for internedLists() > before && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := internedLists(); n > before {
		t.Fatalf("%d entity lists still held after every holder went, want %d", n, before)
	}
}

// internedLists counts the distinct entity lists held now.
func internedLists() int {
	entityPool.mu.Lock()
	defer entityPool.mu.Unlock()
	n := 0
	for _, b := range entityPool.sets {
		for _, s := range b {
			if s.first.Value() != nil {
				n++
			}
		}
	}
	return n
}
