package shelly

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// grant is one device a Shelly user shared with the integrator.
type grant struct {
	Host    string    `json:"host"`
	Access  string    `json:"access"`
	Names   []string  `json:"names,omitempty"`
	UserID  string    `json:"user_id,omitempty"`
	Code    string    `json:"code,omitempty"`
	Type    string    `json:"type,omitempty"`
	Wire    string    `json:"wire,omitempty"`
	Granted time.Time `json:"granted"`
}

// readOnly: accessGroups is a hex byte whose bit 0 allows control.
func (g grant) readOnly() bool {
	n, err := strconv.ParseUint(strings.TrimSpace(g.Access), 16, 8)
	return err != nil || n&1 == 0
}

// grantStore keeps the grants, persisted atomically in the account's store.
// A change is durable before put/drop/move return (a consent callback is
// answered 200 only then), but rewriting every grant on every callback made
// onboarding quadratic. So a change is appended to a short journal document,
// and the grants document is rewritten, and the journal emptied, only once
// the journal reaches compactAt entries. Loading replays the journal over the
// grants; replaying changes the grants document already holds is harmless.
type grantStore struct {
	mu      sync.Mutex
	store   vendors.Store
	loaded  bool
	m       map[string]grant
	journal []grantChange // what is in the journal document
}

// grantChange is one journal entry; Grant nil means the grant was dropped.
type grantChange struct {
	ID    string `json:"id"`
	Grant *grant `json:"grant,omitempty"`
}

const (
	grantsName  = "grants"
	journalName = "grants-journal"
)

// compactAt balances the journal rewritten on each change against the whole
// grants document rewritten once per compaction: about √n entries.
func compactAt(n int) int {
	k := 64
	for k*k < n {
		k *= 2
	}
	return k
}

func (s *grantStore) loadLocked() error {
	if s.loaded {
		return nil
	}
	s.m = map[string]grant{}
	if s.store != nil {
		if _, err := s.store.Load(grantsName, &s.m); err != nil {
			return fmt.Errorf("load grants: %w", err)
		}
		if s.m == nil { // a stored null
			s.m = map[string]grant{}
		}
		var journal []grantChange
		if _, err := s.store.Load(journalName, &journal); err != nil {
			return fmt.Errorf("load grants: %w", err)
		}
		for _, c := range journal {
			if c.Grant == nil {
				delete(s.m, c.ID)
			} else {
				s.m[c.ID] = *c.Grant
			}
		}
		s.journal = journal
		for id, g := range s.m {
			if nid := normID(id, nil); nid == "" || !validHost(g.Host) {
				delete(s.m, id)
			} else if nid != id {
				delete(s.m, id)
				s.m[nid] = g
			}
		}
	}
	s.loaded = true
	return nil
}

// commitLocked makes a change already applied to s.m durable. On error the
// caller rolls s.m back.
func (s *grantStore) commitLocked(c grantChange) error {
	if s.store == nil {
		return nil
	}
	if err := s.store.Save(journalName, append(s.journal, c)); err != nil {
		return err
	}
	s.journal = append(s.journal, c)
	if len(s.journal) < compactAt(len(s.m)) {
		return nil
	}
	// The change is durable already; a failed compaction is retried on the
	// next change, and the journal keeps everything meanwhile.
	if s.store.Save(grantsName, s.m) == nil && s.store.Save(journalName, []grantChange{}) == nil {
		s.journal = nil
	}
	return nil
}

// all returns a copy of the grants.
func (s *grantStore) all() (map[string]grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return nil, err
	}
	out := make(map[string]grant, len(s.m))
	for k, v := range s.m {
		out[k] = v
	}
	return out, nil
}

// get returns one grant without copying them all.
func (s *grantStore) get(id string) (grant, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return grant{}, false, err
	}
	g, ok := s.m[id]
	return g, ok, nil
}

func sameGrant(a, b grant) bool {
	a.Granted, b.Granted = time.Time{}, time.Time{}
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	return string(aj) == string(bj)
}

