package main

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
)

// tlsServerCA writes the certificate of an httptest TLS server to a PEM file.
func tlsServerCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFaultTLSVerification: the cloud client and the broker connection
// verify certificates unless the config says otherwise; a custom CA file
// makes a private certificate trusted without turning checks off.
func TestFaultTLSVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") }))
	defer srv.Close()
	ca := tlsServerCA(t, srv)

	t.Run("cloud", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			c    config.Cloud
			ok   bool
		}{
			{"default", config.Cloud{}, false},
			{"custom CA", config.Cloud{CAFile: ca}, true},
			{"insecure by choice", config.Cloud{InsecureSkipVerify: true}, true},
		} {
			hc, err := cloudClient(tc.c)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			hc.Timeout = 5 * time.Second
			resp, err := hc.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("%s: err = %v, want success %v", tc.name, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "certificate") {
				t.Errorf("%s: failed for another reason than the certificate: %v", tc.name, err)
			}
		}
	})

	t.Run("broker", func(t *testing.T) {
		// A TLS listener with the private certificate: it records whether a
		// client completed the handshake (it speaks no MQTT after that).
		for _, tc := range []struct {
			name  string
			extra string
			ok    bool
		}{
			{"default", "", false},
			{"custom CA", fmt.Sprintf("  ca_file: %q\n", ca), true},
			{"insecure by choice", "  insecure_skip_verify: true\n", true},
		} {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: srv.TLS.Certificates})
			if err != nil {
				t.Fatal(err)
			}
			handshakes := make(chan error, 16)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					_ = c.SetDeadline(time.Now().Add(5 * time.Second))
					handshakes <- c.(*tls.Conn).Handshake()
					c.Close()
				}
			}()
			yml := fmt.Sprintf("mqtt:\n  url: \"mqtts://%s\"\n  connect_timeout: 2s\n%sstate_dir: %q\nhttp:\n  listen: \"\"\n", ln.Addr(), tc.extra, t.TempDir())
			cfg, err := config.Parse([]byte(yml), "tls test", func(string) (string, bool) { return "", false })
			if err != nil {
				ln.Close()
				t.Fatalf("%s: config: %v", tc.name, err)
			}
			client, err := newMQTTClient(cfg, zerolog.Nop())
			if err != nil {
				ln.Close()
				t.Fatalf("%s: %v", tc.name, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = client.Connect(ctx) // never succeeds: the listener is no broker
			cancel()
			client.Disconnect()
			ln.Close()
			select {
			case err := <-handshakes:
				if (err == nil) != tc.ok {
					t.Errorf("%s: server-side handshake error = %v, want success %v", tc.name, err, tc.ok)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s: the client never reached the listener", tc.name)
			}
		}
	})
}
