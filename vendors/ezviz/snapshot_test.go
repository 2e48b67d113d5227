package ezviz_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/ezviz/ezvizsim"
)

// TestCaptureSpacing: however often snapshots are asked for (refresh and
// the snapshot interval together), the simulator's log shows captures of
// one camera at least 4 s apart, and every capture's JPEG is delivered.
func TestCaptureSpacing(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOpt{config: map[string]string{"snapshot_interval": "4s"}})
	r.inventory()
	deadline := time.Now().Add(15 * time.Second)
	captured := func() int {
		n := 0
		for _, q := range r.requests("/api/lapp/device/capture") {
			if q.Serial == ezvizsim.IndoorPTZ {
				n++
			}
		}
		return n
	}
	for captured() < 3 && time.Now().Before(deadline) {
		if err := r.refresh(ezvizsim.IndoorPTZ); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Let the last capture's download land; one started by the interval
	// at the moment of stop may still be cut off.
	r.rec.Await(5*time.Second, func() bool { return r.rec.Images()[ezvizsim.IndoorPTZ+"/camera"] >= captured() })
	r.stop()
	per := map[string][]time.Time{}
	for _, q := range r.requests("/api/lapp/device/capture") {
		if q.Status != 200 {
			t.Errorf("capture answered %d", q.Status)
		}
		cam := fmt.Sprintf("%s/%d", q.Serial, q.Channel)
		per[cam] = append(per[cam], q.Time)
	}
	indoor := per[ezvizsim.IndoorPTZ+"/1"]
	if len(indoor) < 3 {
		t.Fatalf("%d captures of the indoor camera in 15 s, want at least 3", len(indoor))
	}
	for cam, times := range per {
		for i := 1; i < len(times); i++ {
			gap := times[i].Sub(times[i-1])
			if gap < 4*time.Second {
				t.Errorf("%s: captures %s apart", cam, gap)
			}
			t.Logf("%s: capture gap %s", cam, gap.Round(time.Millisecond))
		}
	}
	imgs := r.rec.Images()
	if n := imgs[ezvizsim.IndoorPTZ+"/camera"]; n < len(indoor)-1 || n > len(indoor) {
		t.Errorf("%d images for %d captures", n, len(indoor))
	}
	if imgs[ezvizsim.NVR+"_1/camera"] == 0 || imgs[ezvizsim.Doorbell+"/camera"] == 0 {
		t.Errorf("snapshot_interval did not capture every camera: %v", imgs)
	}
	if strings.Contains(r.logs.String(), "Signature") {
		t.Error("a signed picture URL reached the logs")
	}
}
