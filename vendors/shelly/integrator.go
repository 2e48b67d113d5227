package shelly

import (
	"context"
	"crypto/ecdsa"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// integrator is an Integrator API account: devices arrive through consent
// callbacks, state streams over one WebSocket per Shelly server.
type integrator struct {
	cfg      config
	env      vendors.Env
	log      zerolog.Logger
	hc       *http.Client
	trustKey *ecdsa.PublicKey
	tokens   *tokenSource
	grants   *grantStore
	fleet    *fleet
	wake     chan struct{}
	trid     atomic.Uint64
	syncMu   sync.Mutex
	// synced is each grant as syncGrants last applied it to the fleet, so a
	// sync after one more consent callback does not revisit every device.
	synced map[string]grant

	mu         sync.Mutex
	running    bool
	runCtx     context.Context
	runWG      *sync.WaitGroup
	sink       vendors.Sink
	pub        *publisher
	hosts      map[string]*hostConn
	hostDone   map[string]chan struct{}
	assigned   map[string]string // device → host at the last sync
	pending    map[uint64]chan frame
	verifying  map[uint64]string
	retries    map[string]int
	fatal      chan error
	lastStatus *vendors.Status
	tokenOK    bool
	rejects    logThrottle
	frameErrs  logThrottle
	unknownEv  map[string]bool
	unknownDev map[string]bool
}

func newIntegrator(env vendors.Env, cfg config) (*integrator, error) {
	keyPEM := shellyPublicKey
	if cfg.ConsentPublicKey != "" {
		keyPEM = cfg.ConsentPublicKey
	}
	key, err := parseP384(keyPEM)
	if err != nil {
		return nil, err
	}
	log := env.Log.With().Str("api", "integrator").Logger()
	a := &integrator{
		cfg: cfg, env: env, log: log, hc: env.HTTP, trustKey: key,
		grants:     &grantStore{store: env.Store},
		fleet:      newFleet(log),
		wake:       make(chan struct{}, 1),
		hosts:      map[string]*hostConn{},
		hostDone:   map[string]chan struct{}{},
		assigned:   map[string]string{},
		pending:    map[uint64]chan frame{},
		verifying:  map[uint64]string{},
		retries:    map[string]int{},
		rejects:    logThrottle{every: 10 * time.Second},
		frameErrs:  logThrottle{every: 10 * time.Second},
		unknownEv:  map[string]bool{},
		unknownDev: map[string]bool{},
	}
	a.tokens = &tokenSource{
		apiURL: cfg.APIURL, tag: cfg.Tag, secret: cfg.Token, refreshBefore: cfg.TokenRefreshBefore,
		minGap: cfg.BackoffBase, hc: env.HTTP, store: env.Store, redact: env.Redact,
		metrics: env.Metrics, now: env.Now, log: log,
	}
	return a, nil
}

// Routes mounts the consent callback on the bridge's HTTP server.
func (a *integrator) Routes() []vendors.Route {
	return []vendors.Route{{Path: a.cfg.ConsentPath, Handler: http.HandlerFunc(a.serveConsent)}}
}

// consentURL is the page an operator sends device owners to.
func (a *integrator) consentURL() string {
	cb := a.env.PublicURL + a.cfg.ConsentPath
	return a.cfg.ConsentPage + "?itg=" + url.QueryEscape(a.cfg.Tag) + "&cb=" + url.QueryEscape(cb)
}

func (a *integrator) wakeUp() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run connects to every Shelly server that hosts a granted device and keeps
// the devices' state flowing until ctx ends.
func (a *integrator) Run(ctx context.Context, sink vendors.Sink) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	pub := newPublisher(sink, a.fleet, a.env.Store, a.log, 50*time.Millisecond)

	grants, err := a.grants.all()
	if err != nil {
		a.log.Error().Err(err).Msg("cannot read stored grants; waiting for new consent callbacks")
	}
	want := map[string]bool{}
	for id := range grants {
		want[id] = true
	}
	if err := a.fleet.restore(a.env.Store, want); err != nil {
		a.log.Warn().Err(err).Msg("cannot read stored device shapes")
	}
	a.syncMu.Lock()
	a.synced = nil // restore replaced the devices' meta: apply every grant again
	a.syncMu.Unlock()

	a.mu.Lock()
	a.running, a.runCtx, a.runWG, a.sink, a.pub = true, ctx, &wg, sink, pub
	a.fatal = make(chan error, 1)
	a.lastStatus = nil
	fatal := a.fatal
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
		cancel()
		wg.Wait()
		a.mu.Lock()
		a.pub, a.sink = nil, nil
		a.hosts = map[string]*hostConn{}
		a.hostDone = map[string]chan struct{}{}
		a.assigned = map[string]string{}
		a.mu.Unlock()
	}()

	if a.env.PublicURL == "" {
		a.log.Warn().Str("path", a.cfg.ConsentPath).Msg("server.public_url is not set: Shelly cannot reach the consent callback")
	}
	a.log.Info().Str("consent_url", a.consentURL()).Msg("hand this consent URL to device owners to share devices")
	a.report(nil)
	a.syncGrants()
	wg.Go(func() { pub.run(ctx) })

	if _, err := a.tokens.get(ctx); err != nil {
		if vendors.IsPermanent(err) {
			a.report(err)
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.log.Warn().Err(err).Msg("cannot get an access token yet; retrying with the connections")
	} else {
		a.mu.Lock()
		a.tokenOK = true
		a.mu.Unlock()
		a.report(nil)
	}

	refresh := time.NewTimer(time.Hour)
	defer refresh.Stop()
	for {
		a.armRefresh(refresh)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-fatal:
			a.report(err)
			return err
		case <-a.wake:
			a.syncGrants()
		case <-refresh.C:
			if a.hostCount() > 0 {
				if _, err := a.tokens.get(ctx); err != nil && vendors.IsPermanent(err) {
					a.report(err)
					return err
				}
			}
		}
	}
}

