package shelly

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// cloud is a Cloud Control API v2 account: configured devices are polled in
// batches of ten; commands share the same 1 request/s limiter and go first.
type cloud struct {
	cfg     config
	env     vendors.Env
	log     zerolog.Logger
	hc      *http.Client
	limiter *vendorkit.Limiter
	gate    *gate
	fleet   *fleet
	queue   *cmdQueue
	urgent  chan string
	unauth  atomic.Int32
	fatal   chan error

	mu         sync.Mutex
	pub        *publisher
	sink       vendors.Sink
	lastStatus *vendors.Status
	missing    map[string]bool
	pollLogs   logThrottle
}

const maxIDsPerGet = 10

// gate is an account's pacing: the priority limiter hands out turns (1 per
// request_interval, commands first), and at most one request is in flight,
// starting no sooner than request_interval after the previous answer. The
// second rule keeps the spacing the cloud sees even when a request is
// delayed between our clock and its arrival (a loaded host, a slow link).
type gate struct {
	limiter   *vendorkit.Limiter
	every     time.Duration
	mu        sync.Mutex
	lastDone  time.Time
	notBefore time.Time // set by a throttled answer
}

var (
	gatesMu sync.Mutex
	gates   = map[[32]byte]*gate{}
)

// accountGate returns the one gate of an account (server + key), so an
// adapter rebuilt in the same process (a config reload, a restart of the
// account) keeps to the cloud's 1 request/s across the change.
func accountGate(server, key string, every time.Duration) *gate {
	id := sha256.Sum256([]byte(server + "\x00" + key + "\x00" + every.String()))
	gatesMu.Lock()
	defer gatesMu.Unlock()
	g, ok := gates[id]
	if !ok {
		g = &gate{limiter: vendorkit.NewLimiter(rate.Every(every), 1), every: every}
		gates[id] = g
	}
	return g
}

// exchange sends req alone on the account and reads the answer. A
// throttled answer (429 with its Retry-After, or 401 which the cloud is
// reported to use too) holds the next request for hold: requests that
// already had their turn from the limiter wait here as well.
func (g *gate) exchange(ctx context.Context, hc *http.Client, req *http.Request, hold401 time.Duration) (*http.Response, []byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	at := g.lastDone.Add(g.every)
	if g.notBefore.After(at) {
		at = g.notBefore
	}
	if wait := time.Until(at); wait > 0 {
		if err := vendorkit.Sleep(ctx, nil, wait); err != nil {
			return nil, nil, err
		}
	}
	resp, err := hc.Do(req)
	g.lastDone = time.Now()
	if err != nil {
		return nil, nil, vendorkit.ScrubError(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		g.notBefore = g.lastDone.Add(vendorkit.RetryAfter(resp, 2*time.Second))
	case http.StatusUnauthorized:
		g.notBefore = g.lastDone.Add(hold401)
	}
	body, err := vendorkit.ReadBody(resp)
	return resp, body, err
}

func newCloud(env vendors.Env, cfg config) (*cloud, error) {
	log := env.Log.With().Str("api", "cloud_v2").Logger()
	c := &cloud{
		cfg: cfg, env: env, log: log, hc: env.HTTP,
		gate:     accountGate(cfg.Server, cfg.AuthKey.Reveal(), cfg.RequestInterval),
		fleet:    newFleet(log),
		urgent:   make(chan string, 64),
		fatal:    make(chan error, 1),
		missing:  map[string]bool{},
		pollLogs: logThrottle{every: time.Minute},
	}
	c.limiter = c.gate.limiter
	c.queue = &cmdQueue{c: c}
	for _, id := range cfg.Devices {
		c.fleet.ensure(id, nil)
	}
	return c, nil
}

func (c *cloud) publisher() *publisher {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pub
}

// Run polls every configured device until ctx ends or the key is refused.
func (c *cloud) Run(ctx context.Context, sink vendors.Sink) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		c.mu.Lock()
		c.pub, c.sink = nil, nil
		c.mu.Unlock()
	}()
	want := map[string]bool{}
	for _, id := range c.cfg.Devices {
		want[id] = true
	}
	if err := c.fleet.restore(c.env.Store, want); err != nil {
		c.log.Warn().Err(err).Msg("cannot read stored device shapes")
	}
	pub := newPublisher(sink, c.fleet, c.env.Store, c.log, 50*time.Millisecond)
	c.mu.Lock()
	c.pub, c.sink, c.lastStatus = pub, sink, nil
	c.mu.Unlock()
	wg.Go(func() { pub.run(ctx) })
	c.report(vendors.StateConnecting, "")
	return c.poll(ctx)
}

