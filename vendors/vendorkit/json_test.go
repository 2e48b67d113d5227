package vendorkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// referenceJSON is what DecodeJSON must match: encoding/json.
func referenceJSON(b []byte, useNumber bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if useNumber {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if err := dec.Decode(new(any)); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

func checkDecodeJSON(t *testing.T, b []byte) {
	t.Helper()
	for _, useNumber := range []bool{false, true} {
		want, werr := referenceJSON(b, useNumber)
		got, err := DecodeJSON(b, useNumber)
		if (err != nil) != (werr != nil) {
			t.Fatalf("DecodeJSON(%q, %v): error %v, encoding/json: %v", b, useNumber, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeJSON(%q, %v) = %#v, encoding/json: %#v", b, useNumber, got, want)
		}
	}
	// EachJSONField yields exactly the fields Unmarshal sees, raw.
	var wantFields map[string]json.RawMessage
	werr := json.Unmarshal(b, &wantFields)
	if werr == nil && wantFields == nil { // null
		werr = errors.New("null")
	}
	got := map[string]json.RawMessage{}
	err := EachJSONField(b, func(k string, raw []byte) error {
		got[k] = append(json.RawMessage(nil), raw...)
		return nil
	})
	if (err != nil) != (werr != nil) {
		t.Fatalf("EachJSONField(%q): error %v, encoding/json: %v", b, err, werr)
	}
	if err == nil && !reflect.DeepEqual(got, wantFields) {
		t.Fatalf("EachJSONField(%q) = %q, encoding/json: %q", b, got, wantFields)
	}
}

var jsonCases = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e3`, `-12.25E-2`, `"x"`, ` {"a" : [1, "b", null, {"c":{}}] } `,
	`{"event":"Shelly:StatusOnChange","deviceId":"b48a0a1cd978","status":{"switch:0":{"id":0,"apower":100.5}}}`,
	`{"a":1,"a":2}`, `{"\u0061":"\ud83d\ude00 \ud800 é"}`, "\"\xff\xfe\"", `"a\"b\\c\/\b\f\n\r\t"`,
	`1e400`, `-1e400`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`,
	`"\x"`, `"\u12"`, "\"a\tb\"", `tru`, `nul`, `{"a":1}x`, `{"a":1} {}`, ``, ` `, `"`, `{"a":`, `[`,
	manyFields(40), manyFields(40) + `,`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"a":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat("}", 10001),
}

// manyFields is an object with more fields than EachJSONField keeps on its
// stack.
func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(`,"f` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	return "{" + b.String()[1:] + "}"
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkDecodeJSON(t, []byte(c))
	}
}

func TestEachJSONFieldStopsOnError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := EachJSONField([]byte(`{"a":1,"b":2}`), func(string, []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, n)
	}
	n = 0
	if err := EachJSONField([]byte(`{"a":1,"b":}`), func(string, []byte) error { n++; return nil }); err == nil || n != 0 {
		t.Fatalf("broken object: err %v after %d calls, want an error and no call", err, n)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeJSON(t, b) })
}

var benchFrame = []byte(`{"action":"update","deviceid":"1000a00006","apikey":"user-abc","userAgent":"device","params":{"power":"57.30","voltage":"229.81","current":"0.25"},"from":"device","ts":0,"d_seq":1764690000000}`)

func BenchmarkDecodeJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeJSON(benchFrame, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalJSON is the baseline DecodeJSON replaces.
func BenchmarkUnmarshalJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(benchFrame, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodedKeysAreShared(t *testing.T) {
	a, _ := DecodeJSON([]byte(`{"apower":1}`), false)
	b, _ := DecodeJSON([]byte(`{"apower":2}`), false)
	keyOf := func(v any) string {
		for k := range v.(map[string]any) {
			return k
		}
		return ""
	}
	if ka, kb := keyOf(a), keyOf(b); unsafe.StringData(ka) != unsafe.StringData(kb) {
		t.Fatal("the same key decoded twice is two copies")
	}
	long := strings.Repeat("k", maxInternedLen+1)
	c, _ := DecodeJSON([]byte(`{"`+long+`":1}`), false)
	d, _ := DecodeJSON([]byte(`{"`+long+`":1}`), false)
	if unsafe.StringData(keyOf(c)) == unsafe.StringData(keyOf(d)) {
		t.Fatal("a long key was interned")
	}
	for i := range maxInterned + 10 {
		internKey([]byte("k" + strconv.Itoa(i)))
	}
	if n := jsonKeys.size(); n > maxInterned {
		t.Fatalf("%d interned keys, the bound is %d", n, maxInterned)
	}
}

func TestDecodeJSONFields(t *testing.T) {
	var name, upper string
	var raw json.RawMessage
	var seen []byte
	fields := []JSONField{
		{Name: "Name", Dst: &upper}, {Name: "name", Dst: &name}, {Name: "raw", Dst: &raw},
		{Name: "f", Dst: func(b []byte) error { seen = append(seen, b...); return nil }},
	}
	in := []byte(`{"name":"exact","NAME":"folded","raw":[1, 2],"f":true,"other":{}}`)
	if err := DecodeJSONFields(in, fields); err != nil {
		t.Fatal(err)
	}
	// "name" matches its field exactly; "NAME" goes to the first field it folds to, as in encoding/json.
	if name != "exact" || upper != "folded" || string(raw) != "[1, 2]" || string(seen) != "true" {
		t.Fatalf("name %q, Name %q, raw %s, f saw %s", name, upper, raw, seen)
	}
	copy(in, bytes.Repeat([]byte("x"), len(in)))
	if string(raw) != "[1, 2]" {
		t.Fatal("a raw value aliases the input")
	}
	if err := DecodeJSONFields([]byte(`{"n":1}`), []JSONField{{Name: "n", Dst: new(int)}}); err == nil {
		t.Fatal("an unsupported destination gave no error")
	}
}

// TestSetJSONString holds SetJSONString to json.Unmarshal into a string,
// on its short path (plain ASCII) and off it.
func TestSetJSONString(t *testing.T) {
	for _, raw := range []string{`"plain"`, `""`, `"a\"b"`, `"h\u00e9"`, `"héllo"`, `"x" `, ` "x"`, `null`, `1`, `"open`, `"a` + "\x01" + `"`, `{}`} {
		got, want := "kept", "kept"
		err := SetJSONString([]byte(raw), &got)
		wantErr := json.Unmarshal([]byte(raw), &want)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("%s: got %q, %v; json.Unmarshal %q, %v", raw, got, err, want, wantErr)
		}
	}
}

func TestInternString(t *testing.T) {
	var in Interner
	a := in.InternString(strings.Clone("SONOFF"))
	b := in.InternString(strings.Clone("SONOFF"))
	if a != "SONOFF" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("the same string interned twice is two copies")
	}
	if c := in.InternString(string([]byte{'S', 'O', 'N', 'O', 'F', 'F'})); unsafe.StringData(c) != unsafe.StringData(a) {
		t.Fatal("InternString and Intern disagree")
	}
	long := strings.Repeat("x", maxInternedLen+1)
	if got := in.InternString(long); unsafe.StringData(got) != unsafe.StringData(long) || in.size() != 1 {
		t.Fatal("a long string was interned")
	}
}
