package shellysim

import (
	"errors"
	"time"
)

// Toggle flips a device's first output as a person at the wall switch
// would, and returns the new state. It works on relays, plugs and lights.
func (s *Sim) Toggle(id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[s.resolveLocked(id)]
	if d == nil {
		return false, errors.New("no such device")
	}
	delta, code := d.relay(0, "toggle")
	if code != "" {
		delta, code = d.light(0, map[string]any{"turn": "toggle"})
	}
	if code != "" {
		return false, errors.New(code)
	}
	s.pushStatusLocked(d, delta)
	if c := d.comp("switch", 0); c != nil {
		return c["output"] == true, nil
	}
	if r := d.item("relays", 0); r != nil {
		return r["ison"] == true, nil
	}
	if _, c := d.lightComp(0); c != nil {
		return c["output"] == true, nil
	}
	return d.item("lights", 0)["ison"] == true, nil
}

// SetOnline takes a device off line or back (Shelly:Online, v2 online).
func (s *Sim) SetOnline(id string, online bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[s.resolveLocked(id)]
	if d == nil || d.Online == online {
		return
	}
	d.Online = online
	flag := 0
	if online {
		flag = 1
	}
	s.pushLocked(d, map[string]any{"event": "Shelly:Online", "online": flag})
	if online {
		s.pushStatusLocked(d, clone(d.Status).(map[string]any))
	}
}

// SetName renames a device in its settings (Shelly:Settings).
func (s *Sim) SetName(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devs[s.resolveLocked(id)]
	if d == nil {
		return
	}
	if sys, ok := d.Settings["sys"].(map[string]any); ok {
		sys["device"].(map[string]any)["name"] = name
	} else {
		d.Settings["name"] = name
	}
	s.pushLocked(d, map[string]any{"event": "Shelly:Settings", "settings": clone(d.Settings)})
}

// SetAccess changes the integrator's rights on a device: "01" read and
// control, "00" read only. Send a consent callback afterwards to tell the
// bridge, as Shelly does when the owner edits the grant.
func (s *Sim) SetAccess(id, groups string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devs[s.resolveLocked(id)]; d != nil {
		d.Access = groups
	}
}

// MoveDevice relocates a device to another server (added if new); the old
// server answers WRONG_HOST for it from now on.
func (s *Sim) MoveDevice(id, host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devs[s.resolveLocked(id)]; d != nil {
		d.Host = host
	}
	if !s.isHostLocked(host) {
		s.opt.Hosts = append(s.opt.Hosts, host)
	}
}

// InjectFrame sends a raw text frame on a server's socket (for tests of
// unknown events and malformed frames). It reports whether one was open.
func (s *Sim) InjectFrame(host string, frame []byte) bool {
	s.mu.Lock()
	conn := s.conns[host]
	s.mu.Unlock()
	if conn == nil {
		return false
	}
	return conn.pushWait(frame)
}

// tick moves covers, runs toggle timers and drifts values.
func (s *Sim) tick() {
	defer s.wg.Done()
	const step = 100 * time.Millisecond
	t := time.NewTicker(step)
	defer t.Stop()
	lastDrift := time.Now()
	lastPush := map[string]time.Time{}
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mu.Lock()
			for _, id := range s.order {
				d := s.devs[id]
				keys, arrived := d.step(step, s.opt.CoverSpeed)
				if len(keys) > 0 && (arrived || now.Sub(lastPush[id]) >= 500*time.Millisecond) {
					lastPush[id] = now
					s.pushStatusLocked(d, d.delta(keys...))
				}
			}
			if s.opt.Drift > 0 && now.Sub(lastDrift) >= s.opt.Drift {
				dt := now.Sub(lastDrift)
				lastDrift = now
				for _, id := range s.order {
					d := s.devs[id]
					if !d.Online {
						continue
					}
					if keys := d.drift(dt); len(keys) > 0 {
						s.pushStatusLocked(d, d.delta(keys...))
					}
				}
			}
			s.mu.Unlock()
		}
	}
}