func (c *cloud) poll(ctx context.Context) error {
	bo := vendorkit.Backoff{Base: c.cfg.BackoffBase, Max: c.cfg.BackoffMax, Floor: c.cfg.BackoffBase / 2}
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastSettings time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-c.fatal:
			c.report(vendors.StateError, err.Error())
			return err
		case id := <-c.urgent:
			ids := []string{id}
		drain:
			for len(ids) < maxIDsPerGet {
				select {
				case more := <-c.urgent:
					ids = appendUnique(ids, more)
				default:
					break drain
				}
			}
			if err := c.get(ctx, ids, false); err != nil {
				if perm := c.handleRoundError(ctx, err); perm != nil {
					return perm
				}
			}
			continue
		case <-timer.C:
		}
		start := c.env.Now()
		settings := start.Sub(lastSettings) >= c.cfg.SettingsInterval
		err := c.round(ctx, settings)
		if err == nil {
			if settings {
				lastSettings = start
			}
			bo.Reset()
			c.report(vendors.StateConnected, "")
			timer.Reset(max(c.cfg.PollInterval-c.env.Now().Sub(start), 0))
			continue
		}
		if perm := c.handleRoundError(ctx, err); perm != nil {
			return perm
		}
		var rl *vendors.RateLimitError
		switch {
		case errors.As(err, &rl), vendors.Code(err) == vendors.CodeAuth:
			timer.Reset(0) // the limiter is paused for the wait the cloud asked for
		default:
			wait := bo.Next()
			ev := c.log.Debug()
			if ok, n := c.pollLogs.allow(c.env.Now()); ok {
				ev = c.log.Warn().Int("suppressed", n)
			}
			ev.Err(err).Dur("retry_in", wait).Msg("poll failed")
			timer.Reset(wait)
		}
	}
}

// handleRoundError reports a failed round; it returns the error when Run
// must end with it.
func (c *cloud) handleRoundError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if vendors.IsPermanent(err) {
		c.report(vendors.StateError, err.Error())
		return err
	}
	c.report(vendors.StateBackoff, err.Error())
	return nil
}

