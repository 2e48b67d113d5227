package ezviz

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Adapter is one EZVIZ Open Platform account.
type Adapter struct {
	cfg     config
	env     vendors.Env
	log     zerolog.Logger
	now     func() time.Time
	api     *client
	img     *http.Client
	metrics vendors.Metrics

	relist       chan struct{} // the trust callback asks for a new device list
	upgradeStart chan struct{} // a firmware install was started

	mu        sync.Mutex
	sink      vendors.Sink
	devices   map[string]*device    // by adapter id
	order     []string              // ids in inventory order
	disc      map[string]*discovery // by serial
	published map[string]map[string]any
	online    map[string]bool         // what commands go by
	availSent map[string]bool         // what the sink was told
	pending   map[string]pendingValue // optimistic values after a command
	invSig    string
	upgrading map[string]bool
	fw        map[string]*fwState
	trusted   int // trusted devices seen in the last list (trust mode)
	alarms    alarmCursor
	captures  map[string]*captureSlot
	ptz       map[string]*sync.Mutex
	trust     trustFlow

	// captureMu guards capturePause (10028: the capture quota is used up).
	captureMu    sync.Mutex
	capturePause time.Time
}

// pendingValue is a commanded value that polls may not overwrite with an
// older reading until it is confirmed or settle time passes.
type pendingValue struct {
	value any
	until time.Time
}

// settle is how long a commanded value wins over contradicting polls (the
// cloud may answer a read from before the change).
const settle = 3 * time.Second

// New is the vendors.Factory.
func New(env vendors.Env, decode func(any) error) (vendors.Adapter, error) {
	var cfg config
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if err := cfg.validate(env.PublicURL); err != nil {
		return nil, err
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Metrics == nil {
		env.Metrics = vendors.NopMetrics{}
	}
	if env.Redact == nil {
		env.Redact = func(...string) {}
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: cfg.Timeout}
	}
	if env.Account == "" {
		env.Account = cfg.Name
	}
	env.Redact(cfg.AppSecret.Reveal(), cfg.AppKey)
	a := &Adapter{
		cfg:          cfg,
		env:          env,
		log:          env.Log,
		now:          env.Now,
		img:          env.HTTP,
		metrics:      env.Metrics,
		relist:       make(chan struct{}, 1),
		upgradeStart: make(chan struct{}, 1),
		devices:      map[string]*device{},
		disc:         map[string]*discovery{},
		published:    map[string]map[string]any{},
		online:       map[string]bool{},
		availSent:    map[string]bool{},
		pending:      map[string]pendingValue{},
		upgrading:    map[string]bool{},
		captures:     map[string]*captureSlot{},
		ptz:          map[string]*sync.Mutex{},
	}
	limit := rate.Limit(cfg.RateLimit)
	a.api = &client{
		cfg:     &a.cfg,
		lim:     vendorkit.NewLimiter(limit, cfg.RateBurst),
		now:     env.Now,
		log:     a.log,
		metrics: env.Metrics,
	}
	a.api.hc = &vendorkit.HTTPClient{Client: env.HTTP, Metrics: env.Metrics}
	a.api.tokens = newTokenManager(&a.cfg, a.api, env.Store, env.Redact, a.log)
	a.trust.init()
	return a, nil
}

// Run polls the account until ctx ends or the credentials are refused.
func (a *Adapter) Run(ctx context.Context, sink vendors.Sink) error {
	a.mu.Lock()
	a.sink = sink
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.sink = nil
		a.mu.Unlock()
	}()
	a.loadAlarmCursor()
	sink.Status(a.statusValue(vendors.StateConnecting, ""))
	sup := vendorkit.Supervisor{
		Backoff:     vendorkit.Backoff{Base: a.cfg.BackoffMin, Max: a.cfg.BackoffMax, Floor: a.cfg.BackoffMin / 2},
		StableAfter: 2 * a.cfg.PollInterval,
		OnRetry: func(err error, wait time.Duration) {
			a.log.Warn().Err(err).Dur("retry_in", wait).Msg("ezviz session failed")
			sink.Status(a.statusValue(vendors.StateBackoff, err.Error()))
		},
	}
	err := sup.Run(ctx, func(ctx context.Context) error { return a.session(ctx, sink) })
	if vendors.IsPermanent(err) {
		a.log.Error().Err(err).Msg("ezviz account stopped")
		sink.Status(a.statusValue(vendors.StateError, err.Error()))
	}
	return err
}

