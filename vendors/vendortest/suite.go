package vendortest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Opt configures a conformance run.
type Opt struct {
	// Vendor is the registered vendor name.
	Vendor string
	// New starts a fresh simulator for one subtest; the suite closes it.
	New func(t *testing.T) Harness
	// Skip names subtests to skip, with the reason.
	Skip map[string]string
	// Timeout bounds each wait for the adapter (default 10 s).
	Timeout time.Duration
}

// Run is the conformance suite. Each subtest gets a fresh simulator.
func Run(t *testing.T, opt Opt) {
	if opt.Timeout == 0 {
		opt.Timeout = 10 * time.Second
	}
	tests := []struct {
		name string
		fn   func(*suite, *testing.T)
	}{
		{"config", (*suite).config},
		{"inventory", (*suite).inventory},
		{"state", (*suite).state},
		{"commands", (*suite).commands},
		{"command_errors", (*suite).commandErrors},
		{"stream_drop", (*suite).streamDrop},
		{"server_errors", (*suite).serverErrors},
		{"throttle", (*suite).throttle},
		{"throttle_without_hint", (*suite).throttleWithoutHint},
		{"token_expiry", (*suite).tokenExpiry},
		{"bad_credentials", (*suite).badCredentials},
		{"cancel", (*suite).cancel},
		{"slow_responses", (*suite).slowResponses},
		{"connection_refused", (*suite).connectionRefused},
		{"truncated_bodies", (*suite).truncatedBodies},
		{"non_json_bodies", (*suite).nonJSONBodies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if reason, ok := opt.Skip[tc.name]; ok {
				t.Skip(reason)
			}
			// Registered first, so it runs last: after the harness and
			// every session are closed, no goroutine started during the
			// subtest may remain (the adapter's, its HTTP connections',
			// the simulator's).
			before := goleak.IgnoreCurrent()
			t.Cleanup(func() {
				// goleak retries for about 2 s; a loaded CI machine gets 3 s more.
				err := goleak.Find(before)
				for i := 0; err != nil && i < 3; i++ {
					time.Sleep(time.Second)
					err = goleak.Find(before)
				}
				if err != nil {
					t.Errorf("goroutines left after the subtest: %v", err)
				}
			})
			h := opt.New(t)
			t.Cleanup(h.Close)
			s := &suite{opt: opt, h: h, store: t.TempDir(), faults: &cloudFaults{}}
			tc.fn(s, t)
			s.checkHygiene(t)
		})
	}
}

type suite struct {
	opt      Opt
	h        Harness
	store    string
	sessions []*session
	faults   *cloudFaults // between every adapter and its cloud
}

func (s *suite) build(t *testing.T, config string) (*session, error) {
	ss, err := build(t, s.opt.Vendor, s.h, config, s.store, s.faults)
	if ss != nil {
		s.sessions = append(s.sessions, ss)
	}
	return ss, err
}

func (s *suite) mustStart(t *testing.T) *session {
	t.Helper()
	ss, err := s.build(t, s.h.Config())
	if err != nil {
		t.Fatalf("factory refused the harness config: %v", err)
	}
	ss.start()
	return ss
}

