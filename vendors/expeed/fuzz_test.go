package expeed

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Seeds: the protocol notes' examples, cleaned and as the seed prints them.
var pushSeeds = []string{
	`{"msg_type": "1", "device_id": "D0001", "device_key": "K-PRODUCT", "device_sn": "SN0001", "device_status": 0}`,
	`{"msg_type":"1"，"device_id":xxx，"device_key":xxx,"device_sn":xxx,"device_status":0}`,
	`{"device_id": "D0001", "device_key": "K-PRODUCT", "msg_type": "2", "data": [{"timestamp": "2017-02-13T12-00-00-000", "temp": 26, "switch": 1}, {"timestamp": "2017-02-13T12-00-00-000", "temp": 26}]}`,
	`{"device_id":xxx "device_key":xxx "msg_type":"2" data:[{"timestamp":"2017-02-13T12-00-00-000","value1":xx}]}`,
	`{"msg_type": 3, "message_id": "10086", "device_id": "D0001", "set_result": 0}`,
	`{"msg_type":3; "message_id": xxx "device_id":xxx "set_result":0}`,
	`msg_type=2&device_id=D0001&data=%5B%7B%22temp%22%3A1%7D%5D`,
	`{"msg_type":"2","device_id":"D0001","data":{"temp":"26.5","timestamp":1486958400000}}`,
	`{"msg_type":9}`,
	``,
}

func FuzzPushBody(f *testing.F) {
	for _, s := range pushSeeds {
		f.Add([]byte(s))
	}
	z := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePush(body, z)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty reason")
			}
			return
		}
		switch p.MsgType {
		case msgOnline:
			if p.DeviceID == "" || (p.Status != 0 && p.Status != 1) {
				t.Fatalf("accepted %+v", p)
			}
		case msgData:
			if p.DeviceID == "" || len(p.Records) > maxRecords {
				t.Fatalf("accepted %+v", p)
			}
		case msgSetting:
			if p.MessageID == "" {
				t.Fatalf("accepted %+v", p)
			}
		}
	})
}

// fuzzAdapter is an adapter with one configured thermostat.
func fuzzAdapter(t testing.TB) *Adapter {
	const config = `platform_key: pk
secret_key: sk
base_url: http://127.0.0.1:1/v1
push_secret: 0123456789abcdef0123
push_token: mytoken
push_max_skew: 0s
learn_devices: true
devices:
  - device_id: D0001
    device_key: K-PRODUCT
    datapoints:
      temp: {scale: 0.1}
      switch: {platform: switch}
      settemp: {platform: number, min: 5, max: 35, scale: 0.1}
      mode: {platform: select, options: {0: eco, 1: comfort}}
`
	a, err := New(vendors.Env{Account: "fuzz", Log: zerolog.Nop()}, func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(config))
		dec.KnownFields(true)
		return dec.Decode(v)
	})
	if err != nil {
		t.Fatal(err)
	}
	return a.(*Adapter)
}

// The whole receiver on any body: a known status, never a panic.
func FuzzPushHandler(f *testing.F) {
	for _, s := range pushSeeds {
		f.Add([]byte(s))
	}
	a := fuzzAdapter(f)
	path := a.Routes()[0].Path
	f.Fuzz(func(t *testing.T, body []byte) {
		rw := httptest.NewRecorder()
		a.serveHTTP(rw, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body))))
		switch rw.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d", rw.Code)
		}
	})
}

// The verification GET on any query: 200 only with a valid signature, and
// then the body is the nonce.
func FuzzVerifyQuery(f *testing.F) {
	f.Add("signature=7296729774603f5de43253a32f17cc77&nonce=abc123&timestamp=1500000000")
	f.Add("signature=D613182D30ECDB24268EE30E8ECD4743&nonce=abc123&timestamp=1500000000")
	f.Add("signature=029d473a161dbee08872abf86e8b658a&nonce=abc123&timestamp=1500000000")
	f.Add("signature=&nonce=&timestamp=")
	f.Add("nonce=%ZZ&signature=x")
	f.Add("signature=x&nonce=abc&timestamp=2017-02-13T12-00-00-000")
	a := fuzzAdapter(f)
	path := a.Routes()[0].Path
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.URL.RawQuery = query
		rw := httptest.NewRecorder()
		a.serveHTTP(rw, req)
		q, _ := url.ParseQuery(query)
		switch rw.Code {
		case http.StatusOK:
			if matchSignature("mytoken", q.Get("nonce"), q.Get("timestamp"), q.Get("signature"), a.s.PushSignatureVariants) == "" {
				t.Fatal("verified without a valid signature")
			}
			if rw.Body.String() != q.Get("nonce") {
				t.Fatal("the reply is not the nonce")
			}
		case http.StatusBadRequest, http.StatusForbidden:
		default:
			t.Fatalf("status %d", rw.Code)
		}
	})
}

