package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// benchResult is what a run measured; its JSON is the --json file.
type benchResult struct {
	Time     string `json:"time"`
	Version  string `json:"version"`
	Go       string `json:"go"`
	CPUs     int    `json:"cpus"`
	Broker   string `json:"broker"`
	Smoke    bool   `json:"smoke"`
	Requests struct {
		Devices int    `json:"devices"`
		Events  int    `json:"events"`
		Rate    int    `json:"rate"`
		Rounds  int    `json:"rounds"`
		Vendor  string `json:"vendor,omitempty"`
		// BridgeMemLimit is the bridge process's GOMEMLIMIT, if any.
		BridgeMemLimit string `json:"bridge_memory_limit,omitempty"`
	} `json:"options"`
	Throughput struct {
		// Bridge is state changes carried end to end per second: M frames
		// over the time from the first frame to the last state delivered.
		// The bridge publishes a device's latest state, so when it lags a
		// device's changes coalesce: BridgeDeliveredRate counts messages.
		Bridge              float64 `json:"bridge_msgs_per_s"`
		BridgeDeliveredRate float64 `json:"bridge_delivered_msgs_per_s"`
		deliveredRates      []float64
		Baseline            float64 `json:"baseline_msgs_per_s"`
		// Ratio is the median over rounds of bridge/baseline within a round:
		// the two halves of a round run back to back (the order alternates),
		// so the machine's drift between rounds cancels out.
		Ratio float64 `json:"ratio"`
		// RatioOfMedians is Bridge over Baseline.
		RatioOfMedians float64 `json:"ratio_of_medians"`
		// DeliveredRatio is messages delivered per second over the
		// baseline's: below Ratio by as much as changes coalesced.
		DeliveredRatio    float64   `json:"delivered_ratio"`
		Events            int       `json:"events_per_round"`
		Devices           int       `json:"devices"`
		PayloadBytes      int       `json:"payload_bytes"`
		BridgeRounds      []float64 `json:"bridge_rounds"`
		BaselineRounds    []float64 `json:"baseline_rounds"`
		BridgeDelivered   []int64   `json:"bridge_delivered"`
		BaselineDelivered []int64   `json:"baseline_delivered"`
	} `json:"throughput"`
	Latency struct {
		P50          float64 `json:"p50"`
		P99          float64 `json:"p99"`
		Max          float64 `json:"max"`
		Rate         int     `json:"rate"`
		AchievedRate float64 `json:"achieved_rate"`
		Events       int     `json:"events"`
		Samples      int     `json:"samples"`
		Unanswered   int     `json:"unanswered"`
		Overlapped   int     `json:"overlapped"`
		// Kdamonds counts the kernel's DAMON threads; KdamondCPUMS is the
		// CPU they used during the step (see bench_host.go).
		Kdamonds     int     `json:"host_kdamonds"`
		KdamondCPUMS float64 `json:"host_kdamond_cpu_ms"`
	} `json:"latency_ms"`
	Scale struct {
		Devices       int       `json:"devices"`
		DiscoveryS    float64   `json:"discovery_s"`
		DiscoveryRuns []float64 `json:"discovery_runs_s"`
		InventoryS    float64   `json:"inventory_s"`
		RSSMB         float64   `json:"rss_mb"`
		HeapMB        float64   `json:"heap_mb"`
		Goroutines    int       `json:"goroutines"`
	} `json:"scale"`
	Economy struct {
		WindowS            float64            `json:"window_s"`
		HTTPCallsPerMin    map[string]float64 `json:"http_calls_per_min"`
		EwelinkWSUp        bool               `json:"ewelink_ws_up"`
		EwelinkHTTPCalls   int                `json:"ewelink_http_calls_ws_up"`
		ShellyV2Devices    int                `json:"shelly_v2_devices"`
		ShellyV2Expected   int                `json:"shelly_v2_expected_per_refresh"`
		ShellyV2PerRefresh []int              `json:"shelly_v2_requests_per_refresh"`
		TokenCalls         int                `json:"token_calls"`
		TokenCallsBy       map[string]int     `json:"token_calls_by_vendor"`
		Violations         int                `json:"violations"`
		ViolationsBy       map[string]int     `json:"violations_by_vendor"`
	} `json:"economy"`
	Checks  []benchCheck `json:"checks"`
	Targets []benchCheck `json:"targets"`
	hasEwe  bool
	hasV2   bool
	hasTput bool
}