// config: the factory decodes strictly, refuses bad blocks and calls no cloud.
func (s *suite) config(t *testing.T) {
	before := len(s.h.Requests())
	if _, err := s.build(t, s.h.Config()); err != nil {
		t.Fatalf("factory refused the harness config: %v", err)
	}
	if _, err := s.build(t, s.h.Config()+"\nno_such_key_c2m: 1\n"); err == nil {
		t.Errorf("an unknown key was accepted")
	} else if !strings.Contains(err.Error(), "no_such_key_c2m") {
		t.Errorf("unknown key error does not name the key: %v", err)
	}
	if _, err := s.build(t, "name: empty\n"); err == nil {
		t.Errorf("a config without credentials was accepted")
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(s.h.Requests()) - before; n != 0 {
		t.Errorf("building adapters made %d cloud requests; factories must do no I/O", n)
	}
}

// inventory: devices arrive, validate, have unique stable ids.
func (s *suite) inventory(t *testing.T) {
	ss := s.mustStart(t)
	devs := ss.waitInventory(s.opt.Timeout)
	ids := make([]string, 0, len(devs))
	for id, d := range devs {
		ids = append(ids, id)
		if err := d.Validate(); err != nil {
			t.Errorf("device %s does not validate: %v", id, err)
		}
		if d.Via != "" {
			if _, ok := devs[d.Via]; !ok {
				t.Errorf("device %s is via %s, which is not in the inventory", id, d.Via)
			}
		}
	}
	sort.Strings(ids)
	ss.stop()

	again := s.mustStart(t)
	again.rec.WaitFor(t, s.opt.Timeout, "the same inventory after a restart", func() bool {
		return len(again.rec.Devices()) == len(ids)
	})
	for _, id := range ids {
		if _, ok := again.rec.Devices()[id]; !ok {
			t.Errorf("device %s vanished after a restart", id)
		}
	}
	again.stop()
}

// state: a change at the cloud is reported.
func (s *suite) state(t *testing.T) {
	ss := s.mustStart(t)
	ss.waitInventory(s.opt.Timeout)
	for i := 0; i < 3; i++ {
		c := s.h.Change(t)
		ss.rec.WaitValue(t, s.opt.Timeout, c.DeviceID, c.Key, c.Want)
	}
	ss.stop()
}

// commands: every writable entity of every online device round-trips, and a
// fresh adapter reads the commanded values back from the cloud.
func (s *suite) commands(t *testing.T) {
	ss := s.mustStart(t)
	devs := ss.waitInventory(s.opt.Timeout)
	// Let first states arrive so current values are known.
	ss.rec.Await(s.opt.Timeout, func() bool {
		for id, d := range devs {
			for _, e := range d.Entities {
				if e.Writable && hasState(e.Platform) {
					if _, ok := ss.rec.Value(id, e.Key); !ok {
						return false
					}
				}
			}
		}
		return true
	})
	type expectation struct {
		id, key string
		want    any
	}
	var persisted []expectation
	ids := sortedIDs(devs)
	tried := 0
	for _, id := range ids {
		d := devs[id]
		if online, known := ss.rec.Online(id); known && !online {
			continue
		}
		for _, e := range d.Entities {
			if !e.Writable {
				continue
			}
			if sk, ok := s.h.(CommandSkipper); ok {
				if reason, skip := sk.SkipCommand(id, e.Key); skip {
					t.Logf("skip %s/%s: %s", id, e.Key, reason)
					continue
				}
			}
			cur, _ := ss.rec.Value(id, e.Key)
			cmd, key, want := commandFor(e, cur, ss.rec, id)
			cmd.DeviceID = id
			if err := ss.execute(cmd, s.opt.Timeout); err != nil {
				t.Errorf("%s/%s: command %+v failed: %v (code %s)", id, e.Key, cmd.Value, err, vendors.Code(err))
				continue
			}
			tried++
			if want == nil {
				continue
			}
			ss.rec.WaitValue(t, s.opt.Timeout, id, key, want)
			if e.Platform != vendors.Light && e.Platform != vendors.AlarmControlPanel {
				persisted = append(persisted, expectation{id, key, want})
			}
		}
	}
	if tried == 0 {
		t.Skip("no online device has a writable entity")
	}
	ss.stop()

	fresh := s.mustStart(t)
	fresh.waitInventory(s.opt.Timeout)
	for _, e := range persisted {
		want := e.want
		if o, ok := want.(OneOf); ok && len(o) > 0 {
			want = o[len(o)-1] // a moving cover has arrived by now
		}
		fresh.rec.WaitValue(t, s.opt.Timeout, e.id, e.key, want)
	}
	fresh.stop()
}

func hasState(p vendors.Platform) bool {
	switch p {
	case vendors.Button, vendors.Update:
		return false
	}
	return true
}

// commandFor picks a command that changes the entity and the value to expect
// under key afterwards (nil: no state to check).
func commandFor(e vendors.Entity, cur any, rec *Recorder, id string) (vendors.Command, string, any) {
	cmd := vendors.Command{Key: e.Key}
	switch e.Platform {
	case vendors.Switch:
		on := cur != vendors.On
		cmd.Value = on
		return cmd, e.Key, onOff(on)
	case vendors.Fan:
		on := cur != vendors.On
		cmd.Value = vendors.FanCommand{On: &on}
		return cmd, e.Key, onOff(on)
	case vendors.Light:
		on := true
		b := 128
		if ls, ok := cur.(vendors.LightState); ok && ls.Brightness != nil && abs(*ls.Brightness-b) < 20 {
			b = 64
		}
		lc := vendors.LightCommand{On: &on}
		want := vendors.LightState{State: vendors.On}
		if e.Light != nil && !e.Light.Supports("onoff") {
			lc.Brightness = &b
			want.Brightness = &b
		}
		cmd.Value = lc
		return cmd, e.Key, want
	case vendors.Cover:
		if e.Cover != nil && e.Cover.PositionKey != "" {
			pos := 40
			if p, ok := rec.Value(id, e.Cover.PositionKey); ok {
				if f, ok := number(p); ok && f > 30 && f < 50 {
					pos = 70
				}
			}
			cmd.Value = vendors.CoverCommand{Position: &pos}
			return cmd, e.Cover.PositionKey, Near{float64(pos), 2}
		}
		if cur == vendors.CoverOpen || cur == vendors.CoverOpening {
			cmd.Value = vendors.CoverCommand{Action: vendors.CoverActionClose}
			return cmd, e.Key, OneOf{vendors.CoverClosing, vendors.CoverClosed}
		}
		cmd.Value = vendors.CoverCommand{Action: vendors.CoverActionOpen}
		return cmd, e.Key, OneOf{vendors.CoverOpening, vendors.CoverOpen}
	case vendors.Number:
		target := e.Min
		if f, ok := number(cur); ok && f == e.Min {
			target = e.Max
		}
		cmd.Value = target
		return cmd, e.Key, target
	case vendors.Select:
		for _, o := range e.Options {
			if o != cur {
				cmd.Value = o
				return cmd, e.Key, o
			}
		}
		cmd.Value = e.Options[0]
		return cmd, e.Key, e.Options[0]
	case vendors.AlarmControlPanel:
		states := map[string]string{"ARM_HOME": "armed_home", "ARM_AWAY": "armed_away", "ARM_NIGHT": "armed_night", "ARM_VACATION": "armed_vacation", "DISARM": "disarmed"}
		for _, o := range e.Options {
			if st, ok := states[o]; ok && st != cur {
				cmd.Value = o
				return cmd, e.Key, st
			}
		}
		cmd.Value = e.Options[0]
		return cmd, e.Key, nil
	}
	return cmd, e.Key, nil // button, update: no state to check
}

func onOff(on bool) string {
	if on {
		return vendors.On
	}
	return vendors.Off
}

func sortedIDs(devs map[string]vendors.Device) []string {
	ids := make([]string, 0, len(devs))
	for id := range devs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// commandErrors: unknown devices and read-only entities fail locally.
func (s *suite) commandErrors(t *testing.T) {
	ss := s.mustStart(t)
	devs := ss.waitInventory(s.opt.Timeout)
	s.expectLocalError(t, ss, vendors.Command{DeviceID: "no-such-device-c2m", Key: "switch", Value: true}, vendors.CodeUnknownDevice)
	var readOnly *vendors.Command
	for _, id := range sortedIDs(devs) {
		for _, e := range devs[id].Entities {
			if !e.Writable && readOnly == nil {
				readOnly = &vendors.Command{DeviceID: id, Key: e.Key, Value: true}
			}
		}
	}
	if readOnly != nil {
		s.expectLocalError(t, ss, *readOnly, vendors.CodeReadOnly)
	}
	ss.stop()
}

// expectLocalError checks the code and that the call reached no cloud. A
// background poll may land in the same instant, so it tries three times.
func (s *suite) expectLocalError(t *testing.T, ss *session, cmd vendors.Command, code string) {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		before := len(s.h.Requests())
		err := ss.execute(cmd, s.opt.Timeout)
		if got := vendors.Code(err); got != code {
			t.Errorf("command %+v: want code %s, got %s (%v)", cmd, code, got, err)
			return
		}
		if len(s.h.Requests()) == before {
			return
		}
	}
	t.Errorf("command %+v failed locally with %s but cloud requests were made", cmd, code)
}

// streamDrops is how often stream_drop cuts the adapter's push streams.
const streamDrops = 20

// streamDrop: dropped streams reconnect and state flows again, 20 times.
func (s *suite) streamDrop(t *testing.T) {
	d, ok := s.h.(StreamDropper)
	if !ok {
		t.Skip("the simulator has no push stream")
	}
	ss := s.mustStart(t)
	ss.waitInventory(s.opt.Timeout)
	before := logins(s.h.Requests())
	for i := 0; i < streamDrops; i++ {
		if !ss.rec.Await(s.opt.Timeout, func() bool { return d.DropStreams() > 0 }) {
			t.Fatalf("drop %d: no stream was open to drop", i+1)
		}
		c := s.h.Change(t)
		ss.rec.WaitValue(t, s.opt.Timeout*2, c.DeviceID, c.Key, c.Want)
	}
	if n := logins(s.h.Requests()) - before; n > 0 {
		t.Errorf("%d logins over %d stream drops; a dropped stream needs no new login", n, streamDrops)
	}
	ss.stop()
}

// poke makes the adapter call the cloud: a refresh, else a command.
func (s *suite) poke(t *testing.T, ss *session) {
	t.Helper()
	devs := ss.rec.Devices()
	ids := sortedIDs(devs)
	if len(ids) == 0 {
		t.Fatal("no devices to poke")
	}
	if ok, _ := ss.refresh(ids[0], s.opt.Timeout); ok {
		return
	}
	for _, id := range ids {
		for _, e := range devs[id].Entities {
			if e.Writable && e.Platform == vendors.Switch {
				cur, _ := ss.rec.Value(id, e.Key)
				cmd, _, _ := commandFor(e, cur, ss.rec, id)
				cmd.DeviceID = id
				_ = ss.execute(cmd, s.opt.Timeout)
				return
			}
		}
	}
}

// serverErrors: a burst of 5xx is survived.
func (s *suite) serverErrors(t *testing.T) {
	f, ok := s.h.(FaultInjector)
	if !ok {
		t.Skip("the simulator cannot inject server errors")
	}
	ss := s.mustStart(t)
	ss.waitInventory(s.opt.Timeout)
	f.FailNext(503, 3)
	for i := 0; i < 3; i++ {
		s.poke(t, ss)
	}
	c := s.h.Change(t)
	ss.rec.WaitValue(t, s.opt.Timeout*2, c.DeviceID, c.Key, c.Want)
	select {
	case err := <-ss.done:
		t.Fatalf("Run returned after a 5xx burst: %v", err)
	default:
	}
	ss.stop()
}

// throttle: after a throttled answer with a retry-after, nothing is sent
// before the time is up.
func (s *suite) throttle(t *testing.T) {
	s.throttleCase(t, 1500*time.Millisecond, 1500*time.Millisecond)
}

// minBackoff is the least wait the suite accepts after a throttled answer
// that gave no retry-after (vendorkit pauses 1 s; a jittered backoff may
// start lower, but not at once).
const minBackoff = 500 * time.Millisecond

// throttleWithoutHint: a throttled answer without a retry-after still makes
// the adapter back off rather than retry at once.
func (s *suite) throttleWithoutHint(t *testing.T) {
	s.throttleCase(t, 0, minBackoff)
}

func (s *suite) throttleCase(t *testing.T, hint, retryAfter time.Duration) {
	th, ok := s.h.(Throttler)
	if !ok {
		t.Skip("the simulator cannot throttle")
	}
	ss := s.mustStart(t)
	ss.waitInventory(s.opt.Timeout)
	th.ThrottleNext(hint, 1)
	deadline := time.Now().Add(s.opt.Timeout)
	for !throttled(s.h.Requests()) && time.Now().Before(deadline) {
		s.poke(t, ss)
	}
	if !throttled(s.h.Requests()) {
		t.Fatal("no request was throttled")
	}
	time.Sleep(retryAfter + 500*time.Millisecond)
	s.poke(t, ss)
	reqs := s.h.Requests()
	for i, r := range reqs {
		if !r.Throttled {
			continue
		}
		for _, next := range reqs[i+1:] {
			if strings.HasPrefix(next.Op, StreamOpPrefix) {
				continue
			}
			if gap := next.Time.Sub(r.Time); gap < retryAfter-50*time.Millisecond {
				t.Errorf("%s sent %s after a throttled %s; want a wait of at least %s (retry-after %s)", next.Op, gap, r.Op, retryAfter, hint)
			}
			break
		}
	}
	ss.stop()
}

func throttled(reqs []Request) bool {
	for _, r := range reqs {
		if r.Throttled {
			return true
		}
	}
	return false
}

func logins(reqs []Request) int {
	n := 0
	for _, r := range reqs {
		if r.Login {
			n++
		}
	}
	return n
}

// tokenExpiry: an expired token costs exactly one new login, then service resumes.
func (s *suite) tokenExpiry(t *testing.T) {
	x, ok := s.h.(TokenExpirer)
	if !ok {
		t.Skip("the simulator cannot expire tokens")
	}
	ss := s.mustStart(t)
	ss.waitInventory(s.opt.Timeout)
	before := logins(s.h.Requests())
	x.ExpireTokens()
	if d, ok := s.h.(StreamDropper); ok {
		d.DropStreams()
	}
	s.poke(t, ss)
	c := s.h.Change(t)
	ss.rec.WaitValue(t, s.opt.Timeout*2, c.DeviceID, c.Key, c.Want)
	s.poke(t, ss)
	time.Sleep(time.Second)
	if n := logins(s.h.Requests()) - before; n != 1 {
		t.Errorf("token expiry cost %d logins, want exactly 1", n)
	}
	ss.stop()
}

// badCredentials: refused credentials end Run with a permanent error, fast,
// without a login loop.
func (s *suite) badCredentials(t *testing.T) {
	b, ok := s.h.(BadCredentials)
	if !ok {
		t.Skip("the simulator has no refusable credentials")
	}
	ss, err := s.build(t, b.BadConfig())
	if err != nil {
		t.Fatalf("factory refused the bad-credentials config before any I/O: %v", err)
	}
	ss.start()
	select {
	case err := <-ss.done:
		ss.cancel()
		ss.cancel = nil
		ss.errs.add(err)
		if !vendors.IsPermanent(err) {
			t.Errorf("Run returned %v, want a permanent error", err)
		}
	case <-time.After(s.opt.Timeout):
		t.Fatalf("Run kept going for %s with refused credentials", s.opt.Timeout)
	}
	if n := logins(s.h.Requests()); n > 2 {
		t.Errorf("%d login attempts with refused credentials; want at most 2", n)
	}
}

// cancel: Run returns ctx.Err() promptly and leaves no goroutine behind.
func (s *suite) cancel(t *testing.T) {
	ss := s.mustStart(t)
	ss.waitInventory(s.opt.Timeout)
	start := time.Now()
	err := ss.stop()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %s to return after cancel", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v after cancel, want context.Canceled", err)
	}
	checkNoGoroutines(t, ss)
}

