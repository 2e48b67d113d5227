package expeed

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	z, err := loadZone("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// The history example's cursor 1486958400000 is its first record's time read
// as China time: the default zone.
func TestTimestampChinaTime(t *testing.T) {
	z := shanghai(t)
	at, err := parseStamp(" 2017-02-13T12-00-00-000", z)
	if err != nil || at.UnixMilli() != 1486958400000 {
		t.Fatalf("got %v %v (%d), want 1486958400000 ms", at, err, at.UnixMilli())
	}
	for in, wantMS := range map[string]int64{
		"2017-02-13T12-00-00-123":   1486958400123,
		"2017-02-13T12:00:00.5":     1486958400500,
		"2017-02-13 12-00-01":       1486958401000,
		"2017-02-13T04:00:00Z":      1486958400000,
		"1486958400":                1486958400000,
		"1486958400123":             1486958400123,
		"2024-05-01T08-30-05-000":   time.Date(2024, 5, 1, 0, 30, 5, 0, time.UTC).UnixMilli(),
		"2017-02-13T12:00:00+08:00": 1486958400000,
	} {
		got, err := parseStamp(in, z)
		if err != nil || got.UnixMilli() != wantMS {
			t.Errorf("%q: got %d %v, want %d", in, got.UnixMilli(), err, wantMS)
		}
	}
	for _, bad := range []string{"", "2017-02-30T12-00-00-000", "2017-13-01T00-00-00-000", "2017-02-13T25-00-00-000", "yesterday", "2017-02-13T12-00-00-0000"} {
		if _, err := parseStamp(bad, z); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if got := formatStamp(time.UnixMilli(1486958400123), z); got != "2017-02-13T12-00-00-123" {
		t.Errorf("format: %s", got)
	}
	utc, _ := loadZone("+00:00")
	if at, _ := parseStamp("2017-02-13T12-00-00-000", utc); at.UnixMilli() != 1486958400000+8*3600*1000 {
		t.Errorf("timezone +00:00 not applied: %v", at)
	}
	if _, err := loadZone("Nowhere/Else"); err == nil {
		t.Error("unknown zone accepted")
	}
}

// Test vectors of the protocol notes, token mytoken, nonce abc123, timestamp 1500000000.
func TestSignatureVectors(t *testing.T) {
	all := []string{sigHexLower, sigHexUpper, sigRaw}
	for sig, want := range map[string]string{
		"7296729774603f5de43253a32f17cc77": sigHexLower,
		"D613182D30ECDB24268EE30E8ECD4743": sigHexUpper,
		"029d473a161dbee08872abf86e8b658a": sigRaw,
		"9085f4750cc1ec27b9437a506b0aba2c": "",
	} {
		if got := matchSignature("mytoken", "abc123", "1500000000", sig, all); got != want {
			t.Errorf("%s matched %q, want %q", sig, got, want)
		}
	}
	if got := matchSignature("mytoken", "abc123", "1500000000", "029d473a161dbee08872abf86e8b658a", []string{sigHexLower}); got != "" {
		t.Errorf("a variant outside the list matched: %s", got)
	}
}

func TestLooseTypes(t *testing.T) {
	var v struct {
		A, B, C looseInt
		D, E    looseString
	}
	if err := json.Unmarshal([]byte(`{"A":"3","B":3,"C":" 2.0 ","D":10086,"E":" m-1 "}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.V != 3 || v.B.V != 3 || v.C.V != 2 || v.D != "10086" || v.E != "m-1" {
		t.Fatalf("%+v", v)
	}
	for _, bad := range []string{`{"A":"x"}`, `{"A":2.5}`, `{"A":[1]}`, `{"D":{}}`, `{"D":true}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// Big ids keep their digits.
	var s looseString
	_ = json.Unmarshal([]byte(`12345678901234567890`), &s)
	if s != "12345678901234567890" {
		t.Errorf("big message_id became %s", s)
	}
}

func TestDecoders(t *testing.T) {
	z := shanghai(t)
	tok, err := decodeToken([]byte(`{"result_code":0,"access_token":"zzz","expires_in":"7200","result_message":"ok"}`))
	if err != nil || tok.Token != "zzz" || tok.ExpiresIn != 2*time.Hour {
		t.Fatalf("%+v %v", tok, err)
	}
	if _, err := decodeToken([]byte(`{"result_code":1,"result_message":"验证失败"}`)); err == nil || !strings.Contains(err.Error(), "result_code 1") {
		t.Fatalf("refused token: %v", err)
	}
	if on, err := decodeStatus([]byte(`{"result_code":0,"device_status":1,"result_message":"ok"}`)); err != nil || !on {
		t.Fatalf("status %v %v", on, err)
	}
	if _, err := decodeStatus([]byte(`{"result_code":0}`)); err == nil {
		t.Error("status without device_status accepted")
	}
	rec, err := decodeCurrent([]byte(`{"result_code":0,"result_message":"ok","data":{"timestamp":" 2017-02-13T12-00-00-000","temp":26,"switch":1}}`), z)
	if err != nil || rec.At.UnixMilli() != 1486958400000 || len(rec.Values) != 2 {
		t.Fatalf("%+v %v", rec, err)
	}
	page, err := decodeHistory([]byte(`{"result_code":0,"result_message":"ok","cursor":1486958400000,"data":[{"timestamp":"2017-02-13T12-00-00-000","temp":26,"switch":2},{"timestamp":"2017-02-13T12-00-01-000","temp":27}]}`), z)
	if err != nil || page.Cursor != "1486958400000" || len(page.Records) != 2 || len(page.Records[1].Values) != 1 {
		t.Fatalf("%+v %v", page, err)
	}
	if id, err := decodeSetting([]byte(`{"result_code":0,"result_message":"ok","message_id":10086}`)); err != nil || id != "10086" {
		t.Fatalf("%q %v", id, err)
	}
	for _, bad := range []string{``, `[]`, `<html>`, `{"result_message":"ok"}`, `{"result_code":0,"data":5}`} {
		if _, err := decodeCurrent([]byte(bad), z); err == nil {
			t.Errorf("current %q accepted", bad)
		}
	}
	// result_msg is read where result_message is missing.
	err = decodeEnvelope([]byte(`{"result_code":"3","result_msg":"设备不在线"}`), nil)
	if err == nil || !strings.Contains(err.Error(), "设备不在线") {
		t.Errorf("envelope: %v", err)
	}
	if got := vendors.Code(classify("device_setting", err)); got != vendors.CodeOffline {
		t.Errorf("code 3 on a setting is %s", got)
	}
	if got := vendors.Code(classify("datapoints", err)); got != vendors.CodeInvalidValue {
		t.Errorf("code 3 on history is %s", got)
	}
	if got := vendors.Code(classify("device_status", err)); got != vendors.CodeForbidden {
		t.Errorf("code 3 on status is %s", got)
	}
}

func TestPushDecoding(t *testing.T) {
	z := shanghai(t)
	p, err := decodePush([]byte(`{"msg_type":"1"，"device_id":"D1"}`), z)
	if err == nil {
		t.Errorf("full-width comma accepted: %+v", p)
	}
	p, err = decodePush([]byte(`{"msg_type": "1", "device_id": "D0001", "device_key": "K", "device_sn": "SN0001", "device_status": 0}`), z)
	if err != nil || p.MsgType != 1 || p.DeviceID != "D0001" || p.DeviceKey != "K" || p.DeviceSN != "SN0001" || p.Status != 0 {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = decodePush([]byte(`{"msg_type": 3, "message_id": 10086, "device_id": "D0001", "set_result": "1"}`), z)
	if err != nil || p.MessageID != "10086" || !p.SetFailed {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = decodePush([]byte(`{"device_id":"D0001","device_key":"K","msg_type":"2","data":[{"timestamp":"2017-02-13T12-00-01-000","temp":26,"switch":1},{"timestamp":"2017-02-13T12-00-00-000","temp":25},{"temp":24}]}`), z)
	if err != nil || len(p.Records) != 3 {
		t.Fatalf("%+v %v", p, err)
	}
	sortRecords(p.Records)
	if p.Records[0].At.Second() != 0 || p.Records[1].At.Second() != 1 || !p.Records[2].At.IsZero() {
		t.Errorf("order %v %v %v", p.Records[0].At, p.Records[1].At, p.Records[2].At)
	}
}

func TestDatapointConversion(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	sp, err := newSpec("settemp", datapointConfig{Platform: "number", Min: f(5), Max: f(35), Step: f(0.5), Scale: 0.1, Unit: "°C"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := sp.decode(json.RawMessage(`215`)); v != 21.5 {
		t.Errorf("decode 215 → %v", v)
	}
	for in, want := range map[float64]string{21.26: "215", 5: "50", 35: "350", 20.74: "205"} {
		raw, err := sp.encode(in)
		if err != nil || string(raw) != want {
			t.Errorf("encode %v → %s %v, want %s", in, raw, err, want)
		}
	}
	sw, err := newSpec("power_state", datapointConfig{Platform: "switch", On: "on", Off: "off"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := sw.decode(json.RawMessage(`"on"`)); v != vendors.On {
		t.Errorf("string switch: %v", v)
	}
	if raw, _ := sw.encode(false); string(raw) != `"off"` {
		t.Errorf("string off: %s", raw)
	}
	sel, err := newSpec("mode", datapointConfig{Platform: "select", Options: map[string]string{"2": "boost", "0": "eco", "1": "comfort"}})
	if err != nil || strings.Join(sel.Entity.Options, ",") != "eco,comfort,boost" {
		t.Fatalf("%v %v", sel, err)
	}
	if v, _ := sel.decode(json.RawMessage(`"1"`)); v != "comfort" {
		t.Errorf("select decode: %v", v)
	}
	if raw, _ := sel.encode("boost"); string(raw) != "2" {
		t.Errorf("select encode: %s", raw)
	}
	if _, err := sel.encode("turbo"); vendors.Code(err) != vendors.CodeInvalidValue {
		t.Errorf("unknown option: %v", err)
	}
	g, err := newSpec("Energy", datapointConfig{Scale: 0.001})
	if err != nil || g.Entity.DeviceClass != "energy" || g.Entity.StateClass != "total_increasing" || g.Entity.Key != "energy" {
		t.Fatalf("guessed energy: %+v %v", g, err)
	}
	if v, _ := g.decode(json.RawMessage(`123456`)); v != 123.456 {
		t.Errorf("scaled energy %v", v)
	}
	if k := keyFromName("PM2.5"); k != "pm2_5" {
		t.Errorf("key %s", k)
	}
	if k := keyFromName("set"); k != "set_dp" {
		t.Errorf("reserved key %s", k)
	}
}

func TestSettingResultBeforeItsWaiter(t *testing.T) {
	p := newPendingResults()
	now := time.Now()
	if p.deliver("m-1", true, now) {
		t.Fatal("matched with nobody waiting")
	}
	ch, cancel := p.wait("m-1", now.Add(time.Second))
	defer cancel()
	select {
	case failed := <-ch:
		if !failed {
			t.Error("result lost its outcome")
		}
	default:
		t.Fatal("an early result was not kept for its command")
	}
	// Kept a minute only.
	p.deliver("m-2", false, now)
	ch2, cancel2 := p.wait("m-2", now.Add(2*time.Minute))
	defer cancel2()
	select {
	case <-ch2:
		t.Error("a stale result matched")
	default:
	}
	for i := 0; i < 2*earlyMax; i++ {
		p.deliver(string(rune('a'+i%26))+time.Duration(i).String(), false, now)
	}
	if len(p.early) > earlyMax {
		t.Errorf("%d early results kept", len(p.early))
	}
}
