// Package httpapi is the bridge's HTTP server: /metrics, /healthz and the
// routes adapters register for cloud callbacks and webhooks.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Options configure the server. Zero durations take the defaults noted.
type Options struct {
	// Metrics serves /metrics; nil answers 404 there.
	Metrics http.Handler
	// Health reports whether the bridge is healthy and the report to show;
	// nil always answers 200.
	Health func() (healthy bool, report any)
	// Routes are the adapters' endpoints. A path ending in "/" serves its
	// whole subtree (net/http.ServeMux rules).
	Routes []vendors.Route
	// MaxBody caps a request body to a route (default 1 MiB).
	MaxBody           int64
	ReadHeaderTimeout time.Duration // default 5s
	ReadTimeout       time.Duration // default 15s
	WriteTimeout      time.Duration // default 30s
	IdleTimeout       time.Duration // default 120s
	// ShutdownTimeout bounds the graceful shutdown (default 5s).
	ShutdownTimeout time.Duration
	Log             zerolog.Logger
}

// BridgeHealth adapts Bridge.Health for Options.Health.
func BridgeHealth(b *bridge.Bridge) func() (bool, any) {
	return func() (bool, any) {
		h := b.Health()
		return h.OK(), h
	}
}

// Server is the HTTP server.
type Server struct {
	opts Options
	mux  *http.ServeMux
}

var reserved = []string{"/metrics", "/healthz"}

// New builds the server; it fails on a duplicate, reserved or malformed route.
func New(o Options) (*Server, error) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 5*time.Second)
	def(&o.ReadTimeout, 15*time.Second)
	def(&o.WriteTimeout, 30*time.Second)
	def(&o.IdleTimeout, 120*time.Second)
	def(&o.ShutdownTimeout, 5*time.Second)
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	s := &Server{opts: o, mux: http.NewServeMux()}
	s.mux.HandleFunc("/healthz", s.healthz)
	if o.Metrics != nil {
		s.mux.Handle("/metrics", o.Metrics)
	}
	seen := map[string]bool{}
	var errs []error
	for _, r := range o.Routes {
		if err := s.mount(r, seen); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) mount(r vendors.Route, seen map[string]bool) (err error) {
	switch {
	case r.Handler == nil:
		return fmt.Errorf("route %q: no handler", r.Path)
	case !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, " {}") || r.Path == "/":
		return fmt.Errorf("route %q: want an absolute path below /", r.Path)
	case seen[r.Path]:
		return fmt.Errorf("route %q: registered twice", r.Path)
	}
	for _, p := range reserved {
		if r.Path == p || strings.HasPrefix(r.Path, p+"/") {
			return fmt.Errorf("route %q: %s is the bridge's own", r.Path, p)
		}
	}
	seen[r.Path] = true
	defer func() {
		if p := recover(); p != nil { // ServeMux panics on conflicting patterns
			err = fmt.Errorf("route %q: %v", r.Path, p)
		}
	}()
	s.mux.Handle(r.Path, s.limit(r.Handler))
	return nil
}

// limit caps the request body of adapter routes.
func (s *Server) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.opts.MaxBody {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	healthy, report := true, any(map[string]string{"status": "ok"})
	if s.opts.Health != nil {
		healthy, report = s.opts.Health()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !healthy {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(report)
}

// Handler is the server's handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.mux }

// Serve serves on ln until ctx ends, then shuts down gracefully. It returns
// nil after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(s.opts.Log.With().Str("component", "http").Logger(), "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.opts.Log.Info().Str("addr", ln.Addr().String()).Msg("http server listening")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
