package vendorkit

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFileStoreRoundTripAndMode(t *testing.T) {
	s := (&FileStore{Dir: filepath.Join(t.TempDir(), "state")}).Scoped("ewelink/home")
	var v struct{ Token string }
	if found, err := s.Load("tokens", &v); found || err != nil {
		t.Fatalf("empty store: found=%v err=%v", found, err)
	}
	v.Token = "abc"
	if err := s.Save("tokens", v); err != nil {
		t.Fatal(err)
	}
	var got struct{ Token string }
	if found, err := s.Load("tokens", &got); !found || err != nil || got.Token != "abc" {
		t.Fatalf("got %+v found=%v err=%v", got, found, err)
	}
	fi, err := os.Stat(s.path("tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if filepath.Base(s.path("tokens")) != "ewelink_home-tokens.json" {
		t.Errorf("file name %s", filepath.Base(s.path("tokens")))
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestFileStoreReportsCorruptFile(t *testing.T) {
	s := &FileStore{Dir: t.TempDir()}
	if err := os.WriteFile(s.path("x"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if _, err := s.Load("x", &v); err == nil {
		t.Fatal("corrupt file loaded without error")
	}
}

func TestLoadRemovesStaleTemps(t *testing.T) {
	s := &FileStore{Dir: t.TempDir()}
	if err := s.Save("tokens", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(s.Dir, ".tokens.json.tmp123")
	fresh := filepath.Join(s.Dir, ".tokens.json.tmp456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	var v map[string]int
	if ok, err := s.Load("tokens", &v); !ok || err != nil || v["a"] != 1 {
		t.Fatalf("load: %v %v %v", ok, err, v)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("a stale temp file was left")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a temp file of a write that may be in progress was removed")
	}
}
