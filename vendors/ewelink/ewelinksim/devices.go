package ewelinksim

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Device is one simulated thing.
type Device struct {
	ID         string
	Name       string
	UIID       int
	Brand      string
	Model      string
	ExtraModel string
	MAC        string
	// Offline starts the device off line.
	Offline bool
	Params  map[string]any
	Tags    map[string]any
	// Shared devices belong to another user and are shared with the account.
	Shared bool
	// Family is "home" (default) or "cabin".
	Family string
}

type device struct {
	Device
	online bool
	params map[string]any
	// energy holds per channel the consumption per period (day or hour),
	// newest first, in kWh.
	energy [][]float64
	// move numbers cover movements so a newer one cancels an older one.
	move int
	// head is the start of the frame PushPower sends (see powerFrame).
	head      []byte
	headOwner string
}

// energy formats by uiid.
const (
	histDaily = iota + 1
	histDualR3
	histHourly
)

func historyKind(uiid int) (kind, channels int) {
	switch uiid {
	case 5, 32, 182:
		return histDaily, 1
	case 126:
		return histDualR3, 2
	case 130:
		return histDualR3, 4
	case 190:
		return histHourly, 1
	}
	return 0, 0
}

func (s *Server) addLocked(d Device, index int) {
	if d.Family == "" {
		d.Family = "home"
	}
	dev := &device{Device: d, online: !d.Offline, params: copyJSON(d.Params)}
	if dev.params == nil {
		dev.params = map[string]any{}
	}
	if kind, n := historyKind(d.UIID); kind != 0 {
		periods := 100
		if kind == histHourly {
			periods = 48
		}
		for ch := 0; ch < n; ch++ {
			h := make([]float64, periods)
			for i := range h {
				h[i] = float64((i*7+ch*3)%13+2) / 10 // 0.2–1.4 kWh, deterministic
				if kind == histHourly {
					h[i] /= 10
				}
			}
			h[0] = 0.05
			dev.energy = append(dev.energy, h)
		}
	}
	if _, dup := s.devices[d.ID]; !dup {
		s.order = append(s.order, d.ID)
	}
	s.devices[d.ID] = dev
}

// AddDevice adds a thing to the account.
func (s *Server) AddDevice(d Device) {
	s.mu.Lock()
	s.addLocked(d, len(s.order))
	s.mu.Unlock()
}

// RemoveDevice deletes a thing from the account.
func (s *Server) RemoveDevice(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.devices, id)
	for i, v := range s.order {
		if v == id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
}

// Param returns a device's current param (JSON numbers as json.Number).
func (s *Server) Param(id, key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devices[id]; d != nil {
		return copyJSON(d.params[key])
	}
	return nil
}

// Online reports a device's online flag.
func (s *Server) Online(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	return d != nil && d.online
}

// DeviceIDs lists the account's things in list order.
func (s *Server) DeviceIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// paramsFor returns the params named in "a|b" (all when empty).
func (d *device) paramsFor(names string) map[string]any {
	out := copyJSON(d.params)
	if names == "" {
		return out
	}
	keep := map[string]bool{}
	for _, n := range strings.Split(names, "|") {
		keep[n] = true
	}
	for k := range out {
		if !keep[k] {
			delete(out, k)
		}
	}
	return out
}

// mergeParams applies a report the way the cloud stores it: per-outlet
// arrays merge by outlet, light objects by field, the rest is replaced.
func mergeParams(dst, upd map[string]any) {
	for k, v := range upd {
		switch k {
		case "switches", "configure", "pulses":
			cur, ok1 := dst[k].([]any)
			add, ok2 := v.([]any)
			if !ok1 || !ok2 {
				dst[k] = copyJSON(v)
				continue
			}
			byOutlet := map[string]map[string]any{}
			var order []string
			for _, it := range cur {
				if m, ok := it.(map[string]any); ok {
					o := fmt.Sprint(m["outlet"])
					byOutlet[o] = m
					order = append(order, o)
				}
			}
			for _, it := range add {
				m, ok := it.(map[string]any)
				if !ok {
					continue
				}
				o := fmt.Sprint(m["outlet"])
				if old, ok := byOutlet[o]; ok {
					for kk, vv := range m {
						old[kk] = vv
					}
				} else {
					byOutlet[o] = copyJSON(m)
					order = append(order, o)
				}
			}
			list := make([]any, 0, len(order))
			for _, o := range order {
				list = append(list, byOutlet[o])
			}
			dst[k] = list
		case "white", "color":
			cur, ok1 := dst[k].(map[string]any)
			add, ok2 := v.(map[string]any)
			if !ok1 || !ok2 {
				dst[k] = copyJSON(v)
				continue
			}
			for kk, vv := range add {
				cur[kk] = vv
			}
		default:
			dst[k] = copyJSON(v)
		}
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case string:
		var f float64
		_, err := fmt.Sscan(n, &f)
		return f, err == nil
	}
	return 0, false
}

