package vendorkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// FileStore keeps JSON documents in one directory, one file per name, written
// atomically (temp file, fsync, rename, directory fsync) with mode 0600, so a
// crash leaves the old or the new content, never a torn file.
type FileStore struct {
	Dir string
	// Prefix scopes names (e.g. "ewelink-home-").
	Prefix string

	mu sync.Mutex
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Scoped returns a store for names under prefix in the same directory.
func (s *FileStore) Scoped(prefix string) *FileStore {
	return &FileStore{Dir: s.Dir, Prefix: s.Prefix + unsafeName.ReplaceAllString(prefix, "_") + "-"}
}

func (s *FileStore) path(name string) string {
	return filepath.Join(s.Dir, s.Prefix+unsafeName.ReplaceAllString(name, "_")+".json")
}

// Load implements vendors.Store. It also removes the temp files a crash in
// the middle of an earlier Save left behind.
func (s *FileStore) Load(name string, v any) (bool, error) {
	removeStaleTemps(s.path(name), time.Minute)
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("state file %s: %w", filepath.Base(s.path(name)), err)
	}
	return true, nil
}

// Save implements vendors.Store.
func (s *FileStore) Save(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return WriteFileAtomic(s.path(name), b)
}

// removeStaleTemps deletes WriteFileAtomic's temp files of path older than
// age (younger ones may belong to a write in progress).
func removeStaleTemps(path string, age time.Duration) {
	temps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp*"))
	for _, t := range temps {
		if fi, err := os.Stat(t); err == nil && time.Since(fi.ModTime()) > age {
			os.Remove(t)
		}
	}
}

// WriteFileAtomic replaces path with data: temp file in the same directory,
// fsync, rename, fsync of the directory; mode 0600.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
