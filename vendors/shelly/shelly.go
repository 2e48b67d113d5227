// Package shelly bridges Shelly Cloud devices. One registered vendor serves
// two account types, chosen by the keys of the account entry: tag+token use
// the Integrator API (WebSocket push, consent callbacks, many customer
// accounts), server+auth_key use the Cloud Control API v2 (HTTP polling of
// one account, 1 request/s). Both share the status decoding and the mapping
// of Gen1 and Gen2+ devices to Home Assistant entities.
package shelly

import (
	_ "embed"
	"errors"
	"net/http"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

//go:embed sample.yaml
var sampleYAML string

func init() {
	vendors.Register(vendors.Registration{Vendor: "shelly", Factory: New, Sample: sampleYAML})
}

// New builds a Shelly account adapter from its config block; it does no
// network I/O.
func New(env vendors.Env, decode func(any) error) (vendors.Adapter, error) {
	var cfg config
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	kind, err := cfg.validate(env.Account)
	if err != nil {
		return nil, err
	}
	if env.Redact == nil {
		env.Redact = func(...string) {}
	}
	if env.Metrics == nil {
		env.Metrics = vendors.NopMetrics{}
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: cfg.RequestTimeout}
	}
	env.Redact(cfg.Token.Reveal(), cfg.AuthKey.Reveal())
	switch kind {
	case kindIntegrator:
		return newIntegrator(env, cfg)
	case kindCloud:
		return newCloud(env, cfg)
	}
	return nil, errors.New("unknown account type")
}

// logThrottle lets one log line through per interval and counts the rest.
type logThrottle struct {
	every      time.Duration
	last       time.Time
	suppressed int
}

func (t *logThrottle) allow(now time.Time) (ok bool, suppressed int) {
	if now.Sub(t.last) < t.every {
		t.suppressed++
		return false, 0
	}
	t.last = now
	s := t.suppressed
	t.suppressed = 0
	return true, s
}