// command applies params sent by a client (REST or WebSocket from). It
// returns the cloud's code: 0, 400 (bad params), 405 (no such device),
// 4002 (offline).
func (s *Server) command(id string, p map[string]any, from *client) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	switch {
	case d == nil:
		return 405
	case !d.online:
		return 4002
	}
	p = copyJSON(p)
	if _, ok := p["uiActive"]; ok {
		s.uiActive++
		delete(p, "uiActive")
		if len(p) == 0 {
			return 0
		}
	}
	if code := s.historyRequest(d, p); code >= 0 {
		return code
	}
	if d.UIID == 44 {
		if _, ok := p["brightness"]; ok {
			if sw, _ := p["switch"].(string); sw != "on" || p["mode"] == nil {
				return 400 // the D1 takes brightness only with switch:on and mode:0
			}
		}
	}
	if cmd, ok := p["cmd"].(string); ok && d.UIID == 28 {
		if cmd != "transmit" {
			return 400
		}
		ch, _ := number(p["rfChl"])
		if !d.learned(int(ch)) {
			return 400
		}
		return 0 // the code goes out over the air; no state changes
	}
	if s.moveCover(d, p) {
		return 0
	}
	mergeParams(d.params, p)
	s.pushLocked(d, p, from)
	return 0
}

func (d *device) learned(ch int) bool {
	list, _ := d.params["rfList"].([]any)
	for _, it := range list {
		if m, ok := it.(map[string]any); ok {
			if n, ok := number(m["rfChl"]); ok && int(n) == ch {
				return true
			}
		}
	}
	return false
}

// historyRequest answers the energy "get" params with the history as a
// device report; -1 when p is no such request.
func (s *Server) historyRequest(d *device, p map[string]any) int {
	kind, n := historyKind(d.UIID)
	var report map[string]any
	switch {
	case kind == histDaily && p["hundredDaysKwh"] == "get":
		report = map[string]any{"hundredDaysKwhData": encodeHistory(kind, d.energy[0])}
	case kind == histHourly && p["getHoursKwh"] != nil:
		report = map[string]any{"hoursKwhData": encodeHistory(kind, d.energy[0])}
	case kind == histDualR3:
		for ch := 0; ch < n; ch++ {
			if p[fmt.Sprintf("getKwh_%02d", ch)] != nil {
				if report == nil {
					report = map[string]any{}
				}
				report[fmt.Sprintf("kwhHistories_%02d", ch)] = encodeHistory(kind, d.energy[ch])
			}
		}
	}
	if report == nil {
		return -1
	}
	mergeParams(d.params, report)
	s.laterLocked(10*time.Millisecond, func() { s.pushLocked(d, report, nil) })
	return 0
}

// encodeHistory writes consumption per period (newest first) in the
// device's string format.
func encodeHistory(kind int, h []float64) string {
	var b strings.Builder
	for _, kwh := range h {
		c := int(math.Round(kwh * 100))
		whole, frac := c/100, c%100
		switch kind {
		case histDaily: // hex whole, then tenths and hundredths at chars 3 and 5
			fmt.Fprintf(&b, "%02x0%d0%d", min(whole, 255), frac/10, frac%10)
		case histDualR3: // hex whole, two decimal hundredths
			fmt.Fprintf(&b, "%02x%02d", min(whole, 255), frac)
		case histHourly: // one hex digit whole, two decimal hundredths
			fmt.Fprintf(&b, "%x%02d", min(whole, 15), frac)
		}
	}
	return b.String()
}

// AddEnergy adds consumption to the current period of a channel.
func (s *Server) AddEnergy(id string, ch int, kwh float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devices[id]; d != nil && ch < len(d.energy) {
		d.energy[ch][0] += kwh
	}
}

// Rollover starts a new period (a day, or an hour for hourly meters).
func (s *Server) Rollover(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil {
		return
	}
	for ch, h := range d.energy {
		d.energy[ch] = append([]float64{0}, h[:len(h)-1]...)
	}
}

// EnergyTotal is the sum of a channel's history, kWh.
func (s *Server) EnergyTotal(id string, ch int) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil || ch >= len(d.energy) {
		return 0
	}
	sum := 0.0
	for _, v := range d.energy[ch] {
		sum += math.Round(v*100) / 100
	}
	return sum
}

