package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// faultEnvInt reads a positive count from the environment (def when unset).
func faultEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// mosquittoChild is a Mosquitto process the test owns: it can kill it and
// start it again on the same port.
type mosquittoChild struct {
	t    *testing.T
	bin  string
	dir  string
	conf string
	port int
	cmd  *exec.Cmd
}

func mosquittoBinary() string {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	return ""
}

// startMosquittoChild starts a private broker with persistence on a free
// loopback port; it is killed when the test ends.
func startMosquittoChild(t *testing.T) *mosquittoChild {
	t.Helper()
	bin := mosquittoBinary()
	if bin == "" {
		t.Skip("mosquitto is not installed (not in PATH nor /usr/sbin): the fault tests need a broker they can kill")
	}
	dir := t.TempDir()
	// Started as root, Mosquitto drops to user "mosquitto", who cannot write
	// the test's directory; "user" keeps the current one.
	me := "mosquitto"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	m := &mosquittoChild{t: t, bin: bin, dir: dir, conf: filepath.Join(dir, "mosquitto.conf"), port: faultPort(t)}
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence true\npersistence_location %s/\nautosave_interval 0\nlog_dest none\n", m.port, me, dir)
	if err := os.WriteFile(m.conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(func() { m.stop(syscall.SIGKILL) })
	return m
}

func faultPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (m *mosquittoChild) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", m.port) }

func (m *mosquittoChild) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mosquitto did not listen within 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the broker: SIGTERM saves its retained messages and sessions,
// SIGKILL after removing the database loses all of them.
func (m *mosquittoChild) stop(sig syscall.Signal) {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	if sig == syscall.SIGKILL {
		_ = os.Remove(filepath.Join(m.dir, "mosquitto.db"))
	}
	_ = m.cmd.Process.Signal(sig)
	_ = m.cmd.Wait()
	m.cmd = nil
	if sig == syscall.SIGKILL {
		_ = os.Remove(filepath.Join(m.dir, "mosquitto.db"))
	}
}

// faultWorld is the demo (every simulator, every real adapter, the bridge and
// its HTTP server) running against a broker, with the eWeLink and Shelly
// Integrator simulators at hand so tests can read their request logs and
// inject faults.
type faultWorld struct {
	t         *testing.T
	d         *demo
	ew        *ewelinksim.Server
	shelly    *shellysim.Sim // the Integrator API account
	accounts  []string       // every simulator's account YAML, as configured
	logs      *vendortest.LogBuffer
	base      string
	prefix    string
	brokerURL string // where the test's own clients connect
	devices   int    // per simulated account
	stop      func()
}

type faultWorldOptions struct {
	bridgeURL string // the broker URL the bridge uses (default brokerURL)
	devices   int
	stateDir  string
	// base and prefix, when set, come from the test's own bridgetest.Topics.
	base, prefix string
	// logLevel defaults to debug; every line is kept for the test to read
	// unless dropLogs (a soak would measure its own log buffer).
	logLevel string
	dropLogs bool
}

// startFaultWorld runs the demo against brokerURL with unique topics.
func startFaultWorld(t *testing.T, brokerURL string, o faultWorldOptions) *faultWorld {
	t.Helper()
	if o.bridgeURL == "" {
		o.bridgeURL = brokerURL
	}
	if o.devices == 0 {
		o.devices = 3
	}
	if o.stateDir == "" {
		o.stateDir = t.TempDir()
	}
	w := &faultWorld{t: t, logs: &vendortest.LogBuffer{}, brokerURL: brokerURL, devices: o.devices}
	w.base, w.prefix = o.base, o.prefix
	if w.base == "" {
		w.base, w.prefix = bridgetest.Topics(t, brokerURL)
	}

	// The simulators are the demo's own, except eWeLink, started here to keep
	// its handle; every account entry is kept for the secret scan.
	saved := demoSims
	t.Cleanup(func() { demoSims = saved })
	sims := make([]demoSim, len(saved))
	shellySeen := false
	for i, s := range saved {
		start := s.start
		switch {
		case s.vendor == "ewelink":
			start = func(devices int, _ string) (string, func(), error) {
				w.ew = ewelinksim.New(ewelinksim.Options{Devices: ewelinksim.Scaled(devices)})
				return w.ew.Config("demo", "region: us"), w.ew.Close, nil
			}
		case s.vendor == "shelly" && !shellySeen:
			shellySeen = true
			start = func(devices int, bridgeURL string) (string, func(), error) {
				sim, err := shellysim.New(shellysim.Options{Devices: devices, Tag: "ITG_DEMO"})
				if err != nil {
					return "", nil, err
				}
				w.shelly = sim
				sim.ConsentAll(strings.TrimRight(bridgeURL, "/")+"/shelly/demo/consent", "add")
				return sim.IntegratorConfig("demo"), sim.Close, nil
			}
		}
		sims[i] = demoSim{s.vendor, func(devices int, bridgeURL string) (string, func(), error) {
			acc, stop, err := start(devices, bridgeURL)
			w.accounts = append(w.accounts, acc)
			return acc, stop, err
		}}
	}
	demoSims = sims

	if o.logLevel == "" {
		o.logLevel = "debug"
	}
	var sink io.Writer = w.logs
	if o.dropLogs {
		sink = io.Discard
	}
	red := &vendorkit.Redactor{}
	log, err := newLogger(sink, o.logLevel, "json", red)
	if err != nil {
		t.Fatal(err)
	}
	w.d, err = startDemo(demoOptions{
		MQTTURL: o.bridgeURL, HTTPAddr: "127.0.0.1:0", Devices: o.devices,
		BaseTopic: w.base, DiscoveryPrefix: w.prefix, StateDir: o.stateDir, LogLevel: o.logLevel,
	}, log, red)
	demoSims = saved
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.d.app.run(ctx) }()
	stopped := false
	w.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the bridge did not stop within 20s of cancel")
		}
		w.d.close()
	}
	t.Cleanup(w.stop)
	return w
}

