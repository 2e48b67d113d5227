package vendors

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Adapter is one configured cloud account: one login, one rate-limit budget.
type Adapter interface {
	// Run discovers devices and streams or polls their state into sink until
	// ctx ends. It owns reconnects, backoff and rate limiting, and returns
	// ctx.Err() or an error for which IsPermanent holds.
	Run(ctx context.Context, sink Sink) error
	// Execute carries one validated command to the cloud. It is safe for
	// concurrent use and returns by ctx's deadline. Errors carry a result code
	// (see Code).
	Execute(ctx context.Context, cmd Command) error
}

// Refresher is implemented by adapters that can fetch a device's state on
// demand (the /get topic and the bridge's refresh request). An empty id means
// every device.
type Refresher interface {
	Refresh(ctx context.Context, deviceID string) error
}

// Router is implemented by adapters that receive HTTP calls from the cloud or
// the user (OAuth redirects, consent callbacks, push webhooks). The bridge
// mounts each route on its HTTP server.
type Router interface {
	Routes() []Route
}

// Route is one HTTP endpoint; Path is absolute ("/ewelink/home/callback").
type Route struct {
	Path    string
	Handler http.Handler
}

// Requester is implemented by adapters that answer vendor-specific bridge
// requests: <base>/bridge/request/<vendor>/<action>.
type Requester interface {
	Request(ctx context.Context, action string, params json.RawMessage) (any, error)
}

// Sink receives what an adapter learns. The bridge implements it; every method
// is cheap and never blocks on MQTT. Device ids are the vendor's own.
type Sink interface {
	// Inventory is the adapter's full device list; devices absent from it are removed.
	Inventory(devices []Device)
	// Update merges values (entity key → value) into a device's state.
	Update(id string, values map[string]any)
	// Availability follows the cloud's own online flag.
	Availability(id string, online bool)
	// Event fires an event entity (never retained).
	Event(id, key, eventType string, attrs map[string]any)
	// Image delivers a camera snapshot.
	Image(id, key string, data []byte)
	// Status reports the account's connection state.
	Status(s Status)
}

// AccountState is the connection state of one account.
type AccountState string

const (
	StateConnecting AccountState = "connecting"
	StateConnected  AccountState = "connected"
	StateBackoff    AccountState = "backoff"
	StateError      AccountState = "error"
	StateDisabled   AccountState = "disabled"
)

// Status is what bridge/info and the bridge device show for an account.
type Status struct {
	State     AccountState
	LastError string
	// Reauth says a person must log in again; ReauthURL is where.
	Reauth    bool
	ReauthURL string
	// Budget is the remaining API quota where the cloud has one
	// (e.g. "token_calls_today": 180).
	Budget map[string]int64
	// Info carries operator-facing facts (e.g. "consent_url").
	Info map[string]string
}

// Store keeps an adapter's small persistent state (tokens, grants, counters).
// Writes are atomic; names are plain words ("tokens").
type Store interface {
	// Load decodes the JSON stored under name into v; found is false if nothing is stored.
	Load(name string, v any) (found bool, err error)
	Save(name string, v any) error
}

// Metrics is how adapters report their cloud traffic; the bridge labels it
// with vendor and account.
type Metrics interface {
	APIRequest(op string, took time.Duration, err error)
	RateLimitWait(took time.Duration)
	TokenExpiry(at time.Time)
	StreamConnected(up bool)
	Budget(name string, remaining float64)
}

// Env is what the bridge gives a factory.
type Env struct {
	Vendor  string
	Account string
	Log     zerolog.Logger
	Store   Store
	Metrics Metrics
	// Redact registers secrets (raw; escaped forms are added) that must never
	// be printed.
	Redact func(secrets ...string)
	// PublicURL is the bridge HTTP server's external base URL (no trailing
	// slash), for callbacks that clouds or browsers reach.
	PublicURL string
	// HTTP is the client for cloud calls (timeouts, TLS settings).
	HTTP *http.Client
	Now  func() time.Time
}

// Factory builds an adapter from its config block. decode strictly unmarshals
// the block into the adapter's own struct (unknown keys fail). A factory
// validates eagerly and does no network I/O.
type Factory func(env Env, decode func(into any) error) (Adapter, error)

// NopMetrics discards everything.
type NopMetrics struct{}

func (NopMetrics) APIRequest(string, time.Duration, error) {}
func (NopMetrics) RateLimitWait(time.Duration)             {}
func (NopMetrics) TokenExpiry(time.Time)                   {}
func (NopMetrics) StreamConnected(bool)                    {}
func (NopMetrics) Budget(string, float64)                  {}