func (a *integrator) armRefresh(t *time.Timer) {
	at := a.tokens.nextRefresh()
	d := time.Hour
	if !at.IsZero() {
		d = max(at.Sub(a.env.Now()), time.Second)
	}
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}

func (a *integrator) hostCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.hosts)
}

func (a *integrator) publisher() *publisher {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pub
}

// syncGrants brings the fleet and the host connections in line with the
// stored grants: new devices appear, revoked ones disappear, each server
// with devices gets one connection, a server without devices loses it.
func (a *integrator) syncGrants() {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	grants, err := a.grants.all()
	if err != nil {
		a.log.Error().Err(err).Msg("cannot read grants")
		return
	}
	pub := a.publisher()
	if a.synced == nil {
		a.synced = map[string]grant{}
	}
	for id, g := range grants {
		if old, ok := a.synced[id]; ok && equalGrantMeta(old, g) && a.fleet.known(id) {
			continue
		}
		a.synced[id] = g
		changed := a.fleet.ensure(id, func(m *meta) {
			m.Names = g.Names
			m.ReadOnly = g.readOnly()
			if g.Code != "" {
				m.Code = g.Code
			}
			if g.Type != "" {
				m.Type = g.Type
			}
		})
		if changed && pub != nil {
			pub.changed("")
		}
	}
	for id := range a.synced {
		if _, ok := grants[id]; !ok {
			delete(a.synced, id)
		}
	}
	for _, id := range a.fleet.ids() {
		if _, ok := grants[id]; !ok && a.fleet.remove(id) {
			a.log.Info().Str("device", id).Msg("device removed (consent revoked)")
			if pub != nil {
				pub.changed(id)
			}
		}
	}

	byHost := map[string][]string{}
	for id, g := range grants {
		byHost[g.Host] = append(byHost[g.Host], id)
	}
	a.mu.Lock()
	if !a.running {
		a.mu.Unlock()
		return
	}
	var reverify []struct {
		h  *hostConn
		id string
	}
	for host, ids := range byHost {
		h, ok := a.hosts[host]
		if !ok {
			h = newHostConn(host)
			a.hosts[host] = h
			hctx, cancel := context.WithCancel(a.runCtx)
			h.cancel = cancel
			// A connection to this server that is still closing must be
			// gone before the new one dials: never two sockets to a server.
			prev, done := a.hostDone[host], make(chan struct{})
			a.hostDone[host] = done
			a.runWG.Go(func() {
				defer close(done)
				if prev != nil {
					select {
					case <-prev:
					case <-hctx.Done():
						return
					}
				}
				a.runHost(hctx, h)
			})
			continue
		}
		for _, id := range ids {
			if a.assigned[id] != host {
				reverify = append(reverify, struct {
					h  *hostConn
					id string
				}{h, id})
			}
		}
	}
	for host, h := range a.hosts {
		if _, ok := byHost[host]; !ok {
			h.cancel()
			delete(a.hosts, host)
			a.log.Info().Str("host", host).Msg("no devices left on this server; closing its connection")
		}
	}
	a.assigned = map[string]string{}
	for id, g := range grants {
		a.assigned[id] = g.Host
	}
	a.mu.Unlock()
	for _, r := range reverify {
		if conn := r.h.current(); conn != nil {
			a.sendVerify(conn, r.id)
		}
	}
	a.report(nil)
}

