// Package expeed is the adapter for the expeed (极动云) third-party platform
// API: a quota-limited platform token, device status and datapoints over
// REST, settings whose outcome arrives later as a push, and an HTTP push
// receiver mounted on the bridge's server. See docs/vendors/expeed.md.
package expeed

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

//go:embed sample.yaml
var sampleYAML string

func init() {
	vendors.Register(vendors.Registration{Vendor: "expeed", Factory: New, Sample: sampleYAML})
}

// Adapter is one expeed platform account.
type Adapter struct {
	s       *settings
	log     zerolog.Logger
	now     func() time.Time
	metrics vendors.Metrics
	redact  func(...string)
	store   vendors.Store
	http    *vendorkit.HTTPClient
	tokens  *tokens
	pending *pendingResults
	logs    *throttle

	mu       sync.Mutex
	devices  map[string]*devEntry
	sink     vendors.Sink
	status   vendors.Status
	calib    calibration
	jobs     []job
	kick     chan struct{}
	devLocks map[string]chan struct{}
	verified bool
}

// New is the expeed factory: it validates the config and does no I/O.
func New(env vendors.Env, decode func(any) error) (vendors.Adapter, error) {
	var c config
	if err := decode(&c); err != nil {
		return nil, err
	}
	s, err := c.validate(env.Account)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	devices := map[string]*devEntry{}
	for _, dc := range c.Devices {
		if dc.DeviceID == "" {
			continue
		}
		d, err := entryFromConfig(dc)
		if err != nil {
			errs = append(errs, fmt.Errorf("devices %s: %w", dc.DeviceID, err))
			continue
		}
		devices[d.ID] = d
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	a := &Adapter{
		s:        s,
		log:      env.Log,
		now:      env.Now,
		metrics:  env.Metrics,
		redact:   env.Redact,
		store:    env.Store,
		pending:  newPendingResults(),
		logs:     &throttle{every: time.Minute, last: map[string]time.Time{}},
		devices:  devices,
		kick:     make(chan struct{}, 1),
		devLocks: map[string]chan struct{}{},
		calib:    calibration{value: s.onlineValue},
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.metrics == nil {
		a.metrics = vendors.NopMetrics{}
	}
	if a.redact == nil {
		a.redact = func(...string) {}
	}
	if a.store == nil {
		a.store = &memStore{m: map[string][]byte{}}
	}
	client := env.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	a.http = &vendorkit.HTTPClient{Client: client, Limiter: vendorkit.NewLimiter(rate.Limit(s.RequestsPerSecond), s.Burst), Metrics: a.metrics}
	a.tokens = &tokens{a: a, sem: make(chan struct{}, 1)}
	secrets := []string{s.SecretKey.Reveal(), string(s.PushSecret), s.PushToken.Reveal()}
	for _, d := range devices {
		secrets = append(secrets, d.Key)
	}
	a.redact(secrets...)
	return a, nil
}

// inventory is the device list, sorted by id; a.mu is held.
func (a *Adapter) inventory() []vendors.Device {
	ids := a.ids()
	out := make([]vendors.Device, 0, len(ids))
	for _, id := range ids {
		out = append(out, a.devices[id].device(a.s.Manufacturer))
	}
	return out
}

// ids lists the device ids, sorted; a.mu is held.
func (a *Adapter) ids() []string {
	ids := make([]string, 0, len(a.devices))
	for id := range a.devices {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// throttle lets one log line per key through per interval.
type throttle struct {
	mu    sync.Mutex
	every time.Duration
	last  map[string]time.Time
}

func (t *throttle) ok(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, seen := t.last[key]; seen && now.Sub(at) < t.every {
		return false
	}
	if len(t.last) > 1000 {
		t.last = map[string]time.Time{}
	}
	t.last[key] = now
	return true
}

// memStore keeps state in memory when the bridge gives no store.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Load(name string, v any) (bool, error) {
	s.mu.Lock()
	b, ok := s.m[name]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

func (s *memStore) Save(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.m[name] = b
	s.mu.Unlock()
	return nil
}