// benchCheck is one pass/fail line: checks fail the run, targets are reported.
type benchCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func newBenchResult(o benchOptions) *benchResult {
	r := &benchResult{Time: time.Now().UTC().Format(time.RFC3339), Version: version, Go: runtime.Version(), CPUs: runtime.NumCPU(), Smoke: o.Smoke}
	r.Requests.Devices, r.Requests.Events, r.Requests.Rate, r.Requests.Rounds, r.Requests.Vendor = o.Devices, o.Events, o.Rate, o.Rounds, o.Vendor
	r.Requests.BridgeMemLimit = o.BridgeMemLimit
	return r
}

// finish evaluates the checks and targets once every step ran.
func (r *benchResult) finish(w *benchWorld) {
	for _, s := range w.sims {
		r.hasEwe = r.hasEwe || s.kind == "ewelink"
		r.hasV2 = r.hasV2 || s.kind == "shelly_v2"
	}
	r.hasTput = r.Throughput.Baseline > 0
	e := r.Economy
	r.Checks = append(r.Checks, benchCheck{"rate-limit violations", e.Violations == 0, fmt.Sprintf("%d (want 0)", e.Violations)})
	if r.hasEwe {
		ok := e.EwelinkWSUp && e.EwelinkHTTPCalls == 0
		detail := fmt.Sprintf("%d in %.0f s (want 0)", e.EwelinkHTTPCalls, e.WindowS)
		if !e.EwelinkWSUp {
			detail += "; the WebSocket was not up for the whole window"
		}
		r.Checks = append(r.Checks, benchCheck{"eWeLink HTTP calls with the WebSocket up", ok, detail})
	}
	if r.hasV2 {
		ok := len(e.ShellyV2PerRefresh) > 0
		for _, n := range e.ShellyV2PerRefresh {
			ok = ok && n == e.ShellyV2Expected
		}
		r.Checks = append(r.Checks, benchCheck{"Shelly v2 requests per refresh", ok,
			fmt.Sprintf("%v for %d devices (want ⌈N/10⌉ = %d each)", e.ShellyV2PerRefresh, e.ShellyV2Devices, e.ShellyV2Expected)})
	}
	if r.hasTput {
		p99 := fmt.Sprintf("%.2f ms at %d/s", r.Latency.P99, r.Latency.Rate)
		if r.Latency.Kdamonds > 0 {
			p99 += fmt.Sprintf(", kernel DAMON on (%.0f ms of CPU during it)", r.Latency.KdamondCPUMS)
		}
		r.Targets = append(r.Targets,
			benchCheck{"ratio bridge/baseline ≥ 0.8", r.Throughput.Ratio >= 0.8, fmt.Sprintf("%.2f changes carried; %.2f messages delivered (changes coalesced)", r.Throughput.Ratio, r.Throughput.DeliveredRatio)},
			benchCheck{"p99 ≤ 2 ms at 1000 events/s", r.Latency.Rate == 1000 && r.Latency.P99 <= 2, p99})
	}
	if r.Scale.Devices < 10000 {
		r.Targets = append(r.Targets, benchCheck{"RSS and discovery targets", false, fmt.Sprintf("not evaluated: %d devices, they are set for 10 000", r.Scale.Devices)})
		return
	}
	r.Targets = append(r.Targets,
		benchCheck{"RSS ≤ 50 MB with 10 000 devices", r.Scale.RSSMB <= 50, fmt.Sprintf("%.1f MB with %d devices", r.Scale.RSSMB, r.Scale.Devices)},
		benchCheck{"discovery of 10 000 devices ≤ 2 s", r.Scale.DiscoveryS <= 2, fmt.Sprintf("%.2f s for %d devices", r.Scale.DiscoveryS, r.Scale.Devices)})
}

func (r *benchResult) failedChecks() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

