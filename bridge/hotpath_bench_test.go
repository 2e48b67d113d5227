package bridge

import (
	"fmt"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"testing"
)

// BenchmarkStateMerge is the state merge alone: an adapter's update of
// four values, one of them changed, into a cached device.
func BenchmarkStateMerge(b *testing.B) {
	d := &device{}
	for _, k := range []string{"switch", "power", "voltage", "energy"} {
		d.set(k, 0.0)
	}
	b.ReportAllocs()
	i := 0.0
	for b.Loop() {
		i++
		d.set("switch", "ON")
		d.set("power", normalize(i))
		d.set("voltage", normalize(230.0))
		d.set("energy", normalize(12.5))
	}
}

// BenchmarkAppendState is the MQTT encoding of a device's JSON state.
func BenchmarkAppendState(b *testing.B) {
	values := []kv{{"energy", 1234.56}, {"power", 57.3}, {"switch", "ON"}, {"voltage", 229.8}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendState(buf[:0], values, 1764690000000000000)
	}
	b.ReportMetric(float64(len(buf)), "bytes/state")
}

// BenchmarkInventory10k hands the bridge a 10 000-device inventory again
// (nothing changed): the cost of an adapter's periodic relist.
func BenchmarkInventory10k(b *testing.B) {
	_, a, _ := benchBridge(b, 10000)
	devs := make([]vendors.Device, 10000)
	for i := range devs {
		devs[i] = plug(fmt.Sprintf("dev%05d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Inventory(devs)
	}
}

// BenchmarkDiscovery10k renders and publishes the discovery configs of
// 10 000 devices, as after a Home Assistant birth.
func BenchmarkDiscovery10k(b *testing.B) {
	br, _, mem := benchBridge(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		before := mem.published.Load()
		br.mu.Lock()
		for _, d := range br.devices {
			br.enqueue(d, fConfig|fConfigForce)
		}
		br.mu.Unlock()
		br.step()
		if got := mem.published.Load() - before; got < 10000 {
			b.Fatalf("%d configs published", got)
		}
	}
}

// BenchmarkDeviceList10k renders <base>/bridge/devices for 10 000 devices.
func BenchmarkDeviceList10k(b *testing.B) {
	br, _, _ := benchBridge(b, 10000)
	b.ReportAllocs()
	for b.Loop() {
		br.publishDeviceList()
	}
}