// put stores a grant; changed is false when the same grant was already there.
func (s *grantStore) put(id string, g grant) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return false, err
	}
	if old, ok := s.m[id]; ok && sameGrant(old, g) {
		return false, nil
	}
	prev, had := s.m[id]
	s.m[id] = g
	if err := s.commitLocked(grantChange{ID: id, Grant: &g}); err != nil {
		if had {
			s.m[id] = prev
		} else {
			delete(s.m, id)
		}
		return false, err
	}
	return true, nil
}

// drop removes a grant; changed is false if there was none.
func (s *grantStore) drop(id string) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return false, err
	}
	prev, ok := s.m[id]
	if !ok {
		return false, nil
	}
	delete(s.m, id)
	if err := s.commitLocked(grantChange{ID: id}); err != nil {
		s.m[id] = prev
		return false, err
	}
	return true, nil
}

// move re-homes a device after WRONG_HOST.
func (s *grantStore) move(id, host string) (changed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return false, err
	}
	g, ok := s.m[id]
	if !ok || g.Host == host {
		return false, nil
	}
	old := g
	g.Host = host
	s.m[id] = g
	if err := s.commitLocked(grantChange{ID: id, Grant: &g}); err != nil {
		s.m[id] = old
		return false, err
	}
	return true, nil
}

// consent is a consent callback body (one device per request).
type consent struct {
	UserID       string
	DeviceID     string // canonical
	Wire         string // as sent
	DeviceType   string
	DeviceCode   string
	AccessGroups string
	Action       string
	Host         string
	Names        []string
}

const maxConsentBody = 64 << 10

// parseConsent decodes a consent callback body tolerantly (userId number or
// string, name list or single string, accessGroups string or number).
func parseConsent(body []byte) (consent, error) {
	var raw struct {
		UserID       json.RawMessage `json:"userId"`
		DeviceID     json.RawMessage `json:"deviceId"`
		DeviceType   json.RawMessage `json:"deviceType"`
		DeviceCode   json.RawMessage `json:"deviceCode"`
		AccessGroups json.RawMessage `json:"accessGroups"`
		Action       json.RawMessage `json:"action"`
		Host         json.RawMessage `json:"host"`
		Name         json.RawMessage `json:"name"`
	}
	var c consent
	if len(body) > maxConsentBody {
		return c, errors.New("body too large")
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return c, errors.New("body is not a JSON object")
	}
	c.Wire = rawID(raw.DeviceID)
	c.DeviceID = normID(c.Wire, nil)
	if c.DeviceID == "" {
		return c, errors.New("deviceId missing or invalid")
	}
	c.UserID = rawID(raw.UserID)
	c.DeviceType = rawString(raw.DeviceType)
	c.DeviceCode = rawString(raw.DeviceCode)
	c.Action = strings.ToLower(rawString(raw.Action))
	switch c.Action {
	case "add", "remove":
	default:
		return c, errors.New("action must be add or remove")
	}
	c.AccessGroups = rawString(raw.AccessGroups)
	if c.AccessGroups == "" {
		if n := rawID(raw.AccessGroups); n != "" {
			v, _ := strconv.ParseUint(n, 10, 8)
			c.AccessGroups = fmt.Sprintf("%02x", v)
		}
	}
	if c.AccessGroups == "" {
		c.AccessGroups = "00" // no access info: read-only is the safe reading
	}
	if _, err := strconv.ParseUint(c.AccessGroups, 16, 8); err != nil {
		return c, errors.New("accessGroups is not a hex byte")
	}
	c.Host = normHost(rawString(raw.Host))
	if c.Action == "add" && !validHost(c.Host) {
		return c, errors.New("host missing or invalid")
	}
	var names []string
	if json.Unmarshal(raw.Name, &names) != nil {
		if s := rawString(raw.Name); s != "" {
			names = []string{s}
		}
	}
	for i, n := range names {
		if len(n) > 128 {
			names[i] = n[:128]
		}
	}
	if len(names) > 64 {
		names = names[:64]
	}
	c.Names = names
	return c, nil
}

func rawString(m json.RawMessage) string {
	var s string
	if json.Unmarshal(m, &s) != nil {
		return ""
	}
	if len(s) > 256 {
		s = s[:256]
	}
	return strings.TrimSpace(s)
}
