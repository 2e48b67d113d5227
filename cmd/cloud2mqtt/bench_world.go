package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/discovery"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/expeed/expeedsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
)

// benchReq is one logged cloud call, whatever simulator logged it.
type benchReq struct {
	at    time.Time
	op    string
	login bool
	http  bool // false for WebSocket messages a simulator logs too
}

// benchSim is one simulated cloud account of the bench world.
type benchSim struct {
	vendor, kind, name string
	config             string   // the account's YAML mapping
	ids                []string // device ids the bridge should discover (nil: not known up front)
	requests           func() []benchReq
	violations         func() int
	targets            func(n int) []string             // streaming simulators only
	push               func(id string, w float64) error // streaming simulators only
	streams            func() int                       // eWeLink: authenticated sockets
	close              func()
}

// benchWorld is every simulator of a run.
type benchWorld struct {
	sims      []*benchSim
	v2Devices int           // devices of the Shelly v2 account (0: none)
	v2Poll    time.Duration // its poll interval
}

func (w *benchWorld) close() {
	for _, s := range w.sims {
		s.close()
	}
}

const (
	ewelinkPerAccount = 1000 // 34 thing-list pages at the 500 ms endpoint gap
	// Onboarding is one consent callback and one WebSocket status per
	// device; spread over ten accounts it keeps a run's start-up in seconds.
	shellyPerAccount = 250
)

// benchShares splits n devices: a small fixed set for the polling clouds,
// the rest 75 % eWeLink, 25 % Shelly Integrator.
type benchShares struct{ ewelink, shelly, shellyV2, expeed, ezviz int }

func sharesFor(n int, vendor string) benchShares {
	var s benchShares
	poll := 0
	if vendor == "" || vendor == "shelly" {
		s.shellyV2 = 20
		if n >= 5000 {
			s.shellyV2 = 50
		}
		poll += s.shellyV2
	}
	if vendor == "" || vendor == "expeed" {
		s.expeed = 2 // fixture sets of three devices
		poll += 6
	}
	if vendor == "" || vendor == "ezviz" {
		s.ezviz = 1 // fixture sets of seven bridged devices
		poll += 7
	}
	rest := max(n-poll, 0)
	switch vendor {
	case "":
		s.ewelink = rest * 3 / 4
		s.shelly = rest - s.ewelink
	case "ewelink":
		s.ewelink = rest
	case "shelly":
		s.shelly = rest
	}
	return s
}

func splitN(total, per int) []int {
	if total <= 0 {
		return nil
	}
	k := (total + per - 1) / per
	out := make([]int, k)
	for i := range out {
		out[i] = total / k
		if i < total%k {
			out[i]++
		}
	}
	return out
}

// ewelinkDevices is about n fixture devices with ids unique to account k
// (the simulator's copies reuse ids across simulators).
func ewelinkDevices(n, k int) []ewelinksim.Device {
	devs := ewelinksim.Scaled(n)
	rename := map[string]string{}
	for i := range devs {
		rename[devs[i].ID] = fmt.Sprintf("%02x%08x", 0xb0+k, i)
	}
	for i := range devs {
		devs[i].ID = rename[devs[i].ID]
		devs[i].Params = maps.Clone(devs[i].Params)
		if p, ok := devs[i].Params["parentid"].(string); ok && rename[p] != "" {
			devs[i].Params["parentid"] = rename[p]
		}
	}
	return devs
}