// session is one run of discovery followed by the poll loop; it returns on
// an account-level failure so the supervisor backs off and starts over.
func (a *Adapter) session(ctx context.Context, sink vendors.Sink) error {
	if err := a.pollList(ctx, vendorkit.Low); err != nil {
		return err
	}
	if err := a.pollAlarms(ctx); err != nil && !isRateLimit(err) {
		return err
	}
	sink.Status(a.statusValue(vendors.StateConnected, ""))

	poll := time.NewTicker(a.cfg.PollInterval)
	defer poll.Stop()
	status := time.NewTicker(a.cfg.StatusInterval)
	defer status.Stop()
	settings := time.NewTicker(a.cfg.SettingsInterval)
	defer settings.Stop()
	var snapshots <-chan time.Time
	if a.cfg.SnapshotInterval > 0 {
		t := time.NewTicker(a.cfg.SnapshotInterval)
		defer t.Stop()
		snapshots = t.C
	}
	motion := time.NewTimer(time.Hour)
	defer motion.Stop()
	upgrade := time.NewTicker(a.cfg.UpgradeInterval)
	defer upgrade.Stop()

	lastErr := ""
	for {
		a.armMotionTimer(motion)
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			if err = a.pollList(ctx, vendorkit.Low); err == nil {
				err = a.pollAlarms(ctx)
			}
		case <-a.relist:
			err = a.pollList(ctx, vendorkit.Low)
		case <-status.C:
			err = a.pollStatus(ctx, "", vendorkit.Low)
		case <-settings.C:
			err = a.pollSettings(ctx, "", vendorkit.Low)
		case <-snapshots:
			err = a.snapshotAll(ctx, vendorkit.Low)
		case <-motion.C:
			a.expireMotion()
		case <-upgrade.C:
			err = a.pollUpgrades(ctx)
		case <-a.upgradeStart:
			err = a.pollUpgrades(ctx)
		}
		switch {
		case err == nil:
			if lastErr != "" {
				lastErr = ""
				sink.Status(a.statusValue(vendors.StateConnected, ""))
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case isRateLimit(err):
			// The client pauses every call; the loop just waits for the next tick.
			if msg := err.Error(); msg != lastErr {
				lastErr = msg
				a.log.Warn().Err(err).Msg("ezviz rate limited")
				sink.Status(a.statusValue(vendors.StateBackoff, msg))
			}
		case accountLevel(err):
			return err
		default:
			a.log.Debug().Err(err).Msg("ezviz poll step failed")
		}
	}
}

func isRateLimit(err error) bool {
	var rl *vendors.RateLimitError
	return errors.As(err, &rl)
}

// statusValue is the account status with the trust flow's facts.
func (a *Adapter) statusValue(state vendors.AccountState, lastErr string) vendors.Status {
	s := vendors.Status{State: state, LastError: lastErr}
	if a.cfg.Mode != modeTrust {
		return s
	}
	base := a.env.PublicURL + a.routeBase()
	s.Info = map[string]string{
		"trust_url":          base + trustStartPath,
		"trust_callback_url": base + trustCallbackPath,
	}
	a.mu.Lock()
	pending := a.trusted == 0
	a.mu.Unlock()
	if pending {
		s.Reauth = true
		s.ReauthURL = base + trustStartPath
	}
	return s
}

// publish merges poll or command values into the device state, sending only
// what changed; values contradicting a pending command are held back.
func (a *Adapter) publish(id string, values map[string]any, fromPoll bool) {
	a.mu.Lock()
	sink := a.sink
	prev := a.published[id]
	if prev == nil {
		prev = map[string]any{}
		a.published[id] = prev
	}
	now := a.now()
	out := map[string]any{}
	for k, v := range values {
		pk := id + "/" + k
		if p, ok := a.pending[pk]; ok {
			if fromPoll && now.Before(p.until) && !same(p.value, v) {
				continue
			}
			if fromPoll {
				delete(a.pending, pk)
			}
		}
		if old, ok := prev[k]; ok && same(old, v) {
			continue
		}
		prev[k] = v
		out[k] = v
	}
	a.mu.Unlock()
	if sink != nil && len(out) > 0 {
		sink.Update(id, out)
	}
}

// commanded publishes a value the cloud acknowledged and holds it against
// stale polls for a while.
func (a *Adapter) commanded(id, key string, v any) {
	a.mu.Lock()
	a.pending[id+"/"+key] = pendingValue{value: v, until: a.now().Add(settle)}
	a.mu.Unlock()
	a.publish(id, map[string]any{key: v}, false)
}

func (a *Adapter) setOnline(id string, online bool) {
	a.mu.Lock()
	sink := a.sink
	a.online[id] = online
	old, known := a.availSent[id]
	a.availSent[id] = online
	a.mu.Unlock()
	if sink != nil && (!known || old != online) {
		sink.Availability(id, online)
	}
}

func same(a, b any) bool {
	if ua, ok := a.(vendors.UpdateState); ok {
		ub, ok := b.(vendors.UpdateState)
		return ok && ua.InstalledVersion == ub.InstalledVersion && ua.LatestVersion == ub.LatestVersion &&
			ua.InProgress == ub.InProgress && intPtrEq(ua.Percentage, ub.Percentage)
	}
	return a == b
}

func intPtrEq(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
