package shelly

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/shelly/shellysim"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// countSink counts what reaches the bridge, and keeps nothing.
type countSink struct{ updates, keys int }

func (s *countSink) Inventory([]vendors.Device) {}
func (s *countSink) Update(_ string, v map[string]any) {
	s.updates++
	s.keys += len(v)
}
func (s *countSink) Availability(string, bool)                    {}
func (s *countSink) Event(string, string, string, map[string]any) {}
func (s *countSink) Image(string, string, []byte)                 {}
func (s *countSink) Status(vendors.Status)                        {}

// A Pro 4PM-like full status: four metered relays, inputs, sys and wifi.
const benchFullStatus = `{"event":"Shelly:StatusOnChange","deviceId":"b48a0a1cd978","status":{` +
	`"switch:0":{"id":0,"output":true,"apower":10.7,"voltage":230.1,"current":0.133,"aenergy":{"total":4679.262,"by_minute":[73.9,177.7,177.7],"minute_ts":1682952864},"temperature":{"tC":47.9,"tF":118.3}},` +
	`"switch:1":{"id":1,"output":false,"apower":0,"voltage":230.1,"current":0,"aenergy":{"total":12.5,"by_minute":[0,0,0],"minute_ts":1682952864},"temperature":{"tC":41.2,"tF":106.2}},` +
	`"switch:2":{"id":2,"output":true,"apower":99.1,"voltage":230.1,"current":0.43,"aenergy":{"total":812.1,"by_minute":[1,2,3],"minute_ts":1682952864},"temperature":{"tC":44.0,"tF":111.2}},` +
	`"switch:3":{"id":3,"output":false,"apower":0,"voltage":230.1,"current":0,"aenergy":{"total":0,"by_minute":[0,0,0],"minute_ts":1682952864},"temperature":{"tC":40.0,"tF":104.0}},` +
	`"input:0":{"id":0,"state":false},"input:1":{"id":1,"state":false},"input:2":{"id":2,"state":true},"input:3":{"id":3,"state":false},` +
	`"sys":{"mac":"B48A0A1CD978","restart_required":false,"uptime":464987},"wifi":{"rssi":-58,"ssid":"home"}}}`

// BenchmarkStatusOnChange is the Integrator's per-event path for the frame
// the bench sends: one reading of one component changes, on a device with a
// dozen entities, from the raw frame to sink.Update.
func BenchmarkStatusOnChange(b *testing.B) {
	a := fuzzIntegrator(b)
	sink := &countSink{}
	a.pub = newPublisher(sink, a.fleet, nil, zerolog.Nop(), time.Millisecond)
	h := newHostConn("shelly-1-eu.shelly.cloud")
	a.handleFrame(h, nil, []byte(benchFullStatus))
	a.pub.flush()
	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = []byte(`{"event":"Shelly:StatusOnChange","deviceId":"b48a0a1cd978","status":{"switch:0":{"id":0,"apower":` +
			strconv.Itoa(100+i) + `.5,"current":0.` + strconv.Itoa(100+i) + `}}}`)
	}
	before := sink.updates
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.handleFrame(h, nil, frames[i%len(frames)])
		i++
	}
	if sink.updates-before != i {
		b.Fatalf("%d updates for %d changes", sink.updates-before, i)
	}
}

// BenchmarkConsentGrants stores the grants of N consent callbacks, one after
// the other as Shelly sends them, in a file store (fsync included): the
// storage cost of onboarding an account of N devices.
func BenchmarkConsentGrants(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := &grantStore{store: &vendorkit.FileStore{Dir: b.TempDir()}}
				for i := range n {
					id := "a8032ab1" + strconv.FormatInt(int64(0x1000+i), 16)
					if _, err := s.put(id, grant{Host: "shelly-1-eu.shelly.cloud", Access: "01", Names: []string{"Plug"}, Code: "SNPL-00112EU", Type: "relay", Granted: time.Unix(1700000000, 0)}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkFleetMemory reports the live heap per device of a fleet of Pro
// 4PM-like devices that each received a full status and one delta.
func BenchmarkFleetMemory(b *testing.B) { benchFleetMemory(b, true) }

// BenchmarkFleetMemoryAtRest is BenchmarkFleetMemory without the delta: the
// devices that report nothing after their full status.
func BenchmarkFleetMemoryAtRest(b *testing.B) { benchFleetMemory(b, false) }

func benchFleetMemory(b *testing.B, withDelta bool) {
	const n = 2000
	var full struct {
		Status map[string]any `json:"status"`
	}
	if err := json.Unmarshal([]byte(benchFullStatus), &full); err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(full.Status)
	delta := []byte(`{"switch:0":{"apower":57.3,"current":0.25}}`)
	var perDev float64
	for b.Loop() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		f := newFleet(zerolog.Nop())
		for i := range n {
			id := "a8032ab1" + strconv.FormatInt(int64(0x1000+i), 16)
			f.ensure(id, func(m *meta) { m.Code = "SPSW-104PE16EU"; m.Names = []string{"Plug"} })
			// decoded as the Integrator's frames are
			st, _ := object(raw)
			f.applyStatus(id, st, true, "")
			if withDelta {
				d, _ := object(delta)
				f.applyStatus(id, d, false, "")
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		perDev = float64(ms.HeapAlloc-before) / n
		runtime.KeepAlive(f)
	}
	b.ReportMetric(perDev, "B/device")
}

// BenchmarkConsentCallbacks onboards an account of N devices: N signed
// consent callbacks through the handler, one after the other as Shelly sends
// them, each followed by the grant sync Run does on a new grant. One op is
// the whole onboarding.
func BenchmarkConsentCallbacks(b *testing.B) {
	for _, n := range []int{250, 1000} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			sim, err := shellysim.New(shellysim.Options{Devices: n})
			if err != nil {
				b.Fatal(err)
			}
			defer sim.Close()
			type cb struct {
				body []byte
				tok  string
			}
			var cbs []cb
			for _, d := range sim.Devices() {
				cbs = append(cbs, cb{sim.ConsentBody(d.ID, "add"), sim.TrustToken(d.ID, time.Now().Add(time.Hour))})
			}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				env := vendors.Env{Vendor: "shelly", Account: "bench", Log: zerolog.Nop(), Metrics: vendors.NopMetrics{},
					Store: (&vendorkit.FileStore{Dir: b.TempDir()}).Scoped("shelly-bench"), Now: time.Now}
				ad, err := New(env, strictYAML(sim.IntegratorConfig("bench")))
				if err != nil {
					b.Fatal(err)
				}
				a := ad.(*integrator)
				h := a.Routes()[0]
				b.StartTimer()
				for _, c := range cbs {
					req := httptest.NewRequest(http.MethodPost, h.Path, bytes.NewReader(c.body))
					req.Header.Set("SCL-Trust", c.tok)
					w := httptest.NewRecorder()
					h.Handler.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("consent answered %d", w.Code)
					}
					a.syncGrants()
				}
			}
		})
	}
}
