// Package ewelink bridges eWeLink (CoolKit v2 API: Sonoff and other
// "eWeLink-inside" brands) into cloud2mqtt: OAuth 2.0 or password login with
// signed requests, the paged thing list, and one WebSocket per account for
// live state and commands, with the vendor's rate limits enforced in code.
//
// The protocol reference is shared/protocols/ewelink.md; section numbers in
// comments (§n) point into it.
package ewelink

import (
	_ "embed"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

//go:embed sample.yaml
var sampleYAML string

const vendorName = "ewelink"

func init() {
	vendors.Register(vendors.Registration{Vendor: vendorName, Factory: New, Sample: sampleYAML})
}

// Adapter is one eWeLink account.
type Adapter struct {
	cfg     config
	env     vendors.Env
	log     zerolog.Logger
	http    *http.Client
	metrics vendors.Metrics
	now     func() time.Time
	budget  *budget
	book    *energyBook

	authMu     sync.Mutex
	tok        tokens
	tokLoaded  bool
	gen        uint64
	fresh      bool // the current tokens came from a refresh the cloud has not yet accepted
	refreshing chan struct{}
	loginWake  chan struct{}

	seq         atomic.Int64
	userOnlines atomic.Int64

	mu            sync.Mutex
	sink          vendors.Sink
	running       bool
	things        map[string]*thing
	invSig        string
	listed        bool
	needRelist    bool
	relisting     bool
	during        []heldReport
	ws            *wsConn
	unknownLogged map[int]bool
	energyAsked   map[string]time.Time
	lastStatus    *vendors.Status
	announced     bool

	relistMu sync.Mutex

	// onWrite, set by tests, sees the start of every WebSocket write.
	onWrite func(time.Time)
	// clock times the reconnect and login backoff (nil: the wall clock);
	// tests inject a fake one to run the 15 s → 64 min schedule instantly.
	clock vendorkit.Clock

	oauthMu     sync.Mutex
	states      map[string]time.Time
	lastAttempt time.Time
}

// New is the factory: strict decode, validation, no network I/O.
func New(env vendors.Env, decode func(any) error) (vendors.Adapter, error) {
	var c config
	if err := decode(&c); err != nil {
		return nil, err
	}
	account := env.Account
	if account == "" {
		account = c.Name
	}
	if err := c.validate(account); err != nil {
		return nil, err
	}
	env.Account = account
	a := &Adapter{cfg: c, env: env, log: env.Log, http: env.HTTP, metrics: env.Metrics, now: env.Now,
		loginWake: make(chan struct{}, 1), things: map[string]*thing{}, needRelist: true,
		unknownLogged: map[int]bool{}, energyAsked: map[string]time.Time{}, states: map[string]time.Time{}}
	if a.http == nil {
		a.http = &http.Client{Timeout: 30 * time.Second}
	}
	if a.metrics == nil {
		a.metrics = vendors.NopMetrics{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.budget = newBudget(&a.cfg, a.now, env.Store, a.metrics, a.log)
	a.book = &energyBook{store: env.Store, log: a.log}
	a.redact(c.AppSecret.Reveal(), c.Password.Reveal())
	return a, nil
}

// nopSink stands in until Run gives the real one.
type nopSink struct{}

func (nopSink) Inventory([]vendors.Device)                   {}
func (nopSink) Update(string, map[string]any)                {}
func (nopSink) Availability(string, bool)                    {}
func (nopSink) Event(string, string, string, map[string]any) {}
func (nopSink) Image(string, string, []byte)                 {}
func (nopSink) Status(vendors.Status)                        {}

func (a *Adapter) sinkLocked() vendors.Sink {
	if a.sink == nil {
		return nopSink{}
	}
	return a.sink
}