func appendUnique(ids []string, id string) []string {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

// round reads every device: ⌈N/10⌉ requests.
func (c *cloud) round(ctx context.Context, settings bool) error {
	ids := c.fleet.ids()
	for i := 0; i < len(ids); i += maxIDsPerGet {
		if err := c.get(ctx, ids[i:min(i+maxIDsPerGet, len(ids))], settings); err != nil {
			return err
		}
	}
	return nil
}

// get reads up to ten devices with one request.
func (c *cloud) get(ctx context.Context, ids []string, settings bool) error {
	start := time.Now()
	if err := c.limiter.Wait(ctx, vendorkit.Low); err != nil {
		return err
	}
	c.env.Metrics.RateLimitWait(time.Since(start))
	body := map[string]any{"ids": ids, "select": []string{"status"}}
	if settings {
		body["select"] = []string{"status", "settings"}
		pick := map[string]bool{"sys": true, "name": true, "mode": true, "fw": true, "relays": true, "rollers": true, "lights": true}
		for _, id := range ids {
			for _, k := range c.fleet.statusKeys(id) {
				pick[k] = true
			}
		}
		keys := make([]string, 0, len(pick))
		for k := range pick {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		body["pick"] = map[string][]string{"settings": keys}
	}
	raw, err := c.post(ctx, "get", body)
	if err != nil {
		return err
	}
	items, err := parseGetResponse(raw)
	if err != nil {
		return err
	}
	c.apply(ids, items)
	return nil
}

// apply takes a get answer into the fleet and the sink.
func (c *cloud) apply(asked []string, items []getItem) {
	pub := c.publisher()
	seen := map[string]bool{}
	for _, it := range items {
		id := c.fleet.norm(it.Wire)
		if !c.fleet.known(id) {
			continue
		}
		seen[id] = true
		inv := c.fleet.ensure(id, func(m *meta) {
			if it.Code != "" {
				m.Code = it.Code
			}
			if it.Type != "" {
				m.Type = it.Type
			}
			if it.Gen != "" {
				m.Gen = it.Gen
			}
		})
		if it.Settings != nil {
			i, _, _ := c.fleet.applySettings(id, it.Settings)
			inv = inv || i
		}
		var vals map[string]any
		if it.Status != nil {
			v, i, _ := c.fleet.applyStatus(id, it.Status, true, it.Wire)
			vals, inv = v, inv || i
		}
		if pub != nil {
			pub.update(id, vals, inv)
			if it.OnlineKnown {
				if changed, _ := c.fleet.setOnline(id, it.Online); changed {
					pub.availability(id, it.Online)
				}
			}
		}
	}
	for _, id := range asked {
		if seen[id] {
			continue
		}
		c.mu.Lock()
		first := !c.missing[id]
		c.missing[id] = true
		c.mu.Unlock()
		if first {
			c.log.Warn().Str("device", id).Msg("the cloud does not return this configured device (wrong id or another account?)")
		}
		if changed, _ := c.fleet.setOnline(id, false); changed && pub != nil {
			pub.availability(id, false)
		}
	}
}

// post sends one API request; the caller holds a limiter token. The
// auth_key rides in the query string, so the URL never reaches a log or an
// error.
func (c *cloud) post(ctx context.Context, op string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	u := c.cfg.Server + "/v2/devices/api/" + op + "?auth_key=" + url.QueryEscape(c.cfg.AuthKey.Reveal())
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return nil, vendorkit.ScrubError(err)
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, raw, rerr := c.gate.exchange(ctx, c.hc, req, c.cfg.UnauthorizedRetry)
	if resp == nil {
		if rerr == nil {
			rerr = errors.New("no answer")
		}
		c.env.Metrics.APIRequest(op, time.Since(start), rerr)
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, ctx.Err()
		}
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "request failed", Err: rerr}
	}
	var statusErr error
	if resp.StatusCode >= 400 {
		statusErr = errors.New("http " + strconv.Itoa(resp.StatusCode))
	}
	c.env.Metrics.APIRequest(op, time.Since(start), statusErr)
	if rerr != nil {
		return nil, &vendors.Error{Code: vendors.CodeUnavailable, Message: "reading the answer failed", Err: rerr}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		wait := vendorkit.RetryAfter(resp, 2*time.Second)
		c.limiter.Pause(wait)
		return nil, &vendors.RateLimitError{RetryAfter: wait}
	case s == http.StatusUnauthorized:
		// A bad key, or (as some report) the cloud's rate limit: wait, try
		// once more, and give up on the second refusal in a row.
		n := c.unauth.Add(1)
		c.limiter.Pause(c.cfg.UnauthorizedRetry)
		if n >= 2 {
			err := vendors.Permanent(&vendors.Error{Code: vendors.CodeAuth, Message: "auth_key refused twice (http 401): get a new key in the Shelly app (it changes with the password) and check server"})
			select {
			case c.fatal <- err:
			default:
			}
			return nil, err
		}
		return nil, &vendors.Error{Code: vendors.CodeAuth, Message: "the cloud refused the auth_key (http 401); retrying once"}
	case s >= 400:
		return nil, cloudError(s, raw)
	}
	c.unauth.Store(0)
	if bytes.Contains(raw, []byte(`"isok"`)) || bytes.Contains(raw, []byte(`"error"`)) {
		var env struct {
			IsOK  any             `json:"isok"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(raw, &env) == nil {
			if ok, known := flag(env.IsOK); (known && !ok) || len(env.Error) > 0 && string(env.Error) != "null" {
				return nil, cloudError(resp.StatusCode, raw)
			}
		}
	}
	return raw, nil
}

// report sends the account status when it changed.
func (c *cloud) report(state vendors.AccountState, lastErr string) {
	n := len(c.cfg.Devices)
	st := vendors.Status{State: state, LastError: lastErr, Info: map[string]string{
		"api":                "cloud_v2",
		"devices":            strconv.Itoa(n),
		"requests_per_round": strconv.Itoa((n + maxIDsPerGet - 1) / maxIDsPerGet),
		"poll_interval":      c.cfg.PollInterval.String(),
	}}
	c.mu.Lock()
	sink := c.sink
	if sink == nil || (c.lastStatus != nil && reflect.DeepEqual(*c.lastStatus, st)) {
		c.mu.Unlock()
		return
	}
	c.lastStatus = &st
	c.mu.Unlock()
	sink.Status(st)
}

// Refresh reads one device (or all) now, within the rate limit.
func (c *cloud) Refresh(ctx context.Context, id string) error {
	if id == "" {
		return c.round(ctx, false)
	}
	if !c.fleet.known(id) {
		return &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no configured shelly device " + id}
	}
	return c.get(ctx, []string{id}, false)
}
