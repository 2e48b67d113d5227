package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/broker"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/rs/zerolog"
)

// benchOptions are the bench command's flags.
type benchOptions struct {
	MQTTURL, Listen string
	Devices         int
	Events          int
	Rate            int
	LatencyEvents   int
	Vendor          string
	Rounds          int
	Window          time.Duration
	JSON            string
	Smoke           bool
	CPUProfile      string
	MemProfile      string
	KeepLog         bool
	LatencyLog      string
	// BridgeMemLimit is the bridge process's GOMEMLIMIT (empty: none).
	BridgeMemLimit string
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var o benchOptions
	fs.StringVar(&o.MQTTURL, "mqtt", "", "broker to measure against (default: one on 127.0.0.1:1883, else the embedded one there)")
	fs.StringVar(&o.Listen, "listen", "", "start the embedded broker on this address instead")
	fs.IntVar(&o.Devices, "devices", 10000, "devices across the simulated clouds (scale, and the throughput targets among them)")
	fs.IntVar(&o.Events, "events", 100000, "state changes per throughput round")
	fs.IntVar(&o.Rate, "rate", 1000, "paced events per second for the latency measurement")
	fs.IntVar(&o.LatencyEvents, "latency-events", 0, "events of the latency measurement (default: 10 s at --rate; 1 s with --smoke)")
	fs.StringVar(&o.Vendor, "vendor", "", "simulate only this vendor: ewelink, shelly, expeed or ezviz (default: all)")
	fs.IntVar(&o.Rounds, "rounds", 0, "throughput rounds of bridge and baseline, alternating (default 5; 3 with --smoke)")
	fs.DurationVar(&o.Window, "window", 0, "steady-state window of the API economy (default 1m; 8s with --smoke)")
	fs.StringVar(&o.JSON, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.Smoke, "smoke", false, "quick run for CI: fewer rounds, short windows; fails on economy and violation checks only")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write the bridge process's CPU profile (whole run) to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write the bridge process's heap profile (at the end) to this file")
	fs.BoolVar(&o.KeepLog, "keep-log", false, "keep the bridge's log file (its path is printed)")
	fs.StringVar(&o.LatencyLog, "latency-log", "", "write each latency sample (frame written, unix µs; latency µs; device) to this file, in the order sent")
	fs.StringVar(&o.BridgeMemLimit, "bridge-memory-limit", "", "run the bridge process with this GOMEMLIMIT, e.g. 100MiB (the bench process keeps its own)")
	child := fs.String("bridge-config", "", "internal: run the bridge on this config until stdin closes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *child != "" {
		return benchChild(ctx, *child, o.CPUProfile, o.MemProfile, stderr)
	}
	if o.Rounds == 0 {
		o.Rounds = 5
		if o.Smoke {
			o.Rounds = 3
		}
	}
	if o.Window == 0 {
		o.Window = time.Minute
		if o.Smoke {
			o.Window = 8 * time.Second
		}
	}
	if o.LatencyEvents == 0 {
		o.LatencyEvents = 10 * o.Rate
		if o.Smoke {
			o.LatencyEvents = o.Rate
		}
	}
	switch {
	case o.Devices < 1, o.Events < 1, o.Rate < 1, o.Rounds < 1, o.LatencyEvents < 1:
		return fmt.Errorf("%w: --devices, --events, --rate, --rounds and --latency-events must be positive", errUsage)
	case o.Window < time.Second:
		return fmt.Errorf("%w: --window must be at least 1s", errUsage)
	case o.MQTTURL != "" && o.Listen != "":
		return fmt.Errorf("%w: --mqtt and --listen exclude each other", errUsage)
	}
	switch o.Vendor {
	case "", "ewelink", "shelly", "expeed", "ezviz":
	default:
		return fmt.Errorf("%w: --vendor %q: want ewelink, shelly, expeed or ezviz", errUsage, o.Vendor)
	}
	res, err := runBench(ctx, o, stdout)
	if res != nil {
		res.print(stdout)
		if o.JSON != "" {
			if werr := res.writeJSON(o.JSON); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		if failed := res.failedChecks(); len(failed) > 0 {
			err = errors.Join(err, fmt.Errorf("economy checks failed: %s", strings.Join(failed, "; ")))
		}
	}
	return err
}

// benchRun is one bench run in progress.
type benchRun struct {
	o       benchOptions
	out     io.Writer
	world   *benchWorld
	col     *collector
	topics  discovery.Config
	broker  string
	child   *exec.Cmd
	stdin   io.WriteCloser
	httpURL string
	logPath string
	exited  chan struct{}
	seq     atomic.Int64
	res     *benchResult
	targets []benchTarget
}

type benchTarget struct {
	sim *benchSim
	id  string
	key string // vendor/id as in the state topic
}

func (r *benchRun) say(format string, args ...any) {
	fmt.Fprintf(r.out, "bench: "+format+"\n", args...)
}

func runBench(ctx context.Context, o benchOptions, stdout io.Writer) (res *benchResult, err error) {
	r := &benchRun{o: o, out: stdout, res: newBenchResult(o)}
	res = r.res
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	r.broker = o.MQTTURL
	if r.broker == "" {
		addr := o.Listen
		if addr == "" && brokerListening(localBroker) {
			r.broker = "tcp://" + localBroker
		} else {
			if addr == "" {
				addr = localBroker
			}
			b, err := broker.Start(addr, zerolog.Nop())
			if err != nil {
				return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
			}
			closers = append(closers, func() { b.Close() })
			r.broker = b.URL()
		}
	}
	r.res.Broker = r.broker
	run := randToken()
	r.topics = discovery.Config{BaseTopic: "c2mbench-" + run, Prefix: "c2mbench-" + run + "-ha"}
	r.col = newCollector(r.topics.BaseTopic, r.topics.Prefix)
	sub, err := dialSub(r.broker, "c2m-bench-sub-"+run, []string{r.topics.BaseTopic + "/#", r.topics.Prefix + "/#"}, r.col.onMsg)
	if err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	closers = append(closers, func() {
		sub.Close()
		if err := clearRetained(r.broker, r.col.topicList()); err != nil {
			r.say("clearing retained topics: %v", err)
		}
	})

	listen, err := freePort()
	if err != nil {
		return nil, err
	}
	r.httpURL = "http://" + listen
	r.say("starting simulators for about %d devices", o.Devices)
	r.world, err = startWorld(o.Devices, o.Vendor, r.httpURL)
	if err != nil {
		return nil, err
	}
	closers = append(closers, r.world.close)

	dir, err := os.MkdirTemp("", "cloud2mqtt-bench-")
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() {
		if !o.KeepLog {
			os.RemoveAll(dir)
		}
	})
	cfgPath := filepath.Join(dir, "bench.yaml")
	yml := benchConfig(r.world, r.broker, r.topics, listen, r.httpURL, filepath.Join(dir, "state"))
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		return nil, err
	}
	r.logPath = filepath.Join(dir, "bridge.log")
	if err := r.startChild(cfgPath); err != nil {
		return nil, err
	}
	closers = append(closers, r.stopChild)

	steps := []struct {
		name string
		f    func(context.Context) error
	}{
		{"inventory", r.inventory},
		{"discovery", r.discovery},
		{"throughput", r.throughput},
		{"latency", r.latency},
		{"economy", r.economy},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		select {
		case <-r.exited:
			return res, fmt.Errorf("the bridge process exited during the %s step (log: %s)", s.name, r.logPath)
		default:
		}
		if err := s.f(ctx); err != nil {
			if o.KeepLog {
				r.say("bridge log kept at %s", r.logPath)
			}
			return res, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	r.sample()
	r.stopChild()
	r.sampleEnd()
	r.res.finish(r.world)
	if o.KeepLog {
		r.say("bridge log kept at %s", r.logPath)
	}
	return res, nil
}

func randToken() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startChild runs the bridge as its own process (this binary, bench
// --bridge-config), so its memory and CPU are measured apart from the
// simulators and the subscriber.
func (r *benchRun) startChild(cfgPath string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"bench", "--bridge-config", cfgPath}
	if r.o.CPUProfile != "" {
		args = append(args, "--cpuprofile", r.o.CPUProfile)
	}
	if r.o.MemProfile != "" {
		args = append(args, "--memprofile", r.o.MemProfile)
	}
	logf, err := os.Create(r.logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	if r.o.BridgeMemLimit != "" {
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+r.o.BridgeMemLimit)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		logf.Close()
		return err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	r.child = cmd
	r.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(r.exited)
	}()
	return nil
}

func (r *benchRun) stopChild() {
	if r.child == nil {
		return
	}
	r.stdin.Close()
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.child.Process.Kill()
		<-r.exited
	}
}

