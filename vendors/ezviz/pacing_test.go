package ezviz_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

// TestDefaultRateLimitHolds: with the default rate_limit/rate_burst (2/s,
// 2) and polls far more frequent than that allows, the simulator's log never
// shows more calls in a second than the token bucket permits (burst + rate),
// nor a mean above 2 calls/s; snapshots still keep their 4 s per camera.
func TestDefaultRateLimitHolds(t *testing.T) {
	t.Parallel()
	const rate, burst = 2, 2
	sim := newSim(t, ezvizsim.Options{MaxPerSecond: rate + burst})
	r := startRig(t, sim, rigOpt{config: map[string]string{"rate_limit": "", "rate_burst": "", "snapshot_interval": "4s"}})
	start := time.Now()
	r.rec.WaitFor(t, 60*time.Second, "inventory", func() bool { return len(r.rec.Devices()) > 0 })
	t.Logf("first inventory after %s at the default rate", time.Since(start).Round(100*time.Millisecond))
	time.Sleep(6 * time.Second)
	r.stop()
	reqs := sim.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d calls", len(reqs))
	}
	worst := 0
	for i := range reqs {
		n := 0
		for j := i; j < len(reqs) && reqs[j].Time.Sub(reqs[i].Time) < time.Second; j++ {
			n++
		}
		worst = max(worst, n)
	}
	span := reqs[len(reqs)-1].Time.Sub(reqs[0].Time)
	mean := float64(len(reqs)-burst) / span.Seconds()
	t.Logf("%d calls in %s: %.2f calls/s after the burst, at most %d in any second (limit %d/s, burst %d)", len(reqs), span.Round(time.Millisecond), mean, worst, rate, burst)
	if worst > rate+burst {
		t.Errorf("%d calls within one second; the default bucket allows %d", worst, rate+burst)
	}
	if mean > rate*1.05 {
		t.Errorf("mean %.2f calls/s over the default %d/s", mean, rate)
	}
	last := map[string]time.Time{}
	for _, q := range reqs {
		if !strings.HasSuffix(q.Op, "/api/lapp/device/capture") {
			continue
		}
		cam := fmt.Sprintf("%s/%d", q.Serial, q.Channel)
		if prev, ok := last[cam]; ok && q.Time.Sub(prev) < 4*time.Second {
			t.Errorf("%s: captures %s apart", cam, q.Time.Sub(prev))
		}
		last[cam] = q.Time
	}
}
