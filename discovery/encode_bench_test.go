package discovery

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// marshalCases cover every type marshal encodes itself and the string and
// float corners where encoding/json has its own rules.
func marshalCases() []any {
	strs := []string{"", "plain", `quote " back \ slash`, "<b>&amp;</b>", "\b\f\n\r\t\x00\x1f\x7f",
		"grüße 温度 🌡", "bad \xff utf8 \xc3", "line\u2028sep\u2029", "{{ value_json.power }}"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1.5, 0.001, 1e-6, 9.99e-7, 1e-7, 123456789.125, 1e20, 1e21, 1.5e300, 5e-324, 0.1 + 0.2}
	var out []any
	for _, s := range strs {
		out = append(out, s, obj{s: s}, []string{s, s})
	}
	for _, f := range floats {
		out = append(out, f, obj{"min": f, "max": -f})
	}
	out = append(out, nil, true, false, 0, -42, 1<<53,
		obj{}, obj(nil), []obj(nil), []string(nil), [][]string(nil), []obj{}, []string{}, [][]string{{"mac", "d0:27"}},
		obj{"z": 1, "a": obj{"y": []obj{{"b": true}, {"a": nil}}, "x": []any{1, "two", 3.5}}, "m": map[string]string{"k": "v"}, "p": 7},
		[]any{obj{"n": 1.25}, "s"},
	)
	return out
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for _, v := range marshalCases() {
		want, werr := json.Marshal(v)
		got, gerr := marshal(v)
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%#v:\n got %s (%v)\nwant %s (%v)", v, got, gerr, want, werr)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		if _, err := marshal(obj{"x": f}); err == nil {
			t.Errorf("%v encoded", f)
		}
	}
}

func FuzzMarshalString(f *testing.F) {
	f.Add("<&>\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(obj{s: []string{s}})
		got, err := marshal(obj{s: []string{s}})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

// BenchmarkDevicePayloadFixtures renders every golden fixture (lights,
// covers, fans, sensors, cameras, ...) once per iteration: the discovery
// cost of a mixed fleet.
func BenchmarkDevicePayloadFixtures(b *testing.B) {
	fs := fixtures()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		for i := range fs {
			p, err := testConfig.DevicePayload(fs[i].vendor, &fs[i].device, fs[i].override)
			if err != nil {
				b.Fatal(err)
			}
			n += len(p)
		}
	}
	b.ReportMetric(float64(len(fs)), "devices/op")
	b.ReportMetric(float64(n), "bytes/op")
}
