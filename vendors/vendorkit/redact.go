package vendorkit

import (
	"io"
	"net/url"
	"strings"
	"sync"
)

// Redactor replaces registered secrets, raw and URL-escaped, with "***".
// Wrap the log writer with it so no log line can carry a secret.
type Redactor struct {
	mu       sync.RWMutex
	secrets  map[string]bool
	replacer *strings.Replacer
}

// minSecret is the shortest string redacted: shorter ones would blank out
// ordinary words.
const minSecret = 4

// Add registers secrets.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = map[string]bool{}
	}
	changed := false
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if !r.secrets[form] {
				r.secrets[form] = true
				changed = true
			}
		}
	}
	if !changed {
		return
	}
	// Longer secrets first, so one that contains another is replaced whole.
	forms := make([]string, 0, len(r.secrets))
	for s := range r.secrets {
		forms = append(forms, s)
	}
	sortByLenDesc(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, s := range forms {
		pairs = append(pairs, s, "***")
	}
	r.replacer = strings.NewReplacer(pairs...)
}

func sortByLenDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len(s[j]) > len(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Writer wraps w so every write is redacted. zerolog writes one event per
// Write call, so a secret never straddles two writes.
func (r *Redactor) Writer(w io.Writer) io.Writer { return redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw redactWriter) Write(p []byte) (int, error) {
	rw.r.mu.RLock()
	rep := rw.r.replacer
	rw.r.mu.RUnlock()
	if rep == nil {
		return rw.w.Write(p)
	}
	if _, err := io.WriteString(rw.w, rep.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