// checkNoGoroutines fails t when goroutines running the adapter's code (or
// vendorkit's) outlive its Run, 3 s after it returned.
func checkNoGoroutines(t *testing.T, ss *session) {
	t.Helper()
	pkg := reflect.TypeOf(ss.adapter)
	for pkg.Kind() == reflect.Pointer {
		pkg = pkg.Elem()
	}
	prefixes := []string{pkg.PkgPath() + ".", "github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit."}
	var left []string
	ok := ss.rec.Await(3*time.Second, func() bool {
		left = goroutinesIn(prefixes, pkg.PkgPath()+"/")
		return len(left) == 0
	})
	if !ok {
		t.Errorf("%d goroutines of the adapter remain after Run returned:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// goroutinesIn returns the stacks of goroutines running code of the given
// packages (subpackages under sub too, except simulators).
func goroutinesIn(prefixes []string, sub string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, "created by") {
				continue
			}
			match := false
			for _, p := range prefixes {
				match = match || strings.HasPrefix(line, p)
			}
			if strings.HasPrefix(line, sub) && !strings.Contains(line, "sim.") {
				match = true
			}
			if match {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// checkHygiene runs after every subtest: limits kept, no secret leaked.
func (s *suite) checkHygiene(t *testing.T) {
	for _, ss := range s.sessions {
		if ss.cancel != nil {
			ss.stop()
		}
	}
	if n := s.h.Violations(); n != 0 {
		t.Errorf("the simulator counted %d rate-limit violations", n)
	}
	if lim := s.h.Limit(); lim.Per > 0 {
		if at, n := busiestWindow(s.h.Requests(), lim.Per); n > lim.N {
			t.Errorf("%d requests in the %s from %s; the documented limit is %d", n, lim.Per, at.Format(time.StampMilli), lim.N)
		}
	}
	var forms []string
	for _, sec := range s.h.Secrets() {
		if len(sec) < 4 {
			continue
		}
		forms = append(forms, sec, url.QueryEscape(sec), url.PathEscape(sec))
	}
	for _, ss := range s.sessions {
		for where, text := range map[string]string{"logs": ss.logs.String(), "errors": ss.errs.all(), "status": ss.statusText()} {
			for _, f := range forms {
				if strings.Contains(text, f) {
					t.Errorf("a secret (%d chars, starting %q) appears in the adapter's %s", len(f), f[:2], where)
				}
			}
		}
	}
}

// busiestWindow returns the most requests seen in any window of length per.
func busiestWindow(reqs []Request, per time.Duration) (time.Time, int) {
	var times []time.Time
	for _, r := range reqs {
		if !strings.HasPrefix(r.Op, StreamOpPrefix) {
			times = append(times, r.Time)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, at := 0, time.Time{}
	j := 0
	for i := range times {
		for times[i].Sub(times[j]) >= per {
			j++
		}
		if n := i - j + 1; n > best {
			best, at = n, times[j]
		}
	}
	return at, best
}

// Cloud faults the suite injects itself, in the adapter's HTTP transport
// (env.HTTP), so they need no simulator support: answers that never come
// (past the client's timeout), refused connections, bodies cut short, and
// HTML where JSON was expected (a proxy or captive portal page).

type faultKind int

const (
	faultNone faultKind = iota
	faultSlow
	faultRefused
	faultTruncated
	faultNonJSON
)

// cloudFaults is an http.RoundTripper that spoils the next n plain HTTP
// exchanges (WebSocket upgrades pass untouched) in one way.
type cloudFaults struct {
	mu   sync.Mutex
	kind faultKind
	n    int
	hits int
}

func (f *cloudFaults) arm(kind faultKind, n int) {
	f.mu.Lock()
	f.kind, f.n, f.hits = kind, n, 0
	f.mu.Unlock()
}

// hit reports how many exchanges were spoiled since arm.
func (f *cloudFaults) hit() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func (f *cloudFaults) take(req *http.Request) faultKind {
	if req.Header.Get("Upgrade") != "" {
		return faultNone
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return faultNone
	}
	f.n--
	f.hits++
	return f.kind
}

func (f *cloudFaults) RoundTrip(req *http.Request) (*http.Response, error) {
	switch f.take(req) {
	case faultSlow:
		// The cloud accepted the request and never answers.
		<-req.Context().Done()
		return nil, req.Context().Err()
	case faultRefused:
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	case faultTruncated:
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = body[:len(body)/2]
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		return resp, nil
	case faultNonJSON:
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		body := []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Type", "text/html")
		resp.Header.Del("Content-Length")
		return resp, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// survive injects n faults of kind twice: into the first calls the adapter
// makes (login, inventory: the cloud is broken when the bridge starts), and
// once it runs, into the calls a refresh or command makes (adapters that
// then use their stream only are not hit there). Each time the adapter
// recovers: the inventory arrives, state changes arrive again, Run keeps
// going, and no login storm follows.
func (s *suite) survive(t *testing.T, kind faultKind, n int, wait time.Duration) {
	s.faults.arm(kind, n)
	ss := s.mustStart(t)
	ss.waitInventory(wait)
	atStart := s.faults.hit()
	if l := logins(s.h.Requests()); l > n+1 {
		t.Errorf("%d logins after %d faults at start; want at most %d", l, n, n+1)
	}
	before := logins(s.h.Requests())
	s.faults.arm(kind, n)
	for i := 0; i < 3*n && s.faults.hit() < n; i++ {
		s.poke(t, ss)
	}
	steady := s.faults.hit()
	s.faults.arm(faultNone, 0)
	if atStart == 0 && steady == 0 {
		t.Skip("the adapter made no HTTP call to its cloud, at start nor for a refresh or command; the fault could not be injected")
	}
	c := s.h.Change(t)
	ss.rec.WaitValue(t, wait, c.DeviceID, c.Key, c.Want)
	select {
	case err := <-ss.done:
		t.Fatalf("Run returned after the faults: %v", err)
	default:
	}
	s.poke(t, ss)
	// A fault may land on a login itself, which is then tried again.
	if extra := logins(s.h.Requests()) - before; extra > steady+1 {
		t.Errorf("%d logins after %d faults while running; want at most %d", extra, steady, steady+1)
	}
	for _, line := range strings.Split(ss.logs.String(), "\n") {
		if strings.Contains(line, "panic") {
			t.Errorf("panic logged: %s", line)
		}
	}
	ss.stop()
	switch {
	case steady == 0:
		t.Log("running, the adapter made no HTTP call for a refresh or command; only the start was faulted")
	case atStart == 0:
		t.Log("the adapter made no HTTP call before its inventory; only the running adapter was faulted")
	}
}

// slowResponses: a cloud that accepts a call and never answers is given up
// on at the client's timeout; the adapter carries on.
func (s *suite) slowResponses(t *testing.T) {
	s.survive(t, faultSlow, 1, 3*s.opt.Timeout)
}

// connectionRefused: the cloud's host refuses connections for a few calls.
func (s *suite) connectionRefused(t *testing.T) {
	s.survive(t, faultRefused, 3, 2*s.opt.Timeout)
}

// truncatedBodies: answers cut in the middle are errors, not panics or
// half-applied state.
func (s *suite) truncatedBodies(t *testing.T) {
	s.survive(t, faultTruncated, 2, 2*s.opt.Timeout)
}

// nonJSONBodies: an HTML page where JSON was expected is an error.
func (s *suite) nonJSONBodies(t *testing.T) {
	s.survive(t, faultNonJSON, 2, 2*s.opt.Timeout)
}