// moveCover handles cover commands: the device reports its movement at
// once and its final position after the travel time.
func (s *Server) moveCover(d *device, p map[string]any) bool {
	type move struct {
		start, final map[string]any
	}
	var mv *move
	switch d.UIID {
	case 11, 258, 7034:
		cur, _ := number(d.params["setclose"])
		if v, ok := number(p["setclose"]); ok {
			target := math.Max(0, math.Min(100, math.Round(v)))
			dir := "on"
			if target > cur {
				dir = "off"
			}
			mv = &move{map[string]any{"switch": dir}, map[string]any{"setclose": int(target), "switch": dir}}
		} else if sw, ok := p["switch"].(string); ok {
			switch sw {
			case "on":
				mv = &move{map[string]any{"switch": "on"}, map[string]any{"setclose": 0, "switch": "on"}}
			case "off":
				mv = &move{map[string]any{"switch": "off"}, map[string]any{"setclose": 100, "switch": "off"}}
			case "pause":
				mv = &move{nil, map[string]any{"setclose": int(cur), "switch": "pause"}}
			}
		}
	case 1514, 7006:
		cur, _ := number(d.params["curPercent"])
		if v, ok := number(p["openPercent"]); ok {
			mv = &move{map[string]any{"curtainAction": map[bool]string{true: "close", false: "open"}[v > cur]}, map[string]any{"curPercent": int(math.Max(0, math.Min(100, v)))}}
		} else if a, ok := p["curtainAction"].(string); ok {
			switch a {
			case "open":
				mv = &move{map[string]any{"curtainAction": "open"}, map[string]any{"curPercent": 0}}
			case "close":
				mv = &move{map[string]any{"curtainAction": "close"}, map[string]any{"curPercent": 100}}
			case "pause":
				mv = &move{nil, map[string]any{"curPercent": int(cur), "curtainAction": "pause"}}
			}
		}
	case 67, 91:
		if op, ok := number(p["op"]); ok {
			switch int(op) {
			case 1:
				mv = &move{map[string]any{"op": 1}, map[string]any{"per": 100, "op": 2}}
			case 3:
				mv = &move{map[string]any{"op": 3}, map[string]any{"per": 0, "op": 2}}
			case 2:
				mv = &move{nil, map[string]any{"op": 2, "per": d.params["per"]}}
			}
		}
	case 126:
		if wm, _ := number(d.params["workMode"]); wm != 2 {
			return false
		}
		cur, _ := number(d.params["currLocation"])
		if v, ok := number(p["location"]); ok {
			dir := 1
			if v < cur {
				dir = 2
			}
			mv = &move{map[string]any{"motorTurn": dir}, map[string]any{"currLocation": int(math.Max(0, math.Min(100, v))), "motorTurn": 0}}
		} else if m, ok := number(p["motorTurn"]); ok {
			switch int(m) {
			case 1:
				mv = &move{map[string]any{"motorTurn": 1}, map[string]any{"currLocation": 100, "motorTurn": 0}}
			case 2:
				mv = &move{map[string]any{"motorTurn": 2}, map[string]any{"currLocation": 0, "motorTurn": 0}}
			case 0:
				mv = &move{nil, map[string]any{"currLocation": int(cur), "motorTurn": 0}}
			}
		}
	}
	if mv == nil {
		return false
	}
	d.move++
	seq := d.move
	if mv.start != nil {
		mergeParams(d.params, mv.start)
		s.pushLocked(d, mv.start, nil)
	}
	delay := s.opt.CoverTravel
	if mv.start == nil {
		delay = 0
	}
	s.laterLocked(delay, func() {
		if d.move != seq {
			return // a newer command took over
		}
		mergeParams(d.params, mv.final)
		s.pushLocked(d, mv.final, nil)
	})
	return true
}

// Report makes a device report params on its own, as when a person presses
// its button: stored and pushed to every client.
func (s *Server) Report(id string, p map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil {
		return
	}
	p = copyJSON(p)
	mergeParams(d.params, p)
	s.pushLocked(d, p, nil)
}

// Press makes a Zigbee button report a press (0 single, 1 double, 2 long).
func (s *Server) Press(id string, key int) {
	s.Report(id, map[string]any{"key": key, "trigTime": fmt.Sprint(time.Now().UnixMilli())})
}

// SetOnline changes a device's online flag and sends sysmsg.
func (s *Server) SetOnline(id string, online bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil || d.online == online {
		return
	}
	d.online = online
	s.broadcastLocked(map[string]any{"action": "sysmsg", "deviceid": id, "apikey": s.ownerOf(d), "ts": time.Now().Unix(), "params": map[string]any{"online": online}}, nil)
}

// SetOnlineSilently changes a device's online flag without telling clients
// (the cloud noticed before the client did).
func (s *Server) SetOnlineSilently(id string, online bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devices[id]; d != nil {
		d.online = online
	}
}

func (s *Server) ownerOf(d *device) string {
	if d.Shared {
		return ownerAPIKey
	}
	return s.opt.APIKey
}

// pushLocked sends a device report to every client but except.
func (s *Server) pushLocked(d *device, p map[string]any, except *client) {
	s.broadcastLocked(map[string]any{"action": "update", "deviceid": d.ID, "apikey": s.ownerOf(d), "userAgent": "device",
		"params": p, "from": "device", "ts": 0, "d_seq": time.Now().UnixMilli()}, except)
}

// laterLocked runs f under the lock after delay, unless the server closed.
func (s *Server) laterLocked(delay time.Duration, f func()) {
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.doneCh():
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			f()
		}
	}()
}
