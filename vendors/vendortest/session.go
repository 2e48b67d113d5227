package vendortest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// session is one adapter built from a config and, once started, running.
type session struct {
	t       *testing.T
	adapter vendors.Adapter
	rec     *Recorder
	logs    *LogBuffer
	errs    *errorLog
	cancel  context.CancelFunc
	done    chan error
}

// LogBuffer collects log output from concurrent goroutines; give it to
// zerolog and read it while the adapter runs.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errorLog keeps every error text the adapter handed back, for the secret scan.
type errorLog struct {
	mu    sync.Mutex
	texts []string
}

func (e *errorLog) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	e.texts = append(e.texts, err.Error())
	e.mu.Unlock()
}

func (e *errorLog) all() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.texts, "\n")
}

// decodeStrict decodes a YAML mapping into v, rejecting unknown keys, the way
// the bridge's config loader hands account blocks to factories.
func decodeStrict(config string) func(any) error {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(config))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("account config: %w", err)
		}
		return nil
	}
}

// build makes an adapter through the registry. storeDir keeps its state
// across builds (a restart).
func build(t *testing.T, vendor string, h Harness, config, storeDir string, rt http.RoundTripper) (*session, error) {
	t.Helper()
	reg, ok := vendors.Lookup(vendor)
	if !ok {
		t.Fatalf("vendor %q is not registered (import its package in the test)", vendor)
	}
	logs := &LogBuffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel).With().Timestamp().Str("vendor", vendor).Logger()
	env := vendors.Env{
		Vendor:  vendor,
		Account: "conformance",
		Log:     log,
		Store:   (&vendorkit.FileStore{Dir: storeDir}).Scoped(vendor + "-conformance"),
		Metrics: vendors.NopMetrics{},
		Redact:  func(...string) {},
		HTTP:    &http.Client{Timeout: 10 * time.Second, Transport: rt},
		Now:     time.Now,
	}
	if p, ok := h.(PublicURLer); ok {
		env.PublicURL = p.PublicURL()
	}
	a, err := reg.Factory(env, decodeStrict(config))
	if err != nil {
		return nil, err
	}
	if r, ok := a.(vendors.Router); ok {
		if m, ok := h.(Mounter); ok {
			m.Mount(r.Routes())
		}
	}
	return &session{t: t, adapter: a, rec: NewRecorder(), logs: logs, errs: &errorLog{}}, nil
}

// start runs the adapter until stop.
func (s *session) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan error, 1)
	go func() { s.done <- s.adapter.Run(ctx, s.rec) }()
	s.t.Cleanup(func() { s.stop() })
}

// stop cancels Run and returns its error; Run must return within 5 s.
func (s *session) stop() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		s.errs.add(err)
		return err
	case <-time.After(5 * time.Second):
		s.t.Errorf("Run did not return within 5s of cancel")
		return nil
	}
}

// execute runs one command with a deadline and remembers the error text.
func (s *session) execute(cmd vendors.Command, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.adapter.Execute(ctx, cmd)
	s.errs.add(err)
	return err
}

// refresh calls Refresh when the adapter has it.
func (s *session) refresh(id string, timeout time.Duration) (bool, error) {
	r, ok := s.adapter.(vendors.Refresher)
	if !ok {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := r.Refresh(ctx, id)
	s.errs.add(err)
	return true, err
}

// waitInventory waits for a non-empty inventory.
func (s *session) waitInventory(timeout time.Duration) map[string]vendors.Device {
	s.t.Helper()
	s.rec.WaitFor(s.t, timeout, "a non-empty inventory", func() bool { return len(s.rec.Devices()) > 0 })
	return s.rec.Devices()
}

// statusText is every status string the adapter reported.
func (s *session) statusText() string {
	var b strings.Builder
	for _, st := range s.rec.Statuses() {
		fmt.Fprintf(&b, "%s %s %s %v %v\n", st.State, st.LastError, st.ReauthURL, st.Info, st.Budget)
	}
	return b.String()
}
