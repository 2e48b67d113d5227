package shelly

import "testing"

// BenchmarkDecodeStatusOnChange decodes an Integrator StatusOnChange frame
// and its status object (the per-event cost before the fleet merge).
func BenchmarkDecodeStatusOnChange(b *testing.B) {
	raw := []byte(`{"event":"Shelly:StatusOnChange","deviceId":"a8032ab12c30","status":{"switch:0":{"id":0,"apower":57.3,"voltage":229.8,"current":0.25,"output":true}}}`)
	b.ReportAllocs()
	for b.Loop() {
		f, err := decodeFrame(raw)
		if err != nil {
			b.Fatal(err)
		}
		if f.wireID() == "" {
			b.Fatal("no id")
		}
		if _, ok := f.statusObject(); !ok {
			b.Fatal("no status")
		}
	}
}
