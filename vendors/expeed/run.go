package expeed

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// job is deferred work for the Run loop (a calibration query, a resync).
type job struct {
	due time.Time
	fn  func(ctx context.Context)
}

// Run reads every device once (status, then current datapoints), then keeps
// them live from pushes, polling only devices that have been quiet for
// safety_poll.
func (a *Adapter) Run(ctx context.Context, sink vendors.Sink) error {
	a.mu.Lock()
	if a.sink != nil {
		a.mu.Unlock()
		return errors.New("expeed: the account is already running")
	}
	a.sink = sink
	a.jobs = nil
	a.status = vendors.Status{}
	a.loadLearnedLocked()
	sink.Inventory(a.inventory())
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.sink = nil
		a.jobs = nil
		a.calib.inflight = nil
		a.mu.Unlock()
	}()
	a.report(vendors.StateConnecting, nil)

	bo := vendorkit.Backoff{Base: a.s.BackoffMin, Max: a.s.BackoffMax, Floor: a.s.BackoffMin / 2}
	for {
		err := a.syncAll(ctx, vendorkit.Low)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if vendors.IsPermanent(err) {
			a.report(vendors.StateError, err)
			a.log.Error().Err(err).Msg("expeed account stopped")
			return err
		}
		wait := bo.Next()
		var rl *vendors.RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > wait {
			wait = rl.RetryAfter
		}
		a.report(vendors.StateBackoff, err)
		a.log.Warn().Err(err).Dur("retry_in", wait).Msg("initial read failed")
		if err := vendorkit.Sleep(ctx, nil, wait); err != nil {
			return err
		}
	}
	a.report(vendors.StateConnected, nil)
	return a.loop(ctx)
}

func (a *Adapter) loop(ctx context.Context) error {
	every := a.s.SafetyPoll / 2
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	poll := time.NewTicker(every)
	defer poll.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(a.nextJob())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
			if err := a.pollQuiet(ctx); vendors.IsPermanent(err) {
				a.report(vendors.StateError, err)
				return err
			}
		case <-a.kick:
		case <-timer.C:
		}
		a.runDueJobs(ctx)
	}
}

// schedule queues fn for the Run loop after delay; dropped when Run is not running.
func (a *Adapter) scheduleLocked(delay time.Duration, fn func(ctx context.Context)) {
	if a.sink == nil || len(a.jobs) >= 1000 {
		return
	}
	a.jobs = append(a.jobs, job{due: time.Now().Add(delay), fn: fn})
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func (a *Adapter) nextJob() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := time.Hour
	for _, j := range a.jobs {
		if d := time.Until(j.due); d < next {
			next = max(d, 0)
		}
	}
	return next
}

func (a *Adapter) runDueJobs(ctx context.Context) {
	a.mu.Lock()
	var due []job
	rest := a.jobs[:0]
	now := time.Now()
	for _, j := range a.jobs {
		if !j.due.After(now) {
			due = append(due, j)
		} else {
			rest = append(rest, j)
		}
	}
	a.jobs = rest
	a.mu.Unlock()
	for _, j := range due {
		if ctx.Err() != nil {
			return
		}
		j.fn(ctx)
	}
}

// pollQuiet reads the devices that sent nothing for safety_poll.
func (a *Adapter) pollQuiet(ctx context.Context) error {
	a.mu.Lock()
	var quiet []string
	now := a.now()
	for _, id := range a.ids() {
		if d := a.devices[id]; d.Key != "" && now.Sub(d.lastHeard) >= a.s.SafetyPoll {
			quiet = append(quiet, id)
		}
	}
	a.mu.Unlock()
	for _, id := range quiet {
		if err := a.syncDevice(ctx, id, vendorkit.Low); err != nil {
			if ctx.Err() == nil {
				a.report(vendors.StateBackoff, err)
				if a.logs.ok("poll", a.now()) {
					a.log.Warn().Err(err).Str("device", id).Msg("safety poll failed")
				}
			}
			return err
		}
	}
	if len(quiet) > 0 {
		a.report(vendors.StateConnected, nil)
	}
	return nil
}

// syncAll reads every device; a device-level refusal does not stop it.
func (a *Adapter) syncAll(ctx context.Context, p vendorkit.Priority) error {
	a.mu.Lock()
	ids := a.ids()
	a.mu.Unlock()
	for _, id := range ids {
		if err := a.syncDevice(ctx, id, p); err != nil {
			return err
		}
	}
	return nil
}