// retained is what the broker holds retained under the world's topics now.
func (w *faultWorld) retained() map[string][]byte {
	w.t.Helper()
	got := bridgetest.RetainedUnder(w.t, w.brokerURL, w.base+"/#")
	for k, v := range bridgetest.RetainedUnder(w.t, w.brokerURL, w.prefix+"/#") {
		got[k] = v
	}
	return got
}

// deviceIDs lists "<vendor>/<id>" from a bridge/devices payload.
func deviceIDs(payload []byte) ([]string, error) {
	var list []struct {
		Vendor   string `json:"vendor"`
		VendorID string `json:"vendor_id"`
		ID       string `json:"id"`
	}
	if err := json.Unmarshal(payload, &list); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(list))
	for _, d := range list {
		out = append(out, d.ID)
	}
	sort.Strings(out)
	return out, nil
}

// snapshot is the retained picture a Home Assistant sees: the bridge's
// state, and per device its state, availability and discovery config.
type snapshot struct {
	devices []string        // "<vendor>/<id>"
	topics  map[string]bool // every retained topic that must come back
	configs map[string]bool // the discovery config topics, exactly
}

// complete reports what is missing from got for a full picture of ids.
func (w *faultWorld) complete(got map[string][]byte) (snapshot, string) {
	s := snapshot{topics: map[string]bool{}, configs: map[string]bool{}}
	dcfg := w.d.cfg.Discovery(version)
	if string(got[dcfg.BridgeTopic("state")]) != "online" {
		return s, "bridge/state online"
	}
	ids, err := deviceIDs(got[dcfg.BridgeTopic("devices")])
	if err != nil || len(ids) == 0 {
		return s, "bridge/devices"
	}
	s.devices = ids
	for _, k := range []string{"state", "info", "devices"} {
		s.topics[dcfg.BridgeTopic(k)] = true
	}
	s.topics[dcfg.BridgeConfigTopic()] = true
	for _, id := range ids {
		vendor, vid, _ := strings.Cut(id, "/")
		for _, topic := range []string{dcfg.DeviceTopic(vendor, vid), dcfg.AvailabilityTopic(vendor, vid), dcfg.ConfigTopic(vendor, vid)} {
			s.topics[topic] = true
			if _, ok := got[topic]; !ok {
				return s, topic
			}
		}
		s.configs[dcfg.ConfigTopic(vendor, vid)] = true
	}
	s.configs[dcfg.BridgeConfigTopic()] = true
	return s, ""
}