// sample reads the bridge process's goroutines and heap from /metrics and
// its resident memory from /proc.
func (r *benchRun) sample() {
	if r.child == nil {
		return
	}
	if g, heap, err := scrapeGo(r.httpURL + "/metrics"); err == nil {
		r.res.Scale.Goroutines = max(r.res.Scale.Goroutines, int(g))
		r.res.Scale.HeapMB = max(r.res.Scale.HeapMB, round1(heap/1e6))
	}
	if hwm, _ := procStatus(r.child.Process.Pid, "VmHWM"); hwm > 0 {
		r.res.Scale.RSSMB = max(r.res.Scale.RSSMB, round1(float64(hwm)/1024))
	}
}

// sampleEnd takes the peak RSS the kernel recorded over the whole process life.
func (r *benchRun) sampleEnd() {
	if r.child != nil && r.child.ProcessState != nil {
		if ru, ok := r.child.ProcessState.SysUsage().(interface{ MaxRSSKiB() int64 }); ok {
			r.res.Scale.RSSMB = max(r.res.Scale.RSSMB, round1(float64(ru.MaxRSSKiB())/1024))
		}
	}
}

func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

func scrapeGo(url string) (goroutines, heapInuse float64, err error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		switch name {
		case "go_goroutines":
			goroutines, _ = strconv.ParseFloat(val, 64)
		case "go_memstats_heap_inuse_bytes":
			heapInuse, _ = strconv.ParseFloat(val, 64)
		}
	}
	return goroutines, heapInuse, nil
}

