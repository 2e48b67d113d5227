package shelly

import (
	"strconv"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Every acknowledged change is on disk at once, whether it sits in the
// journal or was compacted into the grants document, and a reader that
// starts from the files alone sees exactly the same grants.
func TestGrantJournalIsDurableAcrossCompactions(t *testing.T) {
	fs := &vendorkit.FileStore{Dir: t.TempDir()}
	s := &grantStore{store: fs}
	want := map[string]grant{}
	n := compactAt(0)*2 + 7
	for i := range n {
		id := "a8032ab1" + strconv.FormatInt(int64(0x1000+i), 16)
		g := grant{Host: "shelly-1-eu.shelly.cloud", Access: "01", Names: []string{"n" + strconv.Itoa(i)}}
		if _, err := s.put(id, g); err != nil {
			t.Fatal(err)
		}
		want[id] = g
		if i%3 == 0 {
			if _, err := s.drop(id); err != nil {
				t.Fatal(err)
			}
			delete(want, id)
		}
		if i%5 == 1 && i%3 != 0 {
			if _, err := s.move(id, "shelly-2-eu.shelly.cloud"); err != nil {
				t.Fatal(err)
			}
			g.Host = "shelly-2-eu.shelly.cloud"
			want[id] = g
		}
		if i == n/2 || i == n-1 {
			got, err := (&grantStore{store: fs}).all()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("after %d changes a fresh reader sees %d grants, want %d", i+1, len(got), len(want))
			}
			for id, g := range want {
				if h, ok := got[id]; !ok || !sameGrant(g, h) {
					t.Fatalf("grant %s: got %+v, want %+v", id, h, g)
				}
			}
		}
	}
	var journal []grantChange
	if _, err := fs.Load(journalName, &journal); err != nil {
		t.Fatal(err)
	}
	if len(journal) >= compactAt(len(want)) {
		t.Errorf("journal holds %d entries: never compacted", len(journal))
	}
	var whole map[string]grant
	if _, err := fs.Load(grantsName, &whole); err != nil || len(whole) == 0 {
		t.Errorf("grants document: %d entries, %v", len(whole), err)
	}
}
