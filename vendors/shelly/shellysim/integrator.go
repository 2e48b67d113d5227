package shellysim

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// serveToken is POST /integrator/get_access_token (form itg, token).
func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	op := "POST /integrator/get_access_token"
	if r.Method != http.MethodPost {
		s.record(Request{Time: time.Now(), Op: op, Status: 405, Login: true})
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	_ = r.ParseForm()
	s.mu.Lock()
	if st := s.takeFaultLocked(); st != 0 {
		s.logLocked(Request{Time: time.Now(), Op: op, Status: st, Login: true})
		s.mu.Unlock()
		http.Error(w, "injected failure", st)
		return
	}
	if s.throttleN > 0 {
		s.throttleN--
		s.logLocked(Request{Time: time.Now(), Op: op, Status: s.opt.ThrottleStatus, Login: true, Throttled: true})
		ra := s.throttleRA
		s.mu.Unlock()
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
		}
		writeJSON(w, s.opt.ThrottleStatus, map[string]any{"isok": false, "errors": map[string]any{"max_req": "Request limit reached"}})
		return
	}
	if r.PostForm.Get("itg") != s.opt.Tag || r.PostForm.Get("token") != s.opt.Token {
		s.logLocked(Request{Time: time.Now(), Op: op, Status: 200, Login: true})
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"isok": false, "errors": map[string]any{"invalid_token": "Invalid integrator credentials"}})
		return
	}
	exp := time.Now().Add(s.opt.TokenTTL)
	tok := s.jwt(exp)
	s.tokens[tok] = exp
	s.issued = append(s.issued, tok)
	s.logLocked(Request{Time: time.Now(), Op: op, Status: 200, Login: true})
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"isok": true, "data": tok})
}

