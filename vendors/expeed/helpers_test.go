package expeed_test

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
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

type syncBuf = vendortest.LogBuffer

// recMetrics keeps the last budget and token expiry reported.
type recMetrics struct {
	vendors.NopMetrics
	mu     sync.Mutex
	budget map[string]float64
	expiry time.Time
}

func (m *recMetrics) Budget(name string, v float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.budget == nil {
		m.budget = map[string]float64{}
	}
	m.budget[name] = v
}

func (m *recMetrics) TokenExpiry(at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expiry = at
}

func (m *recMetrics) get(name string) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.budget[name]
	return v, ok
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func decodeYAML(config string) func(any) error {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(config))
		dec.KnownFields(true)
		return dec.Decode(v)
	}
}

// runner is one adapter built through the registry and running.
type runner struct {
	t       testing.TB
	a       vendors.Adapter
	rec     *vendortest.Recorder
	logs    *syncBuf
	metrics *recMetrics
	cancel  context.CancelFunc
	done    chan error
}

type buildOpt struct {
	dir string
	now func() time.Time
}

func build(t testing.TB, h *harness, config string, o buildOpt) (*runner, error) {
	t.Helper()
	reg, ok := vendors.Lookup("expeed")
	if !ok {
		t.Fatal("expeed is not registered")
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	logs := &syncBuf{}
	m := &recMetrics{}
	env := vendors.Env{
		Vendor:  "expeed",
		Account: "test",
		Log:     zerolog.New(logs).Level(zerolog.DebugLevel),
		Store:   (&vendorkit.FileStore{Dir: o.dir}).Scoped("expeed-test"),
		Metrics: m,
		HTTP:    &http.Client{Timeout: 5 * time.Second},
		Now:     o.now,
	}
	a, err := reg.Factory(env, decodeYAML(config))
	if err != nil {
		return nil, err
	}
	if h != nil {
		h.Mount(a.(vendors.Router).Routes())
	}
	return &runner{t: t, a: a, rec: vendortest.NewRecorder(), logs: logs, metrics: m}, nil
}

func mustStart(t testing.TB, h *harness, config string, o buildOpt) *runner {
	t.Helper()
	r, err := build(t, h, config, o)
	if err != nil {
		t.Fatalf("factory: %v", err)
	}
	r.start()
	return r
}

func (r *runner) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	go func() { r.done <- r.a.Run(ctx, r.rec) }()
	r.t.Cleanup(func() { r.stop() })
}

func (r *runner) stop() error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		return err
	case <-time.After(5 * time.Second):
		r.t.Errorf("Run did not return within 5s of cancel")
		return nil
	}
}

// ready waits until every device has reported availability and a value.
func (r *runner) ready(timeout time.Duration) {
	r.t.Helper()
	r.rec.WaitFor(r.t, timeout, "every device read", func() bool {
		devs := r.rec.Devices()
		if len(devs) == 0 {
			return false
		}
		for id, d := range devs {
			if _, known := r.rec.Online(id); !known {
				return false
			}
			if len(d.Entities) > 0 {
				if _, ok := r.rec.Value(id, d.Entities[0].Key); !ok {
					return false
				}
			}
		}
		return true
	})
}

// connected waits for the account to report connected.
func (r *runner) connected(timeout time.Duration) {
	r.t.Helper()
	r.rec.WaitFor(r.t, timeout, "a connected account", func() bool {
		return r.lastStatus().State == vendors.StateConnected
	})
}

func (r *runner) exec(cmd vendors.Command) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.a.Execute(ctx, cmd)
}

func (r *runner) lastStatus() vendors.Status {
	st := r.rec.Statuses()
	if len(st) == 0 {
		return vendors.Status{}
	}
	return st[len(st)-1]
}

// countOps counts simulator requests whose op contains s.
func countOps(reqs []expeedsim.Request, s string) int {
	n := 0
	for _, r := range reqs {
		if strings.Contains(r.Op, s) {
			n++
		}
	}
	return n
}

// noSecrets fails if any secret shows in text.
func noSecrets(t testing.TB, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(text, s) {
			t.Errorf("a secret (%d chars, starting %q) appears in %s", len(s), s[:2], where)
		}
	}
}

func post(t testing.TB, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func pushURL(h *harness) string { return h.sim.PushURL() }

func fmtRaw(v float64) string { return fmt.Sprintf("%g", v) }