// equalGrantMeta: the grant fields syncGrants gives the fleet are the same.
func equalGrantMeta(a, b grant) bool {
	return a.Access == b.Access && a.Code == b.Code && a.Type == b.Type && slices.Equal(a.Names, b.Names)
}

// hostFor returns the connection of a device's server.
func (a *integrator) hostFor(id string) (*hostConn, string) {
	g, ok, err := a.grants.get(id)
	if err != nil || !ok {
		return nil, ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hosts[g.Host], g.Host
}

// report sends the account status when it changed.
func (a *integrator) report(fatal error) {
	a.mu.Lock()
	st := vendors.Status{Info: map[string]string{
		"consent_url":  a.consentURL(),
		"consent_path": a.cfg.ConsentPath,
		"api":          "integrator",
	}}
	up, lastErr := 0, ""
	hosts := make([]string, 0, len(a.hosts))
	for host, h := range a.hosts {
		hosts = append(hosts, host)
		if h.current() != nil {
			up++
		} else if e := h.error(); e != "" {
			lastErr = e
		}
	}
	sort.Strings(hosts)
	st.Info["servers"] = strconv.Itoa(len(hosts))
	st.Info["servers_connected"] = strconv.Itoa(up)
	switch {
	case fatal != nil:
		st.State, st.LastError = vendors.StateError, fatal.Error()
	case len(hosts) == 0 && a.tokenOK:
		st.State = vendors.StateConnected
	case len(hosts) > 0 && up == len(hosts):
		st.State = vendors.StateConnected
	case lastErr != "":
		st.State, st.LastError = vendors.StateBackoff, lastErr
	default:
		st.State = vendors.StateConnecting
	}
	sink := a.sink
	if sink == nil || (a.lastStatus != nil && reflect.DeepEqual(*a.lastStatus, st)) {
		a.mu.Unlock()
		return
	}
	a.lastStatus = &st
	a.mu.Unlock()
	sink.Status(st)
}

// register creates a waiter for a response with trid.
func (a *integrator) register() (uint64, chan frame) {
	trid := a.trid.Add(1)%maxTrid + 1
	ch := make(chan frame, 1)
	a.mu.Lock()
	a.pending[trid] = ch
	a.mu.Unlock()
	return trid, ch
}

func (a *integrator) unregister(trid uint64) {
	a.mu.Lock()
	delete(a.pending, trid)
	a.mu.Unlock()
}

// deliver hands a response to its waiter, if any.
func (a *integrator) deliver(trid uint64, f frame) {
	a.mu.Lock()
	ch := a.pending[trid]
	delete(a.pending, trid)
	a.mu.Unlock()
	if ch != nil {
		ch <- f
	}
}

// sendVerify asks the cloud for a device's full status without waiting.
func (a *integrator) sendVerify(conn *websocket.Conn, id string) uint64 {
	trid := a.trid.Add(1)%maxTrid + 1
	if conn == nil {
		return trid
	}
	a.mu.Lock()
	if len(a.verifying) > 10000 {
		a.verifying = map[uint64]string{}
	}
	a.verifying[trid] = id
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.CommandTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, actionFrame(trid, actVerify, a.fleet.wireID(id))); err != nil {
		a.log.Debug().Err(err).Str("device", id).Msg("device verify not sent")
	}
	return trid
}