// startWorld starts the simulators for about n devices. bridgeURL is the
// bridge's HTTP base URL (consent callbacks and pushes go there; they retry
// until the bridge is up).
func startWorld(n int, vendor, bridgeURL string) (_ *benchWorld, err error) {
	w := &benchWorld{}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	sh := sharesFor(n, vendor)
	for k, cnt := range splitN(sh.ewelink, ewelinkPerAccount) {
		s := ewelinksim.New(ewelinksim.Options{Devices: ewelinkDevices(cnt, k)})
		bs := &benchSim{vendor: "ewelink", kind: "ewelink", name: fmt.Sprintf("bench%d", k+1), close: s.Close}
		bs.config = s.Config(bs.name)
		bs.ids = s.DeviceIDs()
		bs.requests = func() []benchReq {
			var out []benchReq
			for _, r := range s.Requests() {
				out = append(out, benchReq{r.Time, r.Op, r.Login, !strings.HasPrefix(r.Op, "ws ")})
			}
			return out
		}
		bs.violations, bs.targets, bs.push, bs.streams = s.Violations, s.BenchTargets, s.PushPower, s.Streams
		w.sims = append(w.sims, bs)
	}
	for k, cnt := range splitN(sh.shelly, shellyPerAccount) {
		s, err := shellysim.New(shellysim.Options{Devices: cnt, IDSeed: byte(0x10 + k%0xc0), Tag: fmt.Sprintf("ITG_BENCH%d", k+1)})
		if err != nil {
			return w, fmt.Errorf("shelly simulator: %w", err)
		}
		bs := &benchSim{vendor: "shelly", kind: "shelly_integrator", name: fmt.Sprintf("bench%d", k+1), close: s.Close}
		bs.config = s.IntegratorConfig(bs.name)
		for _, d := range s.Devices() {
			bs.ids = append(bs.ids, d.ID)
		}
		bs.requests = shellyRequests(s)
		bs.violations, bs.targets, bs.push = s.Violations, s.BenchTargets, s.PushPower
		s.ConsentAll(strings.TrimRight(bridgeURL, "/")+"/shelly/"+bs.name+"/consent", "add")
		w.sims = append(w.sims, bs)
	}
	if sh.shellyV2 > 0 {
		s, err := shellysim.New(shellysim.Options{Devices: sh.shellyV2, IDSeed: 0xe0})
		if err != nil {
			return w, fmt.Errorf("shelly simulator: %w", err)
		}
		w.v2Devices = len(s.Devices())
		// A refresh is ⌈N/10⌉ gets a second apart; the idle gap of 10 s
		// after it separates refreshes in the request log.
		w.v2Poll = time.Duration((w.v2Devices+9)/10)*1100*time.Millisecond + 10*time.Second
		bs := &benchSim{vendor: "shelly", kind: "shelly_v2", name: "bench_cloud", close: s.Close}
		bs.config = s.CloudConfig(bs.name, "poll_interval: "+w.v2Poll.String())
		for _, d := range s.Devices() {
			bs.ids = append(bs.ids, d.ID)
		}
		bs.requests, bs.violations = shellyRequests(s), s.Violations
		w.sims = append(w.sims, bs)
	}
	if sh.expeed > 0 {
		s := expeedsim.New(expeedsim.Options{PushPath: "/expeed/bench", Devices: expeedsim.Fixtures(sh.expeed)})
		s.SetBridgeURL(bridgeURL)
		ctx, cancel := context.WithCancel(context.Background())
		verified := make(chan struct{})
		go func() {
			defer close(verified)
			for ctx.Err() == nil {
				vctx, vcancel := context.WithTimeout(ctx, 5*time.Second)
				err := s.VerifyURL(vctx)
				vcancel()
				if err == nil {
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
		}()
		bs := &benchSim{vendor: "expeed", kind: "expeed", name: "bench", close: func() { cancel(); <-verified; s.Close() }}
		bs.config = s.AccountConfig(bs.name)
		for _, d := range s.Options().Devices {
			bs.ids = append(bs.ids, d.ID)
		}
		bs.requests = func() []benchReq {
			var out []benchReq
			for _, r := range s.Requests() {
				out = append(out, benchReq{r.Time, r.Op, r.Login, true})
			}
			return out
		}
		bs.violations = s.Violations
		w.sims = append(w.sims, bs)
	}
	for k := 0; k < sh.ezviz; k++ {
		suffix := ""
		if k > 0 {
			suffix = strconv.Itoa(k + 1)
		}
		s, err := ezvizsim.New(ezvizsim.Options{AppKey: "bench" + strconv.Itoa(k) + "0123456789abcdef", AppSecret: "bench-secret-0123456789", Devices: ezvizsim.Fixtures(suffix)})
		if err != nil {
			return w, fmt.Errorf("ezviz simulator: %w", err)
		}
		bs := &benchSim{vendor: "ezviz", kind: "ezviz", name: fmt.Sprintf("bench%d", k+1), close: s.Close}
		// Half the simulated app budget (10/s): the demo's pace, so a run starts in seconds.
		bs.config = fmt.Sprintf("name: %s\napp_key: %s\napp_secret: %s\napi_url: %s\nmode: self\nrate_limit: 5\nrate_burst: 5\n", bs.name, s.AppKey(), s.AppSecret(), s.URL())
		bs.requests = func() []benchReq {
			var out []benchReq
			for _, r := range s.Requests() {
				out = append(out, benchReq{r.Time, r.Op, r.Login, true})
			}
			return out
		}
		bs.violations = s.Violations
		w.sims = append(w.sims, bs)
	}
	if len(w.sims) == 0 {
		return w, fmt.Errorf("%w: no simulator for vendor %q (ewelink, shelly, expeed, ezviz)", errUsage, vendor)
	}
	return w, nil
}

func shellyRequests(s *shellysim.Sim) func() []benchReq {
	return func() []benchReq {
		var out []benchReq
		for _, r := range s.Requests() {
			out = append(out, benchReq{r.Time, r.Op, r.Login, !strings.HasPrefix(r.Op, "ws") && !strings.HasPrefix(r.Op, "WS")})
		}
		return out
	}
}

// benchConfig is the bridge's YAML for the world: what a user would write.
func benchConfig(w *benchWorld, mqttURL string, topics discovery.Config, listen, publicURL, stateDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mqtt:\n  url: %q\n  base_topic: %q\n", mqttURL, topics.BaseTopic)
	// Birth delay as short as the bridge allows, so the discovery measurement is the bridge's work.
	fmt.Fprintf(&b, "homeassistant:\n  discovery_prefix: %q\n  birth_delay: 1ms\n", topics.Prefix)
	fmt.Fprintf(&b, "http:\n  listen: %q\n  public_url: %q\n", listen, publicURL)
	fmt.Fprintf(&b, "state_dir: %q\nlog:\n  level: warn\n", stateDir)
	b.WriteString("vendors:\n")
	var order []string
	byVendor := map[string][]string{}
	for _, s := range w.sims {
		if _, ok := byVendor[s.vendor]; !ok {
			order = append(order, s.vendor)
		}
		byVendor[s.vendor] = append(byVendor[s.vendor], s.config)
	}
	for _, v := range order {
		fmt.Fprintf(&b, "  %s:\n", v)
		for _, acc := range byVendor[v] {
			b.WriteString(listItem(acc, "    "))
		}
	}
	return b.String()
}

// freePort picks a loopback port for the bridge's HTTP server.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
