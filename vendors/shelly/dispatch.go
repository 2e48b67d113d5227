package shelly

import (
	"time"

	"github.com/coder/websocket"
)

// handleFrame applies one frame from a server's socket. It runs on the
// socket's reader goroutine, so a device's frames apply in order.
func (a *integrator) handleFrame(h *hostConn, conn *websocket.Conn, data []byte) {
	f, err := decodeFrame(data)
	if err != nil {
		a.mu.Lock()
		ok, n := a.frameErrs.allow(a.env.Now())
		a.mu.Unlock()
		if ok {
			a.log.Debug().Err(err).Int("suppressed", n).Str("frame", truncate(data, 200)).Msg("unreadable frame ignored")
		}
		return
	}
	pub := a.publisher()
	if pub == nil {
		return
	}
	switch f.Event {
	case evStatus:
		wire := f.wireID()
		id := a.fleet.norm(wire)
		st, ok := f.statusObject()
		if !ok {
			a.log.Debug().Str("device", id).Msg("status event without a status object ignored")
			return
		}
		vals, inv, known := a.fleet.applyStatus(id, st, false, wire)
		if !known {
			a.unknownDevice(id, f.Event)
			return
		}
		pub.update(id, vals, inv)
		if _, known := a.fleet.online(id); !known {
			a.fleet.setOnline(id, true)
			pub.availability(id, true)
		}
	case evSettings:
		id := a.fleet.norm(f.wireID())
		s, ok := object(f.Settings)
		if !ok {
			return
		}
		inv, modeChanged, known := a.fleet.applySettings(id, s)
		if !known {
			a.unknownDevice(id, f.Event)
			return
		}
		if inv {
			pub.update(id, nil, true)
		}
		if modeChanged {
			a.sendVerify(conn, id) // a new profile means new components: re-read in full
		}
	case evOnline:
		id := a.fleet.norm(f.wireID())
		online, ok := f.onlineFlag()
		if !ok {
			return
		}
		if changed, known := a.fleet.setOnline(id, online); !known {
			a.unknownDevice(id, f.Event)
		} else if changed {
			pub.availability(id, online)
		}
	case evCmdResp:
		if trid, ok := f.trid(); ok {
			a.deliver(trid, f)
		}
	case evActResp:
		trid, hasTrid := f.trid()
		a.handleAction(h, trid, hasTrid, f)
		if hasTrid {
			a.deliver(trid, f)
		}
	case evError:
		a.mu.Lock()
		ok, n := a.frameErrs.allow(a.env.Now())
		a.mu.Unlock()
		if ok {
			a.log.Warn().Str("host", h.host).Int("suppressed", n).Str("frame", truncate(data, 200)).Msg("shelly server reported an error")
		}
	default:
		a.mu.Lock()
		seen := a.unknownEv[f.Event]
		if len(a.unknownEv) < 100 {
			a.unknownEv[f.Event] = true
		}
		a.mu.Unlock()
		if !seen {
			a.log.Debug().Str("event", f.Event).Msg("unknown event ignored")
		}
	}
}

func (a *integrator) unknownDevice(id, event string) {
	a.mu.Lock()
	seen := a.unknownDev[id]
	if len(a.unknownDev) < 1000 {
		a.unknownDev[id] = true
	}
	a.mu.Unlock()
	if !seen {
		a.log.Debug().Str("device", id).Str("event", event).Msg("event for a device without a grant ignored")
	}
}

// handleAction applies an Integrator:ActionResponse (DeviceVerify).
func (a *integrator) handleAction(h *hostConn, trid uint64, hasTrid bool, f frame) {
	r, err := parseActionResult(f.Data)
	if err != nil {
		return
	}
	a.mu.Lock()
	asked := ""
	if hasTrid {
		asked = a.verifying[trid]
		delete(a.verifying, trid)
	}
	a.mu.Unlock()
	id := a.fleet.norm(r.Wire)
	if r.Wire == "" {
		id = asked
	}
	if id == "" || !a.fleet.known(id) {
		return
	}
	pub := a.publisher()
	switch r.Result {
	case resOK:
		a.mu.Lock()
		delete(a.retries, id)
		a.mu.Unlock()
		a.refreshGrant(id, r)
		if r.HasStatus {
			vals, inv, _ := a.fleet.applyStatus(id, r.Status, true, r.Wire)
			pub.update(id, vals, inv)
		}
		if changed, _ := a.fleet.setOnline(id, r.HasStatus); changed {
			pub.availability(id, r.HasStatus)
		}
	case resWrong:
		if !validHost(r.Host) || r.Host == h.host {
			return
		}
		if changed, err := a.grants.move(id, r.Host); err != nil {
			a.log.Error().Err(err).Str("device", id).Msg("cannot store the device's new server")
		} else if changed {
			a.log.Info().Str("device", id).Str("from", h.host).Str("to", r.Host).Msg("device moved to another shelly server")
			a.wakeUp()
		}
	case resUnauth:
		// A grant is complete at the cloud only after our 200 reached it, so
		// a verify right after the callback can lose the race: ask again.
		if a.retryFreshGrant(h, id) {
			return
		}
		if changed, _ := a.fleet.setOnline(id, false); changed {
			pub.availability(id, false)
			a.log.Warn().Str("device", id).Msg("the cloud says the grant for this device is gone; the owner must share it again")
		}
	default:
		a.log.Debug().Str("device", id).Str("result", r.Result).Msg("device verify answered")
	}
}

// retryFreshGrant re-verifies a device whose grant arrived in the last two
// minutes, up to three times (after 1, 2 and 4 × backoff_base). It reports
// whether a retry was scheduled.
func (a *integrator) retryFreshGrant(h *hostConn, id string) bool {
	g, ok, err := a.grants.get(id)
	if err != nil || !ok || a.env.Now().Sub(g.Granted) > 2*time.Minute {
		return false
	}
	a.mu.Lock()
	n := a.retries[id]
	if n >= 3 || !a.running {
		a.mu.Unlock()
		return false
	}
	a.retries[id] = n + 1
	ctx, wg := a.runCtx, a.runWG
	a.mu.Unlock()
	wg.Go(func() {
		if sleepCtx(ctx, a.cfg.BackoffBase<<n) != nil {
			return
		}
		if conn := h.current(); conn != nil {
			a.sendVerify(conn, id)
		}
	})
	return true
}

// refreshGrant keeps the stored grant's access, model and type current.
func (a *integrator) refreshGrant(id string, r actionResult) {
	g, ok, err := a.grants.get(id)
	if err != nil || !ok {
		return
	}
	ng := g
	if r.Access != "" {
		ng.Access = r.Access
	}
	if r.Code != "" {
		ng.Code = r.Code
	}
	if r.Type != "" {
		ng.Type = r.Type
	}
	if r.Wire != "" {
		ng.Wire = r.Wire
	}
	if sameGrant(g, ng) {
		return
	}
	if changed, err := a.grants.put(id, ng); err == nil && changed {
		a.wakeUp()
	}
}