func (r *benchResult) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func (r *benchResult) print(w io.Writer) {
	t, l, s, e := r.Throughput, r.Latency, r.Scale, r.Economy
	fmt.Fprintf(w, "\ncloud2mqtt bench  %s  %s, %d CPUs, broker %s\n", r.Time, r.Go, r.CPUs, r.Broker)
	if r.Requests.BridgeMemLimit != "" {
		fmt.Fprintf(w, "bridge process GOMEMLIMIT %s\n", r.Requests.BridgeMemLimit)
	}
	fmt.Fprintln(w)
	row := func(k, v string) { fmt.Fprintf(w, "  %-44s %s\n", k, v) }
	fmt.Fprintln(w, "Throughput (QoS 0 state, median of rounds)")
	if t.Baseline > 0 {
		row("bridge msgs/s (changes carried)", fmt.Sprintf("%.0f   rounds %v", t.Bridge, t.BridgeRounds))
		row("bridge state messages delivered/s", fmt.Sprintf("%.0f   (latest state per device; %v of %d per round)", t.BridgeDeliveredRate, t.BridgeDelivered, t.Events))
		row("baseline msgs/s (bare paho)", fmt.Sprintf("%.0f   rounds %v", t.Baseline, t.BaselineRounds))
		row("ratio bridge/baseline", fmt.Sprintf("%.2f   (median of the rounds' own ratios; ratio of the medians %.2f)", t.Ratio, t.RatioOfMedians))
		row("", fmt.Sprintf("(%d events/round over %d devices, %d-byte states)", t.Events, t.Devices, t.PayloadBytes))
		row("ratio delivered messages/baseline", fmt.Sprintf("%.2f", t.DeliveredRatio))
	} else {
		row("-", "no streaming vendor")
	}
	fmt.Fprintln(w, "Latency (frame written → state received)")
	if l.Samples > 0 {
		row("p50 / p99 / max ms", fmt.Sprintf("%.2f / %.2f / %.2f   at %d events/s (%d samples)", l.P50, l.P99, l.Max, l.Rate, l.Samples))
		if l.Kdamonds > 0 {
			row("host: kernel DAMON CPU during the step", fmt.Sprintf("%.0f ms   (its memory scans stall the machine in bursts: docs/performance.md, \"Host noise\")", l.KdamondCPUMS))
		}
	} else {
		row("-", "no streaming vendor")
	}
	fmt.Fprintln(w, "Scale")
	row("devices", fmt.Sprint(s.Devices))
	row("discovery s (HA birth → all configs)", fmt.Sprintf("%.2f   runs %v", s.DiscoveryS, s.DiscoveryRuns))
	row("inventory s (bridge start → all configs)", fmt.Sprintf("%.2f", s.InventoryS))
	row("bridge peak RSS MB / heap in use MB", fmt.Sprintf("%.1f / %.1f", s.RSSMB, s.HeapMB))
	row("bridge goroutines", fmt.Sprint(s.Goroutines))
	fmt.Fprintf(w, "API economy (steady-state window of %.0f s)\n", e.WindowS)
	keys := make([]string, 0, len(e.HTTPCallsPerMin))
	for k := range e.HTTPCallsPerMin {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		row("HTTP calls/min "+k, fmt.Sprintf("%.1f", e.HTTPCallsPerMin[k]))
	}
	row("token calls (whole run)", fmt.Sprintf("%d %v", e.TokenCalls, e.TokenCallsBy))
	row("rate-limit violations", fmt.Sprintf("%d %v", e.Violations, e.ViolationsBy))
	fmt.Fprintln(w, "Checks (fail the run)")
	for _, c := range r.Checks {
		row(mark(c.OK)+" "+c.Name, c.Detail)
	}
	fmt.Fprintln(w, "Targets (reported)")
	for _, c := range r.Targets {
		m := mark(c.OK)
		if strings.HasPrefix(c.Detail, "not evaluated") {
			m = "-   "
		}
		row(m+" "+c.Name, c.Detail)
	}
	fmt.Fprintln(w, strings.Repeat("-", 60))
}

func mark(ok bool) string {
	if ok {
		return "ok  "
	}
	return "FAIL"
}
