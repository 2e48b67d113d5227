package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
)

// cutOff reports whether the server closes a connection on which the client
// sent head and then nothing more; within limit (far above the server's
// timeouts, so no timing is asserted, only that it is not held forever).
func cutOff(t *testing.T, addr, head string, limit time.Duration) (string, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(limit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

// TestFaultWebhookAbuse sends every adapter route of the demo's HTTP server
// (webhooks, push receivers, consent callbacks, login pages) oversized
// bodies, with and without a declared length, and holds connections open
// with slow headers and slow bodies: the server refuses the bodies, cuts
// the slow clients off, and keeps serving. Forged consent callbacks and
// pushes to a wrong path change nothing.
func TestFaultWebhookAbuse(t *testing.T) {
	url := bridgetest.BrokerURL(t)
	w := startFaultWorld(t, url, faultWorldOptions{})
	before := w.settle()
	routes := w.d.app.bridge.Routes()
	if len(routes) == 0 {
		t.Fatal("the demo has no adapter routes")
	}
	addr := strings.TrimPrefix(w.d.bridgeURL, "http://")
	big := bytes.Repeat([]byte("x"), 2<<20)

	for _, r := range routes {
		path := r.Path
		if strings.HasSuffix(path, "/") {
			path += "x"
		}
		t.Run("oversized"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			resp, err := http.Post(w.d.bridgeURL+path, "application/json", bytes.NewReader(big))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 400 {
					t.Errorf("2 MiB with Content-Length: status %d", resp.StatusCode)
				}
			}
			if strings.HasSuffix(path, "/login") {
				// The password login page reads no body: a POST is the
				// button, and would log in at the cloud.
				return
			}
			// Chunked: no length to refuse up front, the reader is capped.
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write(big)
				_ = pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPost, w.d.bridgeURL+path, pr)
			req.Header.Set("Content-Type", "application/json")
			resp, err = http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 400 {
					t.Errorf("2 MiB chunked: status %d", resp.StatusCode)
				}
			}
		})
	}

	// Slow clients, all at once: headers never finished, a body never sent.
	path := routes[0].Path
	heads := map[string]string{
		"slow headers": fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\n", path),
		"slow body":    fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", path),
	}
	var wg sync.WaitGroup
	for name, head := range heads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok := cutOff(t, addr, head, 60*time.Second); !ok {
				t.Errorf("%s: the connection was held open for 60s", name)
			}
		}()
	}
	wg.Wait()

	// Forgeries: a consent callback not signed by Shelly, a push to a wrong
	// secret path.
	for _, r := range routes {
		p := r.Path
		switch {
		case strings.Contains(p, "/consent"):
			body := `{"action":"add","deviceId":"deadbeef0001","deviceType":"SHSW-1","host":"evil.example","token":"forged"}`
			resp, err := http.Post(w.d.bridgeURL+p, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("forged consent on %s: status %d", p, resp.StatusCode)
			}
		case strings.HasPrefix(p, "/expeed/"):
			resp, err := http.Post(w.d.bridgeURL+strings.TrimSuffix(p, "/")+"/wrong-secret", "application/json", strings.NewReader(`{"type":1}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("push to a wrong path under %s: status %d", p, resp.StatusCode)
			}
		}
	}

	// Still serving, and nothing changed.
	if h := httpGet(t, w.d.bridgeURL+"/healthz"); !strings.Contains(h, `"status":"ok"`) {
		t.Errorf("/healthz after the abuse = %s", h)
	}
	after, _ := w.waitComplete("after the abuse", &before, 10*time.Second)
	if len(after.devices) != len(before.devices) {
		t.Errorf("devices %d → %d after forged requests", len(before.devices), len(after.devices))
	}
	for _, id := range after.devices {
		if strings.Contains(id, "deadbeef0001") {
			t.Errorf("a forged consent added %s", id)
		}
	}
}
