package ezviz_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// rig is one simulator and one running adapter.
type rig struct {
	t      *testing.T
	sim    *ezvizsim.Sim
	a      vendors.Adapter
	rec    *vendortest.Recorder
	logs   *syncBuf
	store  *vendorkit.FileStore
	cancel context.CancelFunc
	done   chan error
}

type syncBuf = vendortest.LogBuffer

// baseConfig is a fast account config against sim; extra overrides keys.
func baseConfig(sim *ezvizsim.Sim, extra map[string]string) string {
	kv := map[string]string{
		"name": "test", "app_key": sim.AppKey(), "app_secret": sim.AppSecret(), "api_url": sim.URL(),
		"poll_interval": "150ms", "status_interval": "150ms", "settings_interval": "500ms",
		"upgrade_poll_interval": "50ms", "ptz_step": "100ms", "motion_hold": "800ms",
		"rate_limit": "40", "rate_burst": "1", "throttle_backoff": "1s", "throttle_backoff_max": "2s",
		"backoff_min": "50ms", "backoff_max": "300ms", "timeout": "5s",
	}
	for k, v := range extra {
		if v == "" {
			delete(kv, k)
		} else {
			kv[k] = v
		}
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, kv[k])
	}
	return b.String()
}

func decodeStrict(config string) func(any) error {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(config))
		dec.KnownFields(true)
		return dec.Decode(v)
	}
}

type rigOpt struct {
	sim       ezvizsim.Options
	config    map[string]string
	publicURL string
	now       func() time.Time
	storeDir  string
	noStart   bool
}

func newSim(t *testing.T, opts ezvizsim.Options) *ezvizsim.Sim {
	t.Helper()
	if opts.MaxPerSecond == 0 {
		opts.MaxPerSecond = 45
	}
	sim, err := ezvizsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if v := sim.ViolationList(); len(v) > 0 {
			t.Errorf("simulator violations: %v", v)
		}
		sim.Close()
	})
	return sim
}

func newRig(t *testing.T, o rigOpt) *rig {
	t.Helper()
	return startRig(t, newSim(t, o.sim), o)
}

func startRig(t *testing.T, sim *ezvizsim.Sim, o rigOpt) *rig {
	t.Helper()
	if o.storeDir == "" {
		o.storeDir = t.TempDir()
	}
	r := &rig{t: t, sim: sim, rec: vendortest.NewRecorder(), logs: &syncBuf{}, store: &vendorkit.FileStore{Dir: o.storeDir}}
	now := o.now
	if now == nil {
		now = time.Now
	}
	env := vendors.Env{
		Vendor: "ezviz", Account: "test",
		Log:       zerolog.New(r.logs).Level(zerolog.DebugLevel),
		Store:     r.store,
		Metrics:   vendors.NopMetrics{},
		PublicURL: o.publicURL,
		HTTP:      &http.Client{Timeout: 5 * time.Second},
		Now:       now,
	}
	reg, ok := vendors.Lookup("ezviz")
	if !ok {
		t.Fatal("ezviz not registered")
	}
	a, err := reg.Factory(env, decodeStrict(baseConfig(sim, o.config)))
	if err != nil {
		t.Fatalf("factory: %v", err)
	}
	r.a = a
	if !o.noStart {
		r.start()
	}
	return r
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	go func() { r.done <- r.a.Run(ctx, r.rec) }()
	r.t.Cleanup(r.stop)
}

func (r *rig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.t.Error("Run did not return after cancel")
	}
}

func (r *rig) inventory() map[string]vendors.Device {
	r.t.Helper()
	r.rec.WaitFor(r.t, 10*time.Second, "inventory", func() bool { return len(r.rec.Devices()) > 0 })
	return r.rec.Devices()
}

func (r *rig) exec(id, key string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.a.Execute(ctx, vendors.Command{DeviceID: id, Key: key, Value: v})
}

func (r *rig) refresh(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.a.(vendors.Refresher).Refresh(ctx, id)
}

func (r *rig) waitValue(id, key string, want any) {
	r.t.Helper()
	r.rec.WaitValue(r.t, 10*time.Second, id, key, want)
}

// requests returns logged calls whose op ends with path.
func (r *rig) requests(path string) []ezvizsim.Request {
	var out []ezvizsim.Request
	for _, q := range r.sim.Requests() {
		if strings.HasSuffix(q.Op, path) {
			out = append(out, q)
		}
	}
	return out
}
