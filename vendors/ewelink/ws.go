package ewelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// wsConn is one WebSocket session: a writer that spaces every frame by the
// send gap (commands first) and sends the heartbeat, a reader that hands
// frames to the adapter, and replies matched to requests by sequence.
type wsConn struct {
	a        *Adapter
	c        *websocket.Conn
	ctx      context.Context
	cancel   context.CancelCauseFunc
	high     chan *outMsg
	low      chan *outMsg
	gap      time.Duration
	hb       bool
	interval time.Duration
	apikey   string
	started  time.Time // when userOnline went out: the first gap counts from it
	lastRecv atomic.Int64

	mu      sync.Mutex
	pending map[string]chan frame
	closed  bool
	wg      sync.WaitGroup
}

type outMsg struct {
	data    []byte
	written chan struct{}
}

var errNotSent = errors.New("websocket closed before the message was sent")

// dispatch asks the region's dispatcher for the WebSocket host (§6.1). The
// socket's scheme follows the dispatcher's (https → wss, http → ws).
func (a *Adapter) dispatch(ctx context.Context, tok tokens) (string, error) {
	du := a.cfg.dispatchURL(tok.Region)
	body, err := a.send(ctx, request{op: "GET /dispatch/app", method: http.MethodGet, url: du, auth: authBearer, token: tok.AT, prio: vendorkit.Low, raw: true})
	if err != nil {
		return "", err
	}
	var d struct {
		Port   flexInt `json:"port"`
		IP     string  `json:"IP"`
		Domain string  `json:"domain"`
		Error  flexInt `json:"error"`
		Reason string  `json:"reason"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return "", &vendors.Error{Code: vendors.CodeCloud, Message: "dispatch reply is not JSON", Err: err}
	}
	host := d.Domain
	if host == "" {
		host = d.IP
	}
	if d.Error != 0 || !hostname(host) || d.Port <= 0 || d.Port > 65535 {
		return "", &vendors.Error{Code: vendors.CodeUnavailable, Message: fmt.Sprintf("dispatch answered error %d (%.40s)", int(d.Error), d.Reason)}
	}
	scheme := "wss"
	if u, err := url.Parse(du); err == nil && u.Scheme == "http" {
		scheme = "ws"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(d.Port))) + "/api/ws", nil
}

// hostname accepts a DNS name or an IP address, nothing that could bend the
// socket URL (spaces, slashes, user info).
func hostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// nextSeq is a millisecond timestamp, bumped on collision (§6.5).
func (a *Adapter) nextSeq() string {
	for {
		last := a.seq.Load()
		s := max(a.now().UnixMilli(), last+1)
		if a.seq.CompareAndSwap(last, s) {
			return strconv.FormatInt(s, 10)
		}
	}
}

// connect opens a session: dispatch, dial, userOnline (§6.6). A 406 reply
// means the token was superseded: it renews once and returns an error so
// the supervisor retries after its backoff, never at once.
func (a *Adapter) connect(ctx context.Context) (*wsConn, error) {
	tok, gen, err := a.bearer()
	if err != nil {
		return nil, err
	}
	target := a.cfg.WSURL
	if target == "" {
		if target, err = a.dispatch(ctx, tok); err != nil {
			return nil, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := vendorkit.DialWS(dctx, target, a.http, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(vendorkit.MaxFrame)
	seq := a.nextSeq()
	hello, _ := json.Marshal(userOnline{Action: "userOnline", Version: 8, TS: a.now().Unix(), AT: tok.AT, UserAgent: "app",
		APIKey: tok.APIKey, AppID: a.cfg.AppID, Nonce: nonce(8), Sequence: seq})
	a.userOnlines.Add(1)
	if err := c.Write(dctx, websocket.MessageText, hello); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("websocket handshake: %w", vendorkit.ScrubError(err))
	}
	started := time.Now()
	var reply frame
	for {
		_, data, err := c.Read(dctx)
		if err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("websocket handshake reply: %w", vendorkit.ScrubError(err))
		}
		if reply, err = decodeFrame(data); err != nil {
			c.CloseNow()
			return nil, err
		}
		if !reply.Pong && reply.Action == "" {
			break
		}
	}
	if code := reply.code(); code != 0 {
		c.Close(websocket.StatusNormalClosure, "")
		herr := &cloudError{op: "ws userOnline", code: code, msg: reply.Reason}
		if code == 406 || code == 401 || code == 402 {
			if rerr := a.renew(ctx, gen, code); rerr != nil {
				return nil, rerr
			}
			return nil, fmt.Errorf("websocket handshake refused the token; it was refreshed: %w", herr)
		}
		return nil, classify(herr)
	}
	a.accepted(gen)
	hb, interval, err := reply.heartbeat()
	if err != nil {
		c.CloseNow()
		return nil, err
	}
	wctx, wcancel := context.WithCancelCause(ctx)
	w := &wsConn{a: a, c: c, ctx: wctx, cancel: wcancel, high: make(chan *outMsg, 64), low: make(chan *outMsg, 256),
		gap: a.cfg.WSSendGap, hb: hb, interval: interval, apikey: tok.APIKey, started: started, pending: map[string]chan frame{}}
	w.lastRecv.Store(time.Now().UnixNano())
	w.wg.Add(2)
	go w.writer()
	go w.reader()
	return w, nil
}

// pingDelay is hbInterval × random(0.8, 1.0), the app's rule (§6.3).
func (w *wsConn) pingDelay() time.Duration {
	return time.Duration(float64(w.interval) * (0.8 + 0.2*rand.Float64()))
}

func (w *wsConn) writer() {
	defer w.wg.Done()
	ping := time.NewTimer(w.pingDelay())
	defer ping.Stop()
	if !w.hb {
		ping.Stop()
	}
	last := w.started
	for {
		if wait := time.Until(last.Add(w.gap)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-w.ctx.Done():
				t.Stop()
				return
			}
		}
		var m *outMsg
		isPing := false
		select {
		case m = <-w.high:
		default:
			select {
			case m = <-w.high:
			case m = <-w.low:
			case <-ping.C:
				isPing = true
				m = &outMsg{data: []byte("ping")}
			case <-w.ctx.Done():
				return
			}
		}
		if w.a.onWrite != nil {
			w.a.onWrite(time.Now())
		}
		wctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
		err := w.c.Write(wctx, websocket.MessageText, m.data)
		cancel()
		last = time.Now()
		if err != nil {
			w.cancel(fmt.Errorf("websocket write: %w", vendorkit.ScrubError(err)))
			return
		}
		if m.written != nil {
			close(m.written)
		}
		if isPing {
			ping.Reset(w.pingDelay())
		}
	}
}

func (w *wsConn) reader() {
	defer w.wg.Done()
	frames := vendorkit.NewWSReader(w.ctx, w.c)
	defer frames.Stop()
	for {
		typ, data, err := frames.Read()
		if err != nil {
			w.cancel(fmt.Errorf("websocket read: %w", vendorkit.ScrubError(err)))
			return
		}
		w.lastRecv.Store(time.Now().UnixNano())
		if typ != websocket.MessageText {
			continue
		}
		f, err := decodeFrame(data)
		if err != nil {
			w.a.log.Debug().Err(err).Msg("websocket frame ignored")
			continue
		}
		w.a.handleFrame(w, f, data)
	}
}

// idle is how long the socket has been silent.
func (w *wsConn) idle() time.Duration {
	return time.Since(time.Unix(0, w.lastRecv.Load()))
}

// close ends the session and waits for its goroutines.
func (w *wsConn) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel(context.Canceled)
	w.c.Close(websocket.StatusNormalClosure, "")
	w.wg.Wait()
}

// deliver hands a reply to the request waiting for its sequence.
func (w *wsConn) deliver(f frame) bool {
	w.mu.Lock()
	ch, ok := w.pending[string(f.Sequence)]
	w.mu.Unlock()
	if ok {
		select {
		case ch <- f:
		default:
		}
	}
	return ok
}

// request sends an update or query and waits for the cloud's ack. An error
// wrapping errNotSent means the message never left (safe to retry by REST).
func (w *wsConn) request(ctx context.Context, action, deviceID, owner string, p any, prio vendorkit.Priority) (frame, error) {
	seq := w.a.nextSeq()
	data, err := json.Marshal(outgoing{Action: action, DeviceID: deviceID, APIKey: owner, SelfAPIKey: w.apikey, UserAgent: "app", Sequence: seq, Params: p})
	if err != nil {
		return frame{}, err
	}
	ch := make(chan frame, 1)
	w.mu.Lock()
	w.pending[seq] = ch
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.pending, seq)
		w.mu.Unlock()
	}()
	m := &outMsg{data: data, written: make(chan struct{})}
	q := w.low
	if prio == vendorkit.High {
		q = w.high
	}
	select {
	case q <- m:
	case <-ctx.Done():
		return frame{}, ctx.Err()
	case <-w.ctx.Done():
		return frame{}, errNotSent
	}
	if w.a.log.Debug().Enabled() {
		w.a.log.Debug().Str("action", action).Str("device", deviceID).Str("frame", truncate(string(data), 300)).Msg("websocket send")
	}
	timer := time.NewTimer(w.a.cfg.AckTimeout)
	defer timer.Stop()
	select {
	case f := <-ch:
		if code := f.code(); code != 0 {
			return f, classify(&cloudError{op: "ws " + action, code: code, msg: f.Reason})
		}
		return f, nil
	case <-timer.C:
		return frame{}, vendors.Errorf(vendors.CodeNoResponse, "no answer from the cloud within %s", w.a.cfg.AckTimeout)
	case <-ctx.Done():
		return frame{}, ctx.Err()
	case <-w.ctx.Done():
		select {
		case <-m.written:
			return frame{}, vendors.Errorf(vendors.CodeNoResponse, "the websocket closed before the cloud answered")
		default:
			return frame{}, errNotSent
		}
	}
}

// goLow runs f on the session (it ends with the connection).
func (w *wsConn) goLow(f func(ctx context.Context)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f(w.ctx)
	}()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
