package shelly

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// hostConn is the one WebSocket to one Shelly server. Exactly one goroutine
// (runHost) dials it, so two sockets to the same server never coexist.
type hostConn struct {
	host   string
	cancel context.CancelFunc

	mu      sync.Mutex
	conn    *websocket.Conn
	up      chan struct{} // closed while connected
	lastErr string
	logs    logThrottle
}

func newHostConn(host string) *hostConn {
	return &hostConn{host: host, up: make(chan struct{}), logs: logThrottle{every: time.Minute}}
}

func (h *hostConn) current() *websocket.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conn
}

func (h *hostConn) error() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastErr
}

func (h *hostConn) setUp(c *websocket.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conn, h.lastErr = c, ""
	close(h.up)
}

func (h *hostConn) setDown(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		h.conn = nil
		h.up = make(chan struct{})
	}
	if err != nil {
		h.lastErr = h.host + ": " + err.Error()
	}
}

// waitUp waits until the server is connected or ctx ends.
func (h *hostConn) waitUp(ctx context.Context) (*websocket.Conn, error) {
	for {
		h.mu.Lock()
		c, up := h.conn, h.up
		h.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// wsURL is the server's stream URL; the token rides in the query string, so
// the URL is never logged (DialWS scrubs it from errors).
func (a *integrator) wsURL(host, tok string) string {
	return a.cfg.WSScheme + "://" + host + ":" + strconv.Itoa(a.cfg.WSPort) + "/shelly/wss/hk_sock?t=" + url.QueryEscape(tok)
}

// runHost keeps one server connected, reconnecting with jittered backoff.
func (a *integrator) runHost(ctx context.Context, h *hostConn) {
	sup := vendorkit.Supervisor{
		Backoff:     vendorkit.Backoff{Base: a.cfg.BackoffBase, Max: a.cfg.BackoffMax, Floor: a.cfg.BackoffBase / 2},
		StableAfter: time.Minute,
		OnRetry: func(err error, wait time.Duration) {
			h.setDown(err)
			h.mu.Lock()
			ok, n := h.logs.allow(a.env.Now())
			h.mu.Unlock()
			ev := a.log.Debug()
			if ok {
				ev = a.log.Warn().Int("suppressed", n)
			}
			ev.Err(err).Str("host", h.host).Dur("retry_in", wait).Msg("shelly server connection lost")
			a.report(nil)
		},
	}
	err := sup.Run(ctx, func(ctx context.Context) error { return a.session(ctx, h) })
	h.setDown(nil)
	if vendors.IsPermanent(err) {
		a.mu.Lock()
		fatal := a.fatal
		a.mu.Unlock()
		select {
		case fatal <- err:
		default:
		}
	}
}

// session is one connection's life: dial, verify every device of the
// server, then read frames until the socket fails.
func (a *integrator) session(ctx context.Context, h *hostConn) error {
	tok, err := a.tokens.get(ctx)
	if err != nil {
		return err
	}
	conn, err := vendorkit.DialWS(ctx, a.wsURL(h.host, tok), a.hc, nil)
	if err != nil {
		var hs interface{ HTTPStatus() int }
		if errors.As(err, &hs) && (hs.HTTPStatus() == 401 || hs.HTTPStatus() == 403) {
			a.tokens.invalidate(tok) // the next attempt fetches a new token
		}
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		conn.CloseNow()
		wg.Wait()
		h.setDown(nil)
		a.env.Metrics.StreamConnected(false)
		a.report(nil)
	}()
	h.setUp(conn)
	a.env.Metrics.StreamConnected(true)
	a.log.Info().Str("host", h.host).Msg("connected to shelly server")
	a.report(nil)
	wg.Go(func() { a.verifyHost(sctx, h, conn) })
	wg.Go(func() { a.keepalive(sctx, conn) })
	frames := vendorkit.NewWSReader(sctx, conn)
	defer frames.Stop()
	for {
		typ, data, err := frames.Read()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return vendorkit.ScrubError(err)
		}
		if typ != websocket.MessageText {
			continue
		}
		a.handleFrame(h, conn, data)
	}
}

// verifyHost asks for the full status of every device on the server, paced,
// because StatusOnChange only reports changes.
func (a *integrator) verifyHost(ctx context.Context, h *hostConn, conn *websocket.Conn) {
	grants, err := a.grants.all()
	if err != nil {
		return
	}
	var ids []string
	for id, g := range grants {
		if g.Host == h.host {
			ids = append(ids, id)
		}
	}
	for i, id := range ids {
		if i > 0 && vendorkit.Sleep(ctx, nil, a.cfg.VerifyInterval) != nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		a.sendVerify(conn, id)
	}
}

// keepalive pings; a ping without pong within the interval closes the socket.
func (a *integrator) keepalive(ctx context.Context, conn *websocket.Conn) {
	t := time.NewTicker(a.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, a.cfg.PingInterval)
			err := conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				a.log.Warn().Err(err).Msg("shelly server did not answer a ping; reconnecting")
				conn.CloseNow()
				return
			}
		}
	}
}
