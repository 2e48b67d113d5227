package shelly

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

type syncBuf = vendortest.LogBuffer

func strictYAML(config string) func(any) error {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(config))
		dec.KnownFields(true)
		return dec.Decode(v)
	}
}

// rig is one simulator, one adapter built from its config, a recorder as
// the sink and, for the integrator, an HTTP server playing the bridge.
type rig struct {
	t       *testing.T
	sim     *shellysim.Sim
	adapter vendors.Adapter
	rec     *vendortest.Recorder
	logs    *syncBuf
	storeD  string
	srv     *httptest.Server
	routes  []vendors.Route
	cancel  context.CancelFunc
	done    chan error
}

func newSim(t *testing.T, opt shellysim.Options) *shellysim.Sim {
	t.Helper()
	sim, err := shellysim.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func (r *rig) build(config string) {
	r.t.Helper()
	r.logs = &syncBuf{}
	env := vendors.Env{
		Vendor: "shelly", Account: "test",
		Log:     zerolog.New(r.logs).Level(zerolog.DebugLevel),
		Store:   (&vendorkit.FileStore{Dir: r.storeD}).Scoped("shelly-test"),
		Metrics: vendors.NopMetrics{},
		HTTP:    &http.Client{Timeout: 5 * time.Second},
	}
	if r.srv != nil {
		env.PublicURL = r.srv.URL
	}
	a, err := New(env, strictYAML(config))
	if err != nil {
		r.t.Fatalf("factory: %v", err)
	}
	r.adapter = a
	if rt, ok := a.(vendors.Router); ok {
		r.routes = rt.Routes()
	}
	r.rec = vendortest.NewRecorder()
}

func newItgRig(t *testing.T, opt shellysim.Options, extra ...string) *rig {
	t.Helper()
	r := &rig{t: t, sim: newSim(t, opt), storeD: t.TempDir()}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for _, rt := range r.routes {
			if rt.Path == req.URL.Path {
				rt.Handler.ServeHTTP(w, req)
				return
			}
		}
		http.NotFound(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.build(r.sim.IntegratorConfig("test", withDefaults(extra, "backoff_base: 20ms", "backoff_max: 200ms", "command_timeout: 2s", "verify_interval: 1ms")...))
	return r
}

func newCloudRig(t *testing.T, opt shellysim.Options, extra ...string) *rig {
	t.Helper()
	r := &rig{t: t, sim: newSim(t, opt), storeD: t.TempDir()}
	r.build(r.sim.CloudConfig("test", withDefaults(extra, "backoff_base: 20ms", "backoff_max: 200ms", "unauthorized_retry: 100ms")...))
	return r
}

// withDefaults adds the default "key: value" lines the extra lines do not set.
func withDefaults(extra []string, defaults ...string) []string {
	set := map[string]bool{}
	for _, e := range extra {
		k, _, _ := strings.Cut(e, ":")
		set[k] = true
	}
	for _, d := range defaults {
		k, _, _ := strings.Cut(d, ":")
		if !set[k] {
			extra = append(extra, d)
		}
	}
	return extra
}

func (r *rig) consentURL() string { return r.srv.URL + r.routes[0].Path }

// consent shares devices (all when none given) with the integrator.
func (r *rig) consent(action string, ids ...string) {
	r.t.Helper()
	if len(ids) == 0 {
		for _, d := range r.sim.Devices() {
			ids = append(ids, d.ID)
		}
	}
	for _, id := range ids {
		status, err := r.sim.SendConsent(context.Background(), r.consentURL(), id, action)
		if status != http.StatusOK {
			r.t.Fatalf("consent %s %s: %d %v", action, id, status, err)
		}
	}
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	a, rec := r.adapter, r.rec
	go func() { r.done <- a.Run(ctx, rec) }()
	r.t.Cleanup(func() { r.stop() })
}

func (r *rig) stop() error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		return err
	case <-time.After(5 * time.Second):
		r.t.Error("Run did not return after cancel")
		return nil
	}
}

// restart stops the adapter and builds a fresh one on the same store.
func (r *rig) restart(config string) {
	r.stop()
	r.build(config)
	r.start()
}

func (r *rig) waitDevices(n int) map[string]vendors.Device {
	r.t.Helper()
	r.rec.WaitFor(r.t, 10*time.Second, "the inventory", func() bool {
		devs := r.rec.Devices()
		if len(devs) != n {
			return false
		}
		for _, d := range devs {
			if len(d.Entities) == 0 {
				return false
			}
		}
		return true
	})
	return r.rec.Devices()
}

func (r *rig) exec(id, key string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.adapter.Execute(ctx, vendors.Command{DeviceID: id, Key: key, Value: v})
}

func (r *rig) count(prefix string) int {
	n := 0
	for _, q := range r.sim.Requests() {
		if strings.HasPrefix(q.Op, prefix) {
			n++
		}
	}
	return n
}

func (r *rig) deviceByCode(code string) shellysim.DeviceInfo {
	for _, d := range r.sim.Devices() {
		if d.Code == code {
			return d
		}
	}
	r.t.Fatalf("no fixture %s", code)
	return shellysim.DeviceInfo{}
}

func intp(n int) *int { return &n }