// waitFor polls cond every 20 ms until it holds, ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// inventory waits for the bridge to deliver the discovery config of every
// simulated device (those the simulators name up front; the others as soon
// as their vendor shows one) and the streaming targets to be connected.
func (r *benchRun) inventory(ctx context.Context) error {
	start := time.Now()
	timeout := 5 * time.Minute
	if r.o.Smoke {
		timeout = 45 * time.Second
	}
	r.say("waiting for the bridge to discover every device (up to %s)", timeout)
	missing := func() []string {
		var out []string
		for _, s := range r.world.sims {
			if s.ids == nil {
				if !r.vendorHasConfig(s.vendor) {
					out = append(out, s.kind+"/"+s.name+": no device")
				}
				continue
			}
			n := 0
			for _, id := range s.ids {
				if r.col.hasConfig(r.topics.ObjectID(s.vendor, id)) {
					n++
				}
			}
			if n < len(s.ids) {
				out = append(out, fmt.Sprintf("%s/%s: %d of %d devices", s.kind, s.name, n, len(s.ids)))
			}
		}
		return out
	}
	var lastMissing []string
	nextSay := time.Now().Add(5 * time.Second)
	ok := waitFor(ctx, timeout, func() bool {
		lastMissing = missing()
		if len(lastMissing) > 0 && time.Now().After(nextSay) {
			r.say("still waiting: %s", strings.Join(lastMissing, ", "))
			nextSay = time.Now().Add(5 * time.Second)
		}
		return len(lastMissing) == 0
	})
	if !ok {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("not every device was discovered within %s: %s (bridge log: %s; run with --keep-log to keep it)", timeout, strings.Join(lastMissing, ", "), r.logPath)
	}
	// Polling clouds' later devices (e.g. camera channels) settle too.
	waitFor(ctx, 3*time.Second, func() bool {
		_, last := r.col.configCount()
		return time.Since(last) > time.Second
	})
	n, last := r.col.configCount()
	r.res.Scale.Devices = n
	r.res.Scale.InventoryS = round2(last.Sub(start).Seconds())
	r.sample()
	r.say("%d devices discovered %.1f s after the bridge started", n, r.res.Scale.InventoryS)
	return r.pickTargets(ctx)
}

