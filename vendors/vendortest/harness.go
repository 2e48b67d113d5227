// Package vendortest is the conformance suite every vendor adapter passes
// against its own simulator. A vendor's conformance_test.go is one call:
//
//	func TestConformance(t *testing.T) {
//		vendortest.Run(t, vendortest.Opt{Vendor: "ewelink", New: newHarness})
//	}
//
// The harness wraps the vendor's simulator (which imports no adapter code).
// Optional capabilities are interfaces; a subtest whose capability the harness
// lacks is skipped with the reason, never faked.
package vendortest

import (
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Harness is one running simulator and an account config pointing at it.
type Harness interface {
	// Config is the YAML mapping of one account entry (the keys under a list
	// item of vendors.<vendor>), with a short poll interval and short backoff
	// so the suite runs in seconds.
	Config() string
	// Secrets lists every credential in Config and every token the simulator
	// issued so far; none may appear in logs, errors or status.
	Secrets() []string
	// Requests is the simulator's log of cloud API calls (HTTP requests and
	// stream messages sent by the adapter), oldest first.
	Requests() []Request
	// Violations counts requests the simulator refused or would have refused
	// for breaking the cloud's documented limits.
	Violations() int
	// Limit is the documented request budget the log is checked against:
	// at most N requests in any window of Per (zero Per: unchecked).
	Limit() Limit
	// Change makes the cloud change one online device's state on its own (as
	// a person pressing a button would) and says what the adapter must report.
	Change(t *testing.T) Change
	// Close stops the simulator.
	Close()
}

// Request is one logged cloud call.
type Request struct {
	Time time.Time
	// Op names the call ("POST /v2/device/thing/status", "ws update").
	Op string
	// Status is the HTTP status or cloud code answered (0 if none).
	Status int
	// Login is true for a call that obtains or refreshes a token.
	Login bool
	// Throttled is true for a call the simulator refused for rate reasons
	// (the cloud's 429 or its equivalent code).
	Throttled bool
}

// Stream message ops start with this prefix ("ws update", "ws ping"); they are
// exempt from the wait after a throttled HTTP call.
const StreamOpPrefix = "ws "

// Limit is N requests per window.
type Limit struct {
	N   int
	Per time.Duration
}

// Change is an expected state update.
type Change struct {
	DeviceID string
	Key      string
	Want     any
}

// StreamDropper is a simulator with push streams it can cut.
type StreamDropper interface {
	// DropStreams closes every open stream abruptly and returns how many.
	DropStreams() int
}

// FaultInjector answers the next n API requests with an HTTP status (5xx).
type FaultInjector interface {
	FailNext(status, n int)
}

// Throttler answers the next n API requests as the cloud does when its rate
// limit is exceeded, asking the client to wait retryAfter (zero: no hint).
type Throttler interface {
	ThrottleNext(retryAfter time.Duration, n int)
}

// TokenExpirer invalidates every access token issued so far.
type TokenExpirer interface {
	ExpireTokens()
}

// BadCredentials gives a config whose credentials the cloud refuses.
type BadCredentials interface {
	BadConfig() string
}

// Offliner takes a device off line and back.
type Offliner interface {
	SetOnline(deviceID string, online bool)
}

// Mounter receives the adapter's HTTP routes (vendors.Router) right after the
// suite builds it, for simulators that call the bridge (webhooks, consent
// callbacks): the harness serves them where its simulator sends.
type Mounter interface {
	Mount(routes []vendors.Route)
}

// PublicURLer gives the bridge base URL the adapter should put in callback URLs.
type PublicURLer interface {
	PublicURL() string
}

// CommandSkipper excludes an entity from the command round trip, with the
// reason (e.g. a firmware install that takes minutes).
type CommandSkipper interface {
	SkipCommand(deviceID, key string) (reason string, skip bool)
}
