package ewelink

import "testing"

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
