package vendorkit

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Supervisor runs a session (a stream connection, a poll loop) again and again
// until ctx ends, waiting a jittered backoff between failed sessions. A session
// that lasted StableAfter or longer resets the backoff, so one drop after hours
// of service reconnects at the short end.
type Supervisor struct {
	Backoff     Backoff
	StableAfter time.Duration
	Clock       Clock
	// OnRetry is told of each failure and the wait before the next try.
	OnRetry func(err error, wait time.Duration)
}

// Run calls session until ctx ends or session returns a permanent error.
func (s *Supervisor) Run(ctx context.Context, session func(ctx context.Context) error) error {
	clock := s.Clock
	if clock == nil {
		clock = RealClock{}
	}
	for {
		start := clock.Now()
		err := session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if vendors.IsPermanent(err) {
			return err
		}
		if s.StableAfter > 0 && clock.Now().Sub(start) >= s.StableAfter {
			s.Backoff.Reset()
		}
		wait := s.Backoff.Next()
		if s.OnRetry != nil {
			s.OnRetry(err, wait)
		}
		if err := Sleep(ctx, clock, wait); err != nil {
			return err
		}
	}
}

// MaxFrame bounds one WebSocket message from a cloud.
const MaxFrame = 1 << 20

// DialWS opens a WebSocket with a read limit fit for vendor frames. Its error
// never contains the URL's query string (where tokens travel).
func DialWS(ctx context.Context, rawURL string, client *http.Client, header http.Header) (*websocket.Conn, error) {
	conn, resp, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{HTTPClient: client, HTTPHeader: header})
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, &dialError{url: ScrubURL(rawURL), status: statusOf(resp), err: ScrubError(err)}
	}
	conn.SetReadLimit(MaxFrame)
	return conn, nil
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

type dialError struct {
	url    string
	status int
	err    error
}

func (e *dialError) Error() string {
	msg := "websocket dial " + e.url
	if e.status != 0 {
		msg += ": http " + http.StatusText(e.status)
	}
	return msg + ": " + e.err.Error()
}

func (e *dialError) Unwrap() error { return e.err }

// HTTPStatus is the handshake's HTTP status, 0 if none came.
func (e *dialError) HTTPStatus() int { return e.status }

// WSReader reads the messages of one WebSocket into a buffer it reuses, so a
// stream of small frames costs no allocation per frame. The slice Read
// returns is valid until the next Read: decode it, never keep it.
//
// It watches one context for the connection's whole life: when that ends,
// the connection is closed, which ends a Read in progress with an error.
// Reading with the context itself would make coder/websocket register and
// drop a callback on it for every message.
type WSReader struct {
	conn *websocket.Conn
	buf  bytes.Buffer
	stop func() bool
}

// NewWSReader reads conn until ctx ends. Call Stop when done with it.
func NewWSReader(ctx context.Context, conn *websocket.Conn) *WSReader {
	return &WSReader{conn: conn, stop: context.AfterFunc(ctx, func() { conn.CloseNow() })}
}

// Stop stops watching the context; the connection is left as it is.
func (r *WSReader) Stop() { r.stop() }

const maxKeptWSBuffer = 64 << 10

// Read reads the next message, within the connection's read limit.
func (r *WSReader) Read() (websocket.MessageType, []byte, error) {
	typ, msg, err := r.conn.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	if r.buf.Cap() > maxKeptWSBuffer {
		r.buf = bytes.Buffer{} // one large message does not pin its size
	}
	r.buf.Reset()
	if _, err := r.buf.ReadFrom(msg); err != nil {
		return 0, nil, err
	}
	return typ, r.buf.Bytes(), nil
}
