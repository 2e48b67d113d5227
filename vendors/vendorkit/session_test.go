package vendorkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWSReader reads messages of several sizes, a large one among them, in
// order and whole, and stops at a message over the connection's read limit.
func TestWSReader(t *testing.T) {
	msgs := []string{"first", strings.Repeat("x", 100<<10), "third", strings.Repeat("y", 2<<20)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for _, m := range msgs {
			if c.Write(r.Context(), websocket.MessageText, []byte(m)) != nil {
				return
			}
		}
		time.Sleep(time.Second)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := DialWS(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	r := NewWSReader(ctx, conn)
	defer r.Stop()
	for _, want := range msgs[:3] {
		typ, got, err := r.Read()
		if err != nil || typ != websocket.MessageText || string(got) != want {
			t.Fatalf("read %d bytes (%v, %v), want %d", len(got), typ, err, len(want))
		}
	}
	if r.buf.Cap() > maxKeptWSBuffer {
		t.Errorf("buffer of %d bytes kept after small messages", r.buf.Cap())
	}
	if _, got, err := r.Read(); err == nil {
		t.Fatalf("a message over the read limit was read (%d bytes)", len(got))
	}
}

// TestWSReaderEndsWithContext: a Read waiting on a silent connection returns
// once the reader's context ends, and the connection is closed.
func TestWSReaderEndsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(r.Context()) // silent until the client goes
	}))
	defer srv.Close()
	conn, err := DialWS(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithCancel(context.Background())
	r := NewWSReader(ctx, conn)
	defer r.Stop()
	done := make(chan error, 1)
	go func() {
		_, _, err := r.Read()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Read returned no error after its context ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5 s after its context ended")
	}
	if err := conn.Write(context.Background(), websocket.MessageText, []byte("x")); err == nil {
		t.Error("the connection is still open after the reader's context ended")
	}
}
