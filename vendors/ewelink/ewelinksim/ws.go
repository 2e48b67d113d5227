package ewelinksim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// client is one WebSocket connection.
type client struct {
	s      *Server
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	out    chan []byte
	at     string
	authed bool
	killed bool
	muted  bool        // a half-dead connection: nothing more reaches the client
	recent []time.Time // arrival of the client's frames in the last second
	// arrived is when the frame being handled came in; its log entry
	// carries this time, so gaps in the log are gaps on the wire.
	arrived time.Time
}

// logFrame logs the client frame being handled at its arrival time.
func (s *Server) logFrame(c *client, op string, code int) { s.logDeviceFrame(c, op, "", code) }

// logDeviceFrame is logFrame for a frame about one device.
func (s *Server) logDeviceFrame(c *client, op, device string, code int) {
	s.mu.Lock()
	s.log = append(s.log, Request{Time: c.arrived, Op: op, Status: code, Device: device})
	s.mu.Unlock()
}

// kill closes the connection abruptly; called with s.mu held.
func (c *client) kill(reason string) bool {
	if c.killed {
		return false
	}
	c.killed = true
	c.cancel()
	return true
}

// sendLocked queues a frame for the client; a client that cannot keep up is
// dropped, as a cloud would.
func (c *client) sendLocked(b []byte) {
	if c.killed || c.muted {
		return
	}
	select {
	case c.out <- b:
	default:
		c.kill("send queue full")
	}
}

func (s *Server) broadcastLocked(msg map[string]any, except *client) {
	b, err := json.Marshal(msg)
	if err != nil {
		return
	}
	for c := range s.clients {
		if c != except && c.authed {
			c.sendLocked(b)
		}
	}
}

// MuteStreams makes every open WebSocket half-dead: it stays open and reads
// the client's frames but sends nothing more, not even pong. It returns how
// many it muted.
func (s *Server) MuteStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.clients {
		if !c.killed && !c.muted {
			c.muted = true
			n++
		}
	}
	return n
}