// syncDevice reads a device's status and current datapoints. A device the
// cloud does not know (or whose device_key it refuses) is marked off line
// and nil is returned.
func (a *Adapter) syncDevice(ctx context.Context, id string, p vendorkit.Priority) error {
	a.mu.Lock()
	d := a.devices[id]
	key := ""
	if d != nil {
		key = d.Key
	}
	a.mu.Unlock()
	if d == nil {
		return vendors.ErrUnknownDevice
	}
	if key == "" {
		return nil // learnt from a push that carried no device_key
	}
	online, err := a.queryStatus(ctx, id, key, p)
	if err != nil {
		return a.deviceError(id, err)
	}
	a.mu.Lock()
	a.setOnlineLocked(d, online)
	a.mu.Unlock()
	body, err := a.call(ctx, apiCall{op: "currentDatapoints", method: "GET",
		path: "/devices/" + url.PathEscape(id) + "/currentDatapoints", query: url.Values{"id": {"all"}}, key: key, prio: p})
	if err != nil {
		return err
	}
	rec, err := decodeCurrent(body, a.s.zone)
	if err != nil {
		return a.deviceError(id, classify("currentDatapoints", err))
	}
	if rec.StampErr != nil {
		a.log.Debug().Err(rec.StampErr).Str("device", id).Msg("current datapoints: unreadable timestamp; applied as latest")
	}
	a.mu.Lock()
	a.applyRecordsLocked(d, []record{rec})
	a.mu.Unlock()
	return nil
}

func (a *Adapter) queryStatus(ctx context.Context, id, key string, p vendorkit.Priority) (bool, error) {
	body, err := a.call(ctx, apiCall{op: "device_status", method: "GET",
		path: "/devices/device_status/" + url.PathEscape(id), key: key, prio: p})
	if err != nil {
		return false, err
	}
	online, err := decodeStatus(body)
	if err != nil {
		return false, classify("device_status", err)
	}
	return online, nil
}

// deviceError absorbs refusals that concern one device.
func (a *Adapter) deviceError(id string, err error) error {
	code := vendors.Code(err)
	if code != vendors.CodeUnknownDevice && code != vendors.CodeForbidden {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if d := a.devices[id]; d != nil {
		d.lastHeard = a.now()
		a.setOnlineLocked(d, false)
	}
	if a.logs.ok("missing:"+id, a.now()) {
		a.log.Warn().Err(err).Str("device", id).Msg("the cloud refuses this device; marked off line")
	}
	return nil
}

// report sends the account status when it changed.
func (a *Adapter) report(state vendors.AccountState, err error) {
	left := a.tokens.remaining()
	a.mu.Lock()
	defer a.mu.Unlock()
	if isBudget(err) {
		state = vendors.StateBackoff
	}
	st := vendors.Status{State: state,
		Budget: map[string]int64{"token_calls_left": int64(left)},
		Info:   map[string]string{"push_status_online_value": strconv.FormatInt(a.calib.value, 10)}}
	if a.verified {
		st.Info["push_url_verified"] = "yes"
	}
	if err != nil {
		st.LastError = err.Error()
	}
	if st.State == a.status.State && st.LastError == a.status.LastError && sameMap(st.Budget, a.status.Budget) && sameMap(st.Info, a.status.Info) {
		return
	}
	a.status = st
	if a.sink != nil {
		a.sink.Status(st)
	}
}

// reportKeep reports the same state and error again (budget or info changed).
func (a *Adapter) reportKeep() {
	a.mu.Lock()
	state, last := a.status.State, a.status.LastError
	a.mu.Unlock()
	if state == "" {
		return
	}
	var err error
	if last != "" {
		err = errors.New(last)
	}
	a.report(state, err)
}

// noteCall moves the account between connected and backoff after a user call.
func (a *Adapter) noteCall(err error) {
	a.mu.Lock()
	state := a.status.State
	a.mu.Unlock()
	if state == "" || state == vendors.StateConnecting || state == vendors.StateError {
		return
	}
	switch code := vendors.Code(err); {
	case err == nil:
		a.report(vendors.StateConnected, nil)
	case isBudget(err), code == vendors.CodeUnavailable, code == vendors.CodeRateLimited, code == vendors.CodeAuth:
		a.report(vendors.StateBackoff, err)
	}
}

func sameMap[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Refresh reads a device (or, for "", every device) now.
func (a *Adapter) Refresh(ctx context.Context, id string) error {
	var err error
	if id == "" {
		err = a.syncAll(ctx, vendorkit.Low)
	} else {
		a.mu.Lock()
		_, known := a.devices[id]
		a.mu.Unlock()
		if !known {
			return &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "expeed: no device " + strconv.Quote(clip(id, 64))}
		}
		err = a.syncDevice(ctx, id, vendorkit.Low)
	}
	a.noteCall(err)
	return err
}