// jwt issues an HS384 access token like Shelly's: {"exp", "user_id"}.
func (s *Sim) jwt(exp time.Time) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"typ":"JWT","alg":"HS384"}`))
	p, _ := json.Marshal(map[string]any{"exp": exp.Unix(), "user_id": s.opt.Tag, "n": randHex(4)})
	body := h + "." + enc.EncodeToString(p)
	m := hmac.New(sha512.New384, s.hmacKey)
	m.Write([]byte(body))
	return body + "." + enc.EncodeToString(m.Sum(nil))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// wsConn is one integrator socket; a writer goroutine drains out.
type wsConn struct {
	host string
	c    *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func (w *wsConn) close() {
	w.once.Do(func() {
		close(w.done)
		w.c.CloseNow()
	})
}

// push queues a frame without blocking; a consumer too slow for a full
// buffer is disconnected, as a server would.
func (w *wsConn) push(b []byte) {
	select {
	case w.out <- b:
	case <-w.done:
	default:
		w.close()
	}
}

// pushWait queues a frame, waiting for room (for bursts).
func (w *wsConn) pushWait(b []byte) bool {
	select {
	case w.out <- b:
		return true
	case <-w.done:
		return false
	}
}

func (w *wsConn) writer() {
	for {
		select {
		case b := <-w.out:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := w.c.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				w.close()
				return
			}
		case <-w.done:
			return
		}
	}
}

// serveWS is wss://<host>:6113/shelly/wss/hk_sock?t=<JWT>; the server is
// chosen by the Host header, so one listener plays every server.
func (s *Sim) serveWS(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	tok := r.URL.Query().Get("t")
	s.mu.Lock()
	status := 101
	exp, known := s.tokens[tok]
	switch {
	case s.closed:
		status = http.StatusServiceUnavailable
	case s.takeFaultLocked() != 0:
		status = s.failStatus
	case !s.isHostLocked(host):
		status = http.StatusNotFound
	case !known || !time.Now().Before(exp):
		status = http.StatusUnauthorized
	}
	s.logLocked(Request{Time: time.Now(), Op: "ws connect " + host, Status: status})
	s.mu.Unlock()
	if status != 101 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	c.SetReadLimit(1 << 20)
	conn := &wsConn{host: host, c: c, out: make(chan []byte, 8192), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.close()
		return
	}
	if old := s.conns[host]; old != nil {
		// Only one connection per server is allowed: the old one goes.
		s.violations++
		old.close()
	}
	s.conns[host] = conn
	s.mu.Unlock()
	go conn.writer()
	defer func() {
		conn.close()
		s.mu.Lock()
		if s.conns[host] == conn {
			delete(s.conns, host)
		}
		s.mu.Unlock()
	}()
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			return
		}
		s.handleFrame(conn, data)
	}
}

func (s *Sim) isHostLocked(h string) bool {
	for _, x := range s.opt.Hosts {
		if x == h {
			return true
		}
	}
	return false
}

// resolveLocked finds a device by hex or decimal id.
func (s *Sim) resolveLocked(raw string) string {
	raw = strings.ToLower(strings.TrimSpace(raw))
	if _, ok := s.devs[raw]; ok {
		return raw
	}
	if n, err := strconv.ParseUint(raw, 10, 64); err == nil {
		for _, w := range []int{6, 12} {
			h := strconv.FormatUint(n, 16)
			if len(h) <= w {
				h = strings.Repeat("0", w-len(h)) + h
				if _, ok := s.devs[h]; ok {
					return h
				}
			}
		}
	}
	return ""
}

type inFrame struct {
	Event    string          `json:"event"`
	Trid     json.RawMessage `json:"trid"`
	DeviceID json.RawMessage `json:"deviceId"`
	Data     struct {
		Cmd      string          `json:"cmd"`
		Params   map[string]any  `json:"params"`
		Action   string          `json:"action"`
		DeviceID json.RawMessage `json:"deviceId"`
	} `json:"data"`
}

func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// handleFrame answers CommandRequest and Integrator:ActionRequest.
func (s *Sim) handleFrame(conn *wsConn, data []byte) {
	var f inFrame
	if err := json.Unmarshal(data, &f); err != nil {
		s.record(Request{Time: time.Now(), Op: "ws invalid", Status: 400})
		conn.close() // the official example closes on non-JSON; so does the server here
		return
	}
	trid := json.RawMessage(f.Trid)
	if len(trid) == 0 {
		trid = json.RawMessage("null")
	}
	switch f.Event {
	case "Shelly:CommandRequest":
		s.mu.Lock()
		muted := s.muteN > 0
		if muted {
			s.muteN--
		}
		s.mu.Unlock()
		if muted {
			s.record(Request{Time: time.Now(), Op: "ws Shelly:CommandRequest " + f.Data.Cmd + " (lost)"})
			return
		}
		res, status := s.command(conn.host, idString(f.DeviceID), f.Data.Cmd, f.Data.Params)
		s.record(Request{Time: time.Now(), Op: "ws Shelly:CommandRequest " + f.Data.Cmd, Status: status, Host: conn.host})
		res["event"], res["trid"], res["user"] = "Shelly:CommandResponse", trid, 6550
		if _, ok := res["deviceId"]; !ok {
			res["deviceId"] = idString(f.DeviceID)
		}
		b, _ := json.Marshal(res)
		conn.push(b)
	case "Integrator:ActionRequest":
		id := idString(f.Data.DeviceID)
		data, status := s.action(conn.host, f.Data.Action, id)
		s.record(Request{Time: time.Now(), Op: "ws Integrator:ActionRequest " + f.Data.Action, Status: status, Host: conn.host})
		b, _ := json.Marshal(map[string]any{"event": "Integrator:ActionResponse", "trid": trid, "user": "6550", "data": data})
		conn.push(b)
	default:
		s.record(Request{Time: time.Now(), Op: "ws " + f.Event, Status: 400})
	}
}

// command runs a Shelly:CommandRequest on a device of host.
func (s *Sim) command(host, rawID, cmd string, p map[string]any) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(res string, status int) (map[string]any, int) {
		return map[string]any{"data": map[string]any{"isok": false, "res": res}}, status
	}
	id := s.resolveLocked(rawID)
	d := s.devs[id]
	switch {
	case d == nil || !s.granted[id]:
		return fail("UNAUTHORIZED", 403)
	case d.Host != host:
		return fail("WRONG_HOST", 421)
	case strings.TrimSpace(d.Access) == "00" || d.Access == "0":
		return fail("UNAUTHORIZED", 403)
	case !d.Online:
		return fail(errOffline, 409)
	}
	ch := 0
	if v, ok := number(p["id"]); ok {
		ch = int(v)
	}
	var delta map[string]any
	var errCode string
	switch cmd {
	case "relay":
		t, _ := p["turn"].(string)
		delta, errCode = d.relay(ch, t)
	case "roller":
		g, _ := p["go"].(string)
		delta, errCode = d.roller(ch, g)
	case "roller_to_pos":
		switch {
		case p["pos"] != nil:
			v, _ := number(p["pos"])
			delta, errCode = d.rollerTo(ch, v, false)
		case p["slat_pos"] != nil:
			v, _ := number(p["slat_pos"])
			delta, errCode = d.rollerTo(ch, v, true)
		default:
			errCode = errBadRequest
		}
	case "light":
		delta, errCode = d.light(ch, p)
	default:
		errCode = errBadRequest
	}
	if errCode != "" {
		return fail(errCode, 400)
	}
	s.pushStatusLocked(d, delta)
	return map[string]any{"deviceId": d.wire(!s.opt.NoDecimal), "data": map[string]any{"isok": true}}, 200
}

// action runs an Integrator:ActionRequest (DeviceVerify, DeviceGetSettings).
func (s *Sim) action(host, act, rawID string) (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.resolveLocked(rawID)
	d := s.devs[id]
	switch {
	case act != "DeviceVerify" && act != "DeviceGetSettings":
		return map[string]any{"result": "WRONG_API_PARAMETERS", "deviceId": rawID}, 400
	case d == nil || !s.granted[id]:
		return map[string]any{"result": "UNAUTHORIZED", "deviceId": rawID}, 403
	case d.Host != host:
		return map[string]any{"result": "WRONG_HOST", "deviceId": rawID, "host": d.Host}, 421
	}
	out := map[string]any{"result": "OK", "deviceId": d.wire(!s.opt.NoDecimal), "accessGroups": d.Access}
	if d.Online {
		out["deviceType"], out["deviceCode"] = d.Type, d.Code
		if act == "DeviceVerify" {
			out["deviceStatus"] = clone(d.Status)
		} else {
			out["deviceSettings"] = clone(d.Settings)
		}
	}
	return out, 200
}

// pushLocked sends a frame for d to its server's socket, if the device is
// shared with the integrator and that server is connected.
func (s *Sim) pushLocked(d *device, frame map[string]any) {
	if !s.granted[d.ID] {
		return
	}
	conn := s.conns[d.Host]
	if conn == nil {
		return
	}
	frame["deviceId"] = d.wire(!s.opt.NoDecimal)
	b, _ := json.Marshal(frame)
	conn.push(b)
}

func (s *Sim) pushStatusLocked(d *device, delta map[string]any) {
	if len(delta) == 0 || !d.Online {
		return
	}
	s.pushLocked(d, map[string]any{"event": "Shelly:StatusOnChange", "status": delta})
}