// HeartbeatMisses counts sockets dropped because the client fell silent.
func (s *Server) HeartbeatMisses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Op == "ws heartbeat missed" {
			n++
		}
	}
	return n
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closing", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{s: s, conn: conn, ctx: ctx, cancel: cancel, out: make(chan []byte, 1024)}
	s.mu.Lock()
	s.clients[c] = true
	s.mu.Unlock()
	s.logWS("ws connect", 0)
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		c.killed = true
		s.mu.Unlock()
		cancel()
		conn.CloseNow()
	}()
	go func() {
		for {
			select {
			case b := <-c.out:
				if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	s.readLoop(c)
}

// The send-gap rule is checked as a rate: at most 1 s / WSSendGap + 1
// client frames in any second. Arrival times on a busy machine wander by tens
// of milliseconds, which a pairwise check would mistake for violations; the
// extra frame absorbs that, while a client that ignores the gap still shows.
const rateWindow = time.Second

type inFrame struct {
	at   time.Time
	data []byte
}

// readLoop handles client frames until the socket ends. Frames are read and
// timestamped by their own goroutine, so slow handling never distorts the
// spacing check. Silence longer than the heartbeat allows (1.5 × hbInterval)
// drops the socket.
func (s *Server) readLoop(c *client) {
	frames := make(chan inFrame, 64)
	go func() {
		defer close(frames)
		authed := false
		for {
			limit := time.Duration(s.opt.HBInterval * 1.5 * float64(time.Second))
			if !authed {
				limit = 10 * time.Second
			}
			rctx, rcancel := context.WithTimeout(c.ctx, limit)
			typ, data, err := c.conn.Read(rctx)
			expired := errors.Is(rctx.Err(), context.DeadlineExceeded)
			rcancel()
			if err != nil {
				if expired && c.ctx.Err() == nil {
					s.logWS("ws heartbeat missed", 0)
				}
				c.cancel()
				return
			}
			if typ != websocket.MessageText {
				continue
			}
			authed = true // after the first frame the heartbeat rule applies
			select {
			case frames <- inFrame{at: time.Now(), data: data}:
			case <-c.ctx.Done():
				return
			}
		}
	}()
	for f := range frames {
		c.arrived = f.at
		s.mu.Lock()
		c.recent = append(c.recent, f.at)
		for len(c.recent) > 0 && f.at.Sub(c.recent[0]) >= rateWindow {
			c.recent = c.recent[1:]
		}
		if limit := int(rateWindow/s.opt.WSSendGap) + 1; len(c.recent) > limit {
			s.violateLocked("%d websocket frames within %s (limit %d): last %.60s", len(c.recent), rateWindow, limit, f.data)
		}
		s.mu.Unlock()
		if string(f.data) == "ping" {
			s.logFrame(c, "ws ping", 0)
			if c.authed {
				s.mu.Lock()
				c.sendLocked([]byte("pong"))
				s.mu.Unlock()
			}
			continue
		}
		var m map[string]any
		if err := decodeUseNumber(f.data, &m); err != nil {
			s.logFrame(c, "ws invalid", 400)
			continue
		}
		action, _ := m["action"].(string)
		if !c.authed && action != "userOnline" {
			s.logFrame(c, "ws "+action, 406)
			s.reply(c, m, 406, nil)
			c.cancel()
			return
		}
		switch action {
		case "userOnline":
			if !s.userOnline(c, m) {
				c.cancel()
				return
			}
		case "update", "query":
			s.deviceMessage(c, action, m)
		default:
			s.logFrame(c, "ws "+action, 0)
		}
	}
}

// userOnline authenticates the socket (reference §6.2).
func (s *Server) userOnline(c *client, m map[string]any) bool {
	at, _ := m["at"].(string)
	apikey, _ := m["apikey"].(string)
	appid, _ := m["appid"].(string)
	// The userOnline rule is timed on the simulator's clock, so a test
	// with a fake clock checks the adapter's real 15 s floor.
	now := s.opt.Now()
	s.mu.Lock()
	if n := len(s.onlines); n > 0 && now.Sub(s.onlines[n-1]) < s.opt.UserOnlineGap {
		s.violateLocked("userOnline %s after the previous one", now.Sub(s.onlines[n-1])) // the cloud bans such IPs
	}
	s.onlines = append(s.onlines, now)
	s.mu.Unlock()
	ok := !c.authed && appid == s.opt.AppID && apikey == s.opt.APIKey && s.tokenState(at) == 0
	code := 0
	if !ok {
		code = 406
	}
	s.logFrame(c, "ws userOnline", code)
	if !ok {
		b, _ := json.Marshal(map[string]any{"error": 406, "reason": "Authentication Failed", "sequence": m["sequence"]})
		wctx, cancel := context.WithTimeout(c.ctx, time.Second)
		_ = c.conn.Write(wctx, websocket.MessageText, b)
		cancel()
		c.conn.Close(websocket.StatusPolicyViolation, "authentication failed")
		return false
	}
	s.mu.Lock()
	c.at, c.authed = at, true
	c.sendLocked(mustJSON(map[string]any{"error": 0, "apikey": s.opt.APIKey, "config": map[string]any{"hb": 1, "hbInterval": s.opt.HBInterval}, "sequence": m["sequence"]}))
	s.mu.Unlock()
	return true
}

// deviceMessage answers update and query (reference §6.5).
func (s *Server) deviceMessage(c *client, action string, m map[string]any) {
	id, _ := m["deviceid"].(string)
	apikey, _ := m["apikey"].(string)
	self, _ := m["selfApikey"].(string)
	s.mu.Lock()
	d := s.devices[id]
	code := 0
	switch {
	case d == nil:
		code = 405
	case d.Shared && (apikey != ownerAPIKey || self != s.opt.APIKey):
		code = 406 // shared devices need the owner's apikey and selfApikey
	case !d.Shared && (apikey != s.opt.APIKey || (self != "" && self != s.opt.APIKey)):
		code = 406
	case !d.online:
		code = 504
	}
	var p map[string]any
	if code == 0 && action == "query" {
		names := ""
		if list, ok := m["params"].([]any); ok {
			for i, n := range list {
				if str, ok := n.(string); ok {
					if i > 0 {
						names += "|"
					}
					names += str
				}
			}
		}
		p = d.paramsFor(names)
	}
	s.mu.Unlock()
	if code == 0 && action == "update" {
		params, ok := m["params"].(map[string]any)
		if !ok || len(params) == 0 {
			code = 400
		} else {
			switch s.command(id, params, c) {
			case 0:
			case 4002:
				code = 504
			case 405:
				code = 405
			default:
				code = 400
			}
		}
	}
	s.logDeviceFrame(c, "ws "+action, id, code)
	s.reply(c, m, code, p)
}

func (s *Server) reply(c *client, m map[string]any, code int, p map[string]any) {
	r := map[string]any{"error": code, "deviceid": m["deviceid"], "apikey": m["apikey"], "sequence": m["sequence"]}
	if p != nil {
		r["params"] = p
	}
	s.mu.Lock()
	c.sendLocked(mustJSON(r))
	s.mu.Unlock()
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