// configTopics lists the retained discovery configs under the world's prefix.
func (w *faultWorld) configTopics(got map[string][]byte) map[string]bool {
	out := map[string]bool{}
	for k := range got {
		if strings.HasPrefix(k, w.prefix+"/") && strings.HasSuffix(k, "/config") {
			out[k] = true
		}
	}
	return out
}

// waitComplete polls the broker until the full picture is retained (and,
// when want is given, it covers want's topics); it returns the snapshot and
// how long that took.
func (w *faultWorld) waitComplete(what string, want *snapshot, timeout time.Duration) (snapshot, time.Duration) {
	w.t.Helper()
	start := time.Now()
	for {
		got := w.retained()
		s, missing := w.complete(got)
		if missing == "" && want != nil {
			for topic := range want.topics {
				if _, ok := got[topic]; !ok {
					missing = topic
					break
				}
			}
		}
		if missing == "" {
			return s, time.Since(start)
		}
		if time.Since(start) > timeout {
			w.t.Fatalf("%s: %s not retained within %s", what, missing, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle waits until every simulated device is retained and the device
// list stops growing (accounts log in at different speeds).
func (w *faultWorld) settle() snapshot {
	w.t.Helper()
	var last snapshot
	stable := 0
	limit := 60 * time.Second
	if w.devices > 50 {
		limit = 5 * time.Minute
	}
	deadline := time.Now().Add(limit)
	for stable < 3 {
		if time.Now().After(deadline) {
			w.t.Fatalf("the demo did not settle within %s; %s; logs:\n%s", limit, w.progress(), faultTail(w.logs.String(), 4000))
		}
		got := w.retained()
		s, missing := w.complete(got)
		if missing == "" && w.allAccountsUp(got) && len(s.devices) == len(last.devices) {
			stable++
		} else {
			stable = 0
		}
		last = s
		time.Sleep(500 * time.Millisecond)
	}
	// The eWeLink adapter asks for energy histories (WebSocket "update")
	// once its devices are online; tests counting writes start after that.
	for n, quiet := ewelinkWrites(w.ew), 0; quiet < 4; quiet++ {
		time.Sleep(500 * time.Millisecond)
		if m := ewelinkWrites(w.ew); m != n {
			n, quiet = m, 0
		}
		if time.Now().After(deadline) {
			w.t.Fatal("the eWeLink adapter kept writing to the cloud after start-up")
		}
	}
	return last
}

// allAccountsUp reports whether bridge/info shows every configured account
// connected with its devices, and the device list holds them all.
func (w *faultWorld) allAccountsUp(got map[string][]byte) bool {
	var info struct {
		Devices  int `json:"devices"`
		Accounts []struct {
			Status  string `json:"status"`
			Devices int    `json:"devices"`
		} `json:"accounts"`
	}
	dcfg := w.d.cfg.Discovery(version)
	if json.Unmarshal(got[dcfg.BridgeTopic("info")], &info) != nil || len(info.Accounts) != len(w.d.cfg.Accounts) {
		return false
	}
	sum := 0
	for _, a := range info.Accounts {
		if a.Status != "connected" || a.Devices == 0 {
			return false
		}
		sum += a.Devices
	}
	ids, _ := deviceIDs(got[dcfg.BridgeTopic("devices")])
	return sum == len(ids)
}

// progress says how far the accounts got, for a settle failure.
func (w *faultWorld) progress() string {
	got := w.retained()
	_, missing := w.complete(got)
	return fmt.Sprintf("missing %q; bridge/info %.600s", missing, got[w.d.cfg.Discovery(version).BridgeTopic("info")])
}

func faultTail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// ewelinkWrites counts the calls and WebSocket messages that change a device
// at the eWeLink simulator.
func ewelinkWrites(s *ewelinksim.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == "ws update" || strings.HasPrefix(r.Op, "POST ") && strings.Contains(r.Op, "/device/thing/status") {
			n++
		}
	}
	return n
}

// shellyWrites counts the commands the Shelly Integrator simulator received.
func shellyWrites(s *shellysim.Sim) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Op, "ws Shelly:CommandRequest") {
			n++
		}
	}
	return n
}
