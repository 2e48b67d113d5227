package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func echo(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	_, _ = w.Write(b)
}

func TestHealthMetricsRoutes(t *testing.T) {
	healthy := true
	s, err := New(Options{
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "cloud2mqtt_up 1\n") }),
		Health: func() (bool, any) {
			if healthy {
				return true, map[string]any{"status": "ok"}
			}
			return false, map[string]any{"status": "error", "problems": []string{"mqtt not connected"}}
		},
		Routes:  []vendors.Route{{Path: "/shelly/home/push", Handler: http.HandlerFunc(echo)}},
		MaxBody: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz %d %s", code, body)
	}
	healthy = false
	code, body := get("/healthz")
	var v map[string]any
	if code != 503 || json.Unmarshal([]byte(body), &v) != nil || v["status"] != "error" {
		t.Errorf("unhealthy healthz %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "cloud2mqtt_up") {
		t.Errorf("metrics %d %s", code, body)
	}
	if code, _ := get("/nothing"); code != 404 {
		t.Errorf("unknown path %d", code)
	}
	post := func(n int) int {
		resp, err := srv.Client().Post(srv.URL+"/shelly/home/push", "text/plain", strings.NewReader(strings.Repeat("x", n)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode
	}
	if c := post(100); c != 200 {
		t.Errorf("small body %d", c)
	}
	if c := post(2048); c != http.StatusRequestEntityTooLarge {
		t.Errorf("large body %d", c)
	}
	// A body without a length is cut off while it is read.
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write([]byte(strings.Repeat("y", 4096))); pw.Close() }()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/shelly/home/push", pr)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked large body %d", resp.StatusCode)
	}
}

func TestBadRoutes(t *testing.T) {
	h := http.HandlerFunc(echo)
	for _, routes := range [][]vendors.Route{
		{{Path: "/a", Handler: h}, {Path: "/a", Handler: h}},
		{{Path: "/metrics", Handler: h}},
		{{Path: "/healthz/x", Handler: h}},
		{{Path: "relative", Handler: h}},
		{{Path: "/", Handler: h}},
		{{Path: "/x", Handler: nil}},
		{{Path: "/GET /x", Handler: h}},
	} {
		if _, err := New(Options{Routes: routes}); err == nil {
			t.Errorf("%v accepted", routes)
		}
	}
	if _, err := New(Options{Routes: []vendors.Route{{Path: "/a", Handler: h}, {Path: "/b/", Handler: h}}}); err != nil {
		t.Error(err)
	}
}

func TestServeShutdownAndSlowClients(t *testing.T) {
	s, err := New(Options{ReadHeaderTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	resp.Body.Close()

	// A client that never finishes its headers is disconnected.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(bufio.NewReader(c)); err != nil {
		t.Fatalf("slow client not cut off: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}