func (r *benchRun) vendorHasConfig(vendor string) bool {
	r.col.mu.Lock()
	defer r.col.mu.Unlock()
	p := r.topics.ObjectID(vendor, "")
	for id := range r.col.configs {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// pickTargets chooses the streaming devices the throughput and latency
// steps change: those whose state the bridge has published.
func (r *benchRun) pickTargets(ctx context.Context) error {
	var streaming []*benchSim
	for _, s := range r.world.sims {
		if s.targets != nil {
			streaming = append(streaming, s)
		}
	}
	if len(streaming) == 0 {
		return nil
	}
	// Shelly devices are reachable once their grant is in and the socket is up.
	waitFor(ctx, 30*time.Second, func() bool {
		for _, s := range streaming {
			if len(s.targets(1)) == 0 {
				return false
			}
		}
		return true
	})
	perSim := map[*benchSim][]benchTarget{}
	for _, s := range streaming {
		for _, id := range s.targets(-1) {
			key := s.vendor + "/" + discovery.SanitizeID(id)
			waitFor(ctx, 2*time.Second, func() bool { return r.col.hasState(key) })
			if r.col.hasState(key) {
				perSim[s] = append(perSim[s], benchTarget{s, id, key})
			}
		}
	}
	// Interleave the simulators so paced events alternate between clouds.
	for i := 0; ; i++ {
		added := false
		for _, s := range streaming {
			if i < len(perSim[s]) {
				r.targets = append(r.targets, perSim[s][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	if len(r.targets) == 0 {
		return errors.New("no streaming device has a published state to change")
	}
	r.say("%d streaming devices will receive state changes", len(r.targets))
	return nil
}

// discovery asks for every config again with a Home Assistant birth
// message and times their delivery: the bridge's own cost of announcing
// the whole inventory, without the clouds' listing time.
func (r *benchRun) discovery(ctx context.Context) error {
	c, err := newBarePaho(r.broker, "c2m-bench-ha-"+randToken())
	if err != nil {
		return err
	}
	defer c.Disconnect(250)
	want, _ := r.col.configCount()
	runs := 3
	if r.o.Smoke {
		runs = 1
	}
	var times []float64
	for i := 0; i < runs; i++ {
		r.col.markConfigs()
		start := time.Now()
		tok := c.Publish(r.topics.Prefix+"/status", 1, false, []byte("online"))
		tok.WaitTimeout(5 * time.Second)
		if err := tok.Error(); err != nil {
			return err
		}
		if !waitFor(ctx, time.Minute, func() bool { n, _ := r.col.markedConfigs(); return n >= want }) {
			n, _ := r.col.markedConfigs()
			return fmt.Errorf("after a Home Assistant birth %d of %d configs came again within a minute", n, want)
		}
		_, last := r.col.markedConfigs()
		times = append(times, last.Sub(start).Seconds())
		// Let the bridge's device list and info settle before the next step.
		time.Sleep(1500 * time.Millisecond)
	}
	r.res.Scale.DiscoveryS = round2(median(times))
	r.res.Scale.DiscoveryRuns = roundAll(times, 3)
	r.sample()
	r.say("discovery of %d devices: %.2f s (median of %d)", want, r.res.Scale.DiscoveryS, runs)
	return nil
}

// nextWatts is a value no earlier frame of the run carried, so every frame
// is a change the bridge must publish.
func (r *benchRun) nextWatts() float64 {
	return float64(r.seq.Add(1)) / 10
}

// throughput alternates bridge and baseline rounds of M messages each.
func (r *benchRun) throughput(ctx context.Context) error {
	if len(r.targets) == 0 {
		r.say("no streaming vendor: throughput skipped")
		return nil
	}
	pub, err := newBarePaho(r.broker, "c2m-bench-baseline-"+randToken())
	if err != nil {
		return err
	}
	defer pub.Disconnect(250)
	n, bytes, _ := r.col.stateStats()
	size := 64
	if n > 0 {
		size = int(bytes / n)
	}
	// The first energy pass of each eWeLink socket (one history request per
	// send gap) still changes states for a while after the inventory; a round
	// measured over it would count those as its own.
	quietFrom := time.Now()
	quiet := settle(ctx, time.Second, quietFrom, func() time.Time { _, _, l := r.col.stateStats(); return l })
	if quiet.After(quietFrom) {
		r.say("throughput: waited %.1f s for the bridge's states to go quiet", quiet.Sub(quietFrom).Seconds()+1)
	}
	t := &r.res.Throughput
	t.Events, t.Devices = r.o.Events, len(r.targets)
	for i := 0; i < r.o.Rounds; i++ {
		order := []bool{true, false}
		if i%2 == 1 {
			order = []bool{false, true}
		}
		for _, bridgeTurn := range order {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if bridgeTurn {
				rate, delivered, avg, err := r.bridgeRound(ctx)
				if err != nil {
					return err
				}
				t.BridgeRounds = append(t.BridgeRounds, math.Round(rate))
				t.deliveredRates = append(t.deliveredRates, rate*float64(delivered)/float64(r.o.Events))
				t.BridgeDelivered = append(t.BridgeDelivered, delivered)
				if avg > 0 {
					size = avg
				}
			} else {
				rate, delivered, err := r.baselineRound(ctx, pub, size)
				if err != nil {
					return err
				}
				t.BaselineRounds = append(t.BaselineRounds, math.Round(rate))
				t.BaselineDelivered = append(t.BaselineDelivered, delivered)
			}
		}
	}
	t.PayloadBytes = size
	t.Bridge = math.Round(median(t.BridgeRounds))
	t.BridgeDeliveredRate = math.Round(median(t.deliveredRates))
	t.Baseline = math.Round(median(t.BaselineRounds))
	if t.Baseline > 0 {
		t.RatioOfMedians = round3(t.Bridge / t.Baseline)
		t.Ratio = round3(medianRatio(t.BridgeRounds, t.BaselineRounds))
		t.DeliveredRatio = round3(medianRatio(t.deliveredRates, t.BaselineRounds))
	}
	r.sample()
	r.say("throughput: bridge %.0f/s, baseline %.0f/s, ratio %.2f", t.Bridge, t.Baseline, t.Ratio)
	return nil
}

// settle waits until no message came for quiet after since (or a minute
// passed) and returns the time of the last one.
func settle(ctx context.Context, quiet time.Duration, since time.Time, last func() time.Time) time.Time {
	deadline := time.Now().Add(time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		ref := last()
		if ref.Before(since) {
			ref = since
		}
		if time.Since(ref) >= quiet {
			break
		}
		time.Sleep(quiet / 20)
	}
	return last()
}

// bridgeRound makes the simulators push M frames, round-robin over the
// targets, each simulator from its own goroutine as fast as its sockets take
// them; the rate is M over the time from the first frame to the last state
// delivered.
func (r *benchRun) bridgeRound(ctx context.Context) (rate float64, delivered int64, avgSize int, err error) {
	bySim := map[*benchSim][]benchTarget{}
	var sims []*benchSim
	for _, t := range r.targets {
		if bySim[t.sim] == nil {
			sims = append(sims, t.sim)
		}
		bySim[t.sim] = append(bySim[t.sim], t)
	}
	m := r.o.Events
	n0, b0, _ := r.col.stateStats()
	var wg sync.WaitGroup
	errs := make([]error, len(sims))
	start := time.Now()
	for si, s := range sims {
		share := m * len(bySim[s]) / len(r.targets)
		if si == len(sims)-1 {
			share = m - (m*(len(r.targets)-len(bySim[s])))/len(r.targets)
		}
		wg.Add(1)
		go func(si int, ts []benchTarget, share int) {
			defer wg.Done()
			for i := 0; i < share && ctx.Err() == nil; i++ {
				if err := s.push(ts[i%len(ts)].id, r.nextWatts()); err != nil {
					errs[si] = fmt.Errorf("%s/%s: %w", s.kind, s.name, err)
					return
				}
			}
		}(si, bySim[s], share)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, 0, err
	}
	last := settle(ctx, time.Second, time.Now(), func() time.Time { _, _, l := r.col.stateStats(); return l })
	n1, b1, _ := r.col.stateStats()
	delivered = n1 - n0
	if delivered == 0 {
		return 0, 0, 0, errors.New("the bridge delivered no state")
	}
	return float64(m) / last.Sub(start).Seconds(), delivered, int((b1 - b0) / delivered), nil
}

// baselineRound publishes M messages of the bridge's state size with a bare
// paho client to topics of the same shape, QoS 0 retained like the bridge's
// states; the rate is what the subscriber received over the time from the
// first publish to the last message.
func (r *benchRun) baselineRound(ctx context.Context, c paho.Client, size int) (float64, int64, error) {
	ids := make([]string, len(r.targets))
	for i := range ids {
		ids[i] = r.topics.BaseTopic + "/baseline/" + strconv.Itoa(i)
	}
	payload := []byte(strings.Repeat("x", max(size, 1)))
	m := r.o.Events
	n0, _ := r.col.baselineStats()
	start := time.Now()
	for i := 0; i < m && ctx.Err() == nil; i++ {
		c.Publish(ids[i%len(ids)], 0, true, payload)
	}
	last := settle(ctx, time.Second, time.Now(), func() time.Time { _, l := r.col.baselineStats(); return l })
	n1, _ := r.col.baselineStats()
	if n1 == n0 {
		return 0, 0, errors.New("the baseline publisher delivered nothing")
	}
	return float64(n1-n0) / last.Sub(start).Seconds(), n1 - n0, nil
}

// latency paces R events per second over the targets and measures, per
// event, the time from the simulator writing the frame to the subscriber
// receiving the device's state.
func (r *benchRun) latency(ctx context.Context) error {
	if len(r.targets) == 0 {
		return nil
	}
	l := &r.res.Latency
	l.Rate, l.Events = r.o.Rate, r.o.LatencyEvents
	interval := time.Second / time.Duration(r.o.Rate)
	r.say("latency: %d events at %d/s", r.o.LatencyEvents, r.o.Rate)
	r.col.takeLatencies()
	damon0, _ := kdamondCPU()
	start := time.Now()
	skipped := 0
	for i := 0; i < r.o.LatencyEvents && ctx.Err() == nil; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		t := r.targets[i%len(r.targets)]
		if !r.col.expect(t.key, time.Now()) {
			skipped++
		}
		if err := t.sim.push(t.id, r.nextWatts()); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	time.Sleep(time.Second)
	samples, lost := r.col.takeLatencies()
	damon1, damons := kdamondCPU()
	// a thread restarted meanwhile counts from zero: never report less than nothing
	l.Kdamonds, l.KdamondCPUMS = damons, float64(max(damon1-damon0, 0)/time.Millisecond)
	if len(samples) == 0 {
		return errors.New("no state arrived for the paced events")
	}
	if r.o.LatencyLog != "" {
		if err := writeLatencyLog(r.o.LatencyLog, samples); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, len(samples))
	for i, s := range samples {
		lat[i] = s.took
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return round3(float64(d) / 1e6) }
	l.P50 = ms(lat[len(lat)/2])
	l.P99 = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	l.Max = ms(lat[len(lat)-1])
	l.Samples, l.Unanswered, l.Overlapped = len(lat), lost, skipped
	l.AchievedRate = math.Round(float64(r.o.LatencyEvents) / elapsed.Seconds())
	r.sample()
	r.say("latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples)", l.P50, l.P99, l.Max, l.Samples)
	return nil
}

// writeLatencyLog lets a run's slow samples be lined up against what else
// ran on the machine (they come in bursts when something takes a core).
func writeLatencyLog(path string, samples []latencySample) error {
	samples = slices.Clone(samples)
	slices.SortFunc(samples, func(a, b latencySample) int { return a.sent.Compare(b.sent) })
	var b bytes.Buffer
	b.WriteString("# sent_unix_us latency_us device\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%d %d %s\n", s.sent.UnixMicro(), s.took.Microseconds(), s.device)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// economy watches the simulators' request logs for a steady-state window.
func (r *benchRun) economy(ctx context.Context) error {
	r.say("API economy: watching a steady-state window of %s", r.o.Window)
	upBefore := r.ewelinkStreamsUp()
	from := time.Now()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.o.Window):
	}
	to := time.Now()
	e := &r.res.Economy
	e.WindowS = r.o.Window.Seconds()
	e.EwelinkWSUp = upBefore && r.ewelinkStreamsUp()
	e.HTTPCallsPerMin = map[string]float64{}
	e.TokenCallsBy = map[string]int{}
	e.ViolationsBy = map[string]int{}
	for _, s := range r.world.sims {
		label := s.kind
		calls := 0
		for _, q := range s.requests() {
			if q.login {
				e.TokenCalls++
				e.TokenCallsBy[label]++
			}
			if q.http && !q.at.Before(from) && q.at.Before(to) {
				calls++
			}
		}
		e.HTTPCallsPerMin[label] += round1(float64(calls) / to.Sub(from).Minutes())
		if s.kind == "ewelink" {
			e.EwelinkHTTPCalls += calls
		}
		v := s.violations()
		e.Violations += v
		e.ViolationsBy[label] += v
		if s.kind == "shelly_v2" {
			e.ShellyV2Devices = r.world.v2Devices
			e.ShellyV2Expected = (r.world.v2Devices + 9) / 10
			e.ShellyV2PerRefresh = v2Refreshes(s.requests(), to)
		}
	}
	return nil
}

func (r *benchRun) ewelinkStreamsUp() bool {
	for _, s := range r.world.sims {
		if s.streams != nil && s.streams() == 0 {
			return false
		}
	}
	return true
}

// v2Refreshes groups the v2 state reads into refreshes: reads about a
// second apart belong to one refresh, the poll interval's idle gap (at
// least 10 s) separates two. A refresh that may still be running at the
// end is left out.
func v2Refreshes(reqs []benchReq, end time.Time) []int {
	const gap = 4 * time.Second
	var out []int
	var last time.Time
	n := 0
	for _, q := range reqs {
		if !strings.HasSuffix(q.op, "/get") {
			continue
		}
		if n > 0 && q.at.Sub(last) > gap {
			out = append(out, n)
			n = 0
		}
		n++
		last = q.at
	}
	if n > 0 && end.Sub(last) > gap {
		out = append(out, n)
	}
	return out
}

// medianRatio is the median of num[i]/den[i] over the rounds i.
func medianRatio(num, den []float64) float64 {
	var ratios []float64
	for i := range min(len(num), len(den)) {
		if den[i] > 0 {
			ratios = append(ratios, num[i]/den[i])
		}
	}
	return median(ratios)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round2(f float64) float64 { return math.Round(f*100) / 100 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func roundAll(xs []float64, places int) []float64 {
	p := math.Pow10(places)
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*p) / p
	}
	return out
}
