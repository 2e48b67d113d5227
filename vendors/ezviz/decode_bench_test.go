package ezviz

import "testing"

// BenchmarkDecodeDeviceList decodes one device list page entry.
func BenchmarkDecodeDeviceList(b *testing.B) {
	raw := []byte(`{"code":"200","msg":"操作成功!","data":[{"id":"0043","deviceSerial":"C78957921","deviceName":"Garden","deviceType":"CS-C8C","status":1,"defence":0,"deviceVersion":"V5.3.8 build 230103","addTime":1693806032741,"parentCategory":"IPC","riskLevel":0,"netAddress":null}],"page":{"total":1,"page":0,"size":50}}`)
	b.ReportAllocs()
	for b.Loop() {
		env, err := decodeEnvelope(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodeDeviceList(env); err != nil {
			b.Fatal(err)
		}
	}
}