func FuzzAnswers(f *testing.F) {
	for _, s := range []string{
		`{"result_code":0,"access_token":"zzz","expires_in":7200,"result_message":"ok"}`,
		`{"result_code":1,"result_message":"验证失败"}`,
		`{"result_code":0,"device_status":1,"result_message":"ok"}`,
		`{"result_code":0;"result_message":"ok""data":{"timestamp":" 2017-02-13T12-00-00-000","xxx":0,"yyy":2}}`,
		`{"result_code":0,"result_message":"ok","data":{"timestamp":"2017-02-13T12-00-00-000","temp":26,"switch":1}}`,
		`{"result_code":0,"result_message":"ok","cursor":1486958400000,"data":[{"timestamp":"2017-02-13T12-00-00-000","temp":26,"switch":2},{"timestamp":"2017-02-13T12-00-01-000","temp":27}]}`,
		`{"result_code":"0","result_message":"ok","message_id":"10086"}`,
		`{"result_code":3,"result_msg":"设备不在线"}`,
		`<html>502</html>`,
	} {
		f.Add([]byte(s))
	}
	z := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, body []byte) {
		if tok, err := decodeToken(body); err == nil && (tok.Token == "" || tok.ExpiresIn <= 0) {
			t.Fatalf("token answer accepted: %+v", tok)
		}
		_, _ = decodeStatus(body)
		if rec, err := decodeCurrent(body, z); err == nil && rec.Values == nil {
			t.Fatal("current answer without values")
		}
		if page, err := decodeHistory(body, z); err == nil {
			sortRecords(page.Records)
		}
		if id, err := decodeSetting(body); err == nil && id == "" {
			t.Fatal("setting answer without message_id")
		}
	})
}

func FuzzParseStamp(f *testing.F) {
	for _, s := range []string{"2017-02-13T12-00-00-000", " 2017-02-13T12-00-00-000", "2017-02-13T12-00-00-123", "2017-02-13 12:00:00.5",
		"1486958400000", "1486958400", "2017-02-13T04:00:00Z", "2017-02-30T12-00-00-000", "9999-99-99T99-99-99-999", "-1"} {
		f.Add(s)
	}
	z := time.FixedZone("CST", 8*3600)
	f.Fuzz(func(t *testing.T, s string) {
		at, err := parseStamp(s, z)
		if err != nil || !stampPattern.MatchString(strings.TrimSpace(s)) {
			return
		}
		back, err := parseStamp(formatStamp(at, z), z)
		if err != nil || !back.Equal(at) {
			t.Fatalf("%q → %v → %q → %v %v", s, at, formatStamp(at, z), back, err)
		}
	})
}

func FuzzDatapointValue(f *testing.F) {
	for _, s := range []string{`26`, `"26.5"`, `1`, `"on"`, `true`, `null`, `{"a":1}`, `[1,2]`, `1e400`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	a := fuzzAdapter(f)
	d := a.devices["D0001"]
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, sp := range d.specs {
			_, _ = sp.decode(raw)
		}
		learnedSpec("x", "x", raw).decode(raw)
	})
}

// FuzzHistoryParams decodes bridge/request/expeed/history bodies (user input
// from MQTT): a refused body has a result code, an accepted one is in range.
func FuzzHistoryParams(f *testing.F) {
	for _, s := range []string{
		`{"device":"D0001"}`,
		`{"device":"expeed/D0001","datapoints":["temp","switch"],"start":"2017-02-13T12-00-00-000","end":"2017-02-13T13-00-00-000","limit":50,"order":"oldest","max_pages":2}`,
		`{"device":"D0001","datapoints":"temp,settemp","cursor":1486958400000}`,
		`{"device":"D0001","start":"2017-02-13T04:00:00Z"}`,
		`{"device":"D0001","limit":0.5}`, `{"device":"nope"}`, `{"x":1}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	a := fuzzAdapter(f)
	f.Fuzz(func(t *testing.T, params []byte) {
		q, err := a.historyQuery(params)
		if err != nil {
			if vendors.Code(err) == "" {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if q.dev == nil || q.key == "" || q.limit < 1 || q.limit > 6000 || q.maxPages < 1 || q.end.Before(q.start) {
			t.Fatalf("accepted query out of range: %+v", q)
		}
	})
}
