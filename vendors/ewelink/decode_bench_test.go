package ewelink

import (
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/ewelink/ewelinksim"
)

// BenchmarkDecodeUpdate decodes a device report from the WebSocket: the
// frame, then its params (the per-event cost before the mapping).
func BenchmarkDecodeUpdate(b *testing.B) {
	raw := []byte(`{"action":"update","deviceid":"1000a00006","apikey":"user-abc","userAgent":"device","params":{"power":"57.30","voltage":"229.81","current":"0.25"},"from":"device","ts":0,"d_seq":1764690000000}`)
	b.ReportAllocs()
	for b.Loop() {
		f, err := decodeFrame(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := f.reportParams(); !ok {
			b.Fatal("no params")
		}
	}
}

// countSink counts updates and keeps nothing.
type countSink struct{ nopSink }

var benchUpdates int

func (countSink) Update(string, map[string]any) { benchUpdates++ }

// BenchmarkReport is the per-event path the bench drives: a metering plug's
// update frame, from the raw bytes to sink.Update (decode, merge, mapping,
// change detection).
func BenchmarkReport(b *testing.B) {
	a := idleAdapter(b)
	a.sink = countSink{}
	a.log = a.log.Level(zerolog.InfoLevel) // the bridge's default: no debug line per report
	a.applyList([]deviceData{{DeviceID: "1000a00006", Name: "plug", Online: true,
		Params: []byte(`{"switch":"on","power":"57.30","voltage":"229.81","current":"0.25","fwVersion":"3.5.0","rssi":-60,"startup":"stay","pulse":"off","pulseWidth":500,"sledOnline":"on"}`),
		Extra: struct {
			UIID  flexInt `json:"uiid"`
			Model string  `json:"model"`
			Mac   string  `json:"mac"`
		}{UIID: 32}}})
	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = []byte(`{"action":"update","deviceid":"1000a00006","apikey":"user-abc","userAgent":"device","params":{"power":"` +
			strconv.Itoa(100+i) + `.5"},"from":"device","ts":0}`)
	}
	before := benchUpdates
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f, err := decodeFrame(frames[i%len(frames)])
		if err != nil {
			b.Fatal(err)
		}
		a.handleFrame(nil, f, frames[i%len(frames)])
		i++
	}
	if benchUpdates-before != i {
		b.Fatalf("%d updates for %d changes", benchUpdates-before, i)
	}
}

// BenchmarkListMemory reports the live heap per device of an account of
// the simulator's scaled fixture mix after its device list was applied (the
// list itself dropped, as after a relist).
func BenchmarkListMemory(b *testing.B) {
	devs := ewelinksim.Scaled(1000)
	var perDev float64
	for b.Loop() {
		a := idleAdapter(b)
		a.sink = countSink{}
		before := liveHeap()
		a.applyList(thingList(devs))
		perDev = (liveHeap() - before) / float64(len(devs))
		runtime.KeepAlive(a)
	}
	b.ReportMetric(perDev, "B/device")
}

// liveHeap is the heap in use right after a collection.
func liveHeap() float64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc)
}

// thingList is devs as a thing list page decodes them: every string its
// own copy.
func thingList(devs []ewelinksim.Device) []deviceData {
	var list []deviceData
	for _, d := range devs {
		p, _ := json.Marshal(d.Params)
		tags, _ := json.Marshal(d.Tags)
		dd := deviceData{DeviceID: strings.Clone(d.ID), Name: strings.Clone(d.Name), Online: true, Params: p, Tags: tags,
			APIKey: strings.Clone("6f2b7c1e-4d5a-4c3b-9e8f-0a1b2c3d4e5f"), BrandName: strings.Clone(d.Brand), ProductModel: strings.Clone(d.Model)}
		dd.Extra.UIID, dd.Extra.Model, dd.Extra.Mac = flexInt(d.UIID), strings.Clone(d.ExtraModel), strings.Clone(d.MAC)
		list = append(list, dd)
	}
	return list
}
