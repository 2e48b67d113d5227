package expeed

import (
	"testing"
	"time"
)

// BenchmarkDecodePush decodes a data push with two records.
func BenchmarkDecodePush(b *testing.B) {
	raw := []byte(`{"device_id": "D0001", "device_key": "K-PRODUCT", "msg_type": "2", "data": [{"timestamp": "2017-02-13T12-00-00-000", "temp": 26, "switch": 1}, {"timestamp": "2017-02-13T12-00-05-000", "temp": 26.5}]}`)
	z := time.FixedZone("CST", 8*3600)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePush(raw, z); err != nil {
			b.Fatal(err)
		}
	}
}
