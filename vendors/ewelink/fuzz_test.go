package ewelink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// FuzzDecodeFrame: any WebSocket frame decodes to a frame or an error, and
// to the frame json.Unmarshal reads.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`pong`,
		`{"error":0,"apikey":"U","config":{"hb":1,"hbInterval":145},"sequence":"1767225600000"}`,
		`{"error":406,"reason":"Authentication Failed"}`,
		`{"action":"update","deviceid":"1000abcd12","apikey":"U","userAgent":"device","params":{"switch":"on"},"ts":0,"from":"device","d_seq":1574303644676}`,
		`{"action":"sysmsg","deviceid":"1000abcd12","apikey":"U","ts":15452192511,"params":{"online":false}}`,
		`{"error":0,"deviceid":"1000abcd12","apikey":"U","sequence":"1767225601000"}`,
		`{"error":0,"deviceid":"1000abcd12","apikey":"U","params":{"switch":"on"},"sequence":1767225601000}`,
		`{"error":504,"deviceid":"1","sequence":"2"}`,
		`{"error":0,"deviceid":"1","config":{"switch":"on"},"sequence":"3"}`,
		`{"config":{"hb":"1","hbInterval":"0.5"}}`,
		`{"action":"update","params":[1,2]}`,
		`{"error":"x"}`, `[]`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		checkFrameLikeUnmarshal(t, b, fr, err)
		if err != nil {
			return
		}
		_ = fr.code()
		if p, ok := fr.reportParams(); ok && p == nil {
			t.Fatal("ok without params")
		}
		if on, iv, err := fr.heartbeat(); err == nil && on && iv <= 0 {
			t.Fatalf("heartbeat interval %v", iv)
		}
	})
}

func checkFrameLikeUnmarshal(t *testing.T, b []byte, got frame, err error) {
	t.Helper()
	b = bytes.TrimSpace(b)
	if string(b) == "pong" {
		return
	}
	var want frame
	werr := json.Unmarshal(b, &want)
	if werr == nil && (len(b) == 0 || b[0] != '{') {
		werr = errors.New("not an object")
	}
	if (err != nil) != (werr != nil) {
		t.Fatalf("decodeFrame(%q): error %v, json.Unmarshal: %v", b, err, werr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeFrame(%q) = %+v, json.Unmarshal: %+v", b, got, want)
	}
	if err == nil {
		for _, raw := range []json.RawMessage{got.Params, got.Config} {
			p, perr := decodeParams(raw)
			var wp params
			dec := json.NewDecoder(bytes.NewReader(bytes.TrimSpace(raw)))
			dec.UseNumber()
			wperr := dec.Decode(&wp)
			if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
				wp, wperr = params{}, nil
			}
			if (perr != nil) != (wperr != nil) || perr == nil && !reflect.DeepEqual(p, wp) {
				t.Fatalf("decodeParams(%q) = %v, %v; encoding/json: %v, %v", raw, p, perr, wp, wperr)
			}
		}
	}
}

// FuzzThingList: any thing list or status body yields devices that validate.
func FuzzThingList(f *testing.F) {
	f.Add([]byte(`{"total":2,"thingList":[{"itemType":1,"index":0,"itemData":{"name":"Desk lamp","deviceid":"1000abcd12","apikey":"owner","online":true,"brandName":"SONOFF","productModel":"BASICR2","extra":{"uiid":1,"model":"PSF-BD1-GL"},"params":{"switch":"off","startup":"stay","pulse":"off","pulseWidth":500,"sledOnline":"on","fwVersion":"3.5.1","rssi":-61},"tags":{"ck_channel_name":{"0":"Lamp"}}}},{"itemType":3,"index":1,"itemData":{"id":"group-id","name":"All lights","mainDeviceId":"1000abcd12","params":{}}}]}`))
	f.Add([]byte(`{"thingList":[{"itemType":"2","index":"5","itemData":{"deviceid":"a48","online":"true","extra":{"uiid":"4256"},"params":{"switches":[{"switch":"on","outlet":"1"},{"outlet":99}],"parentid":"x"}}}]}`))
	f.Add([]byte(`{"thingList":[{"itemType":1,"itemData":{"deviceid":"x","extra":{"uiid":28},"params":{"rfList":[{"rfChl":1}]},"tags":{"zyx_info":[{"name":"R","buttonName":[{"1":"B"}]}]}}}]}`))
	f.Add([]byte(`{"params":{"switch":"on","currentTemperature":"unavailable"}}`))
	f.Add([]byte(`{"thingList":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		devs, _, _, err := decodeThingPage(b)
		if err != nil {
			return
		}
		for _, d := range devs {
			p, err := decodeParams(d.Params)
			if err != nil {
				continue
			}
			tags, _ := decodeParams(d.Tags)
			th := &thing{id: d.DeviceID, uiid: int(d.Extra.UIID), online: bool(d.Online), cur: p, tags: tags, book: &energyBook{log: zerolog.Nop()}}
			th.build()
			if err := th.device.Validate(); err != nil {
				t.Fatalf("device from %s does not validate: %v", b, err)
			}
			_ = th.values()
		}
		var env envelope
		if json.Unmarshal(b, &env) == nil {
			_, _ = decodeParams(env.Data)
		}
	})
}

// FuzzCallbackQuery: the OAuth redirect's query never panics and only
// yields a code, a known region and a state.
func FuzzCallbackQuery(f *testing.F) {
	for _, s := range []string{
		"code=95bcf41b-3397-46da-886f-fdc852de84ca&region=eu&state=abc",
		"code=x&region=mars&state=s", "state=s", "code=%zz", "code=a&code=b&state=c&region=",
		"code=" + string(make([]byte, 300)) + "&state=s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		c, err := parseCallback(q)
		if err != nil {
			return
		}
		if c.code == "" || c.state == "" || (c.region != "" && !regions[c.region]) || !printable(c.code) {
			t.Fatalf("accepted %+v from %q", c, q)
		}
	})
}

// FuzzUIIDParams: any params for any uiid map to valid entities, and every
// writable entity turns a typical command into params without panicking.
func FuzzUIIDParams(f *testing.F) {
	seeds := []struct {
		uiid int
		js   string
	}{
		{1, `{"switch":"on","startup":"stay","pulse":"off","pulseWidth":500,"sledOnline":"on","rssi":-61}`},
		{4, `{"switches":[{"switch":"on","outlet":0},{"switch":"off","outlet":3}],"configure":[{"startup":"on","outlet":0}]}`},
		{126, `{"workMode":2,"currLocation":"40","actPow_00":"12"}`},
		{126, `{"switches":[],"kwhHistories_00":"0a250001","kwhHistories_01":"zz"}`},
		{5, `{"switch":"on","power":"12.3","hundredDaysKwhData":"190101000509"}`},
		{190, `{"switches":[],"hoursKwhData":"a05012","power":"x"}`},
		{15, `{"switch":"on","currentTemperature":"unavailable","currentHumidity":"48"}`},
		{22, `{"state":"on","zyx_mode":2,"channel2":"300","channel3":"-1"}`},
		{104, `{"switch":"on","ltype":"color","color":"oops"}`},
		{3258, `{"switch":"on","colorMode":"rgb","hue":"1e9","saturation":null}`},
		{11, `{"switch":"pause","setclose":"150"}`},
		{34, `{"switches":[{"switch":"on","outlet":3}]}`},
		{28, `{"rfList":[{"rfChl":-1},{"rfChl":"2"}],"rfTrig2":"t"}`},
		{1000, `{"key":"7","trigTime":1,"outlet":9}`},
		{9999, `{"switches":[{"switch":"on","outlet":40}]}`},
	}
	for _, s := range seeds {
		f.Add(s.uiid, []byte(s.js), []byte(`{"switch":"off","trigTime":"5","key":1}`))
	}
	// scalar readings of params the device has (valuesAfter's path)
	f.Add(1, []byte(`{"switch":"on","startup":"stay","pulse":"off","pulseWidth":500,"sledOnline":"on","rssi":-61}`), []byte(`{"switch":"off","rssi":-70,"pulseWidth":1000}`))
	f.Add(32, []byte(`{"switch":"on","startup":"on","power":"12.3","voltage":"230","current":"0.05","rssi":-50}`), []byte(`{"power":"13.1","current":"0.06"}`))
	f.Add(15, []byte(`{"switch":"on","currentTemperature":"21.5","currentHumidity":"48"}`), []byte(`{"currentTemperature":"22"}`))
	// scalar updates that do change the device (details, mode, gateway)
	f.Add(1, []byte(`{"switch":"on","fwVersion":"3.5.0","staMac":"AA:BB","parentid":"g1"}`), []byte(`{"fwVersion":"3.6.0"}`))
	f.Add(1, []byte(`{"switch":"on","staMac":"AA:BB"}`), []byte(`{"staMac":"CC:DD"}`))
	f.Add(1, []byte(`{"switch":"on","parentid":"g1"}`), []byte(`{"parentid":"g2"}`))
	f.Add(126, []byte(`{"workMode":1,"switches":[]}`), []byte(`{"workMode":2}`))
	values := []any{true, false, 0.0, 1000.0, "on", "stay", nil,
		vendors.LightCommand{On: ptr(true), Brightness: ptr(128), ColorTemp: ptr(3000), Color: &vendors.Color{R: 1, G: 2, B: 3}, Effect: "read"},
		vendors.CoverCommand{Position: ptr(40)}, vendors.CoverCommand{Action: vendors.CoverActionOpen},
		vendors.FanCommand{Percentage: ptr(50)}, vendors.FanCommand{On: ptr(true)}}
	f.Fuzz(func(t *testing.T, uiid int, js, upd []byte) {
		p, err := decodeParams(js)
		if err != nil {
			return
		}
		th := &thing{id: "dev", uiid: uiid, online: true, cur: p, book: &energyBook{log: zerolog.Nop()}}
		th.build()
		if err := th.device.Validate(); err != nil {
			t.Fatalf("uiid %d %s: %v", uiid, js, err)
		}
		if u, err := decodeParams(upd); err == nil {
			for _, f := range th.spec.features {
				if o, ok := f.(observer); ok {
					for _, ev := range o.observe(th, u, true) {
						e, ok := th.entity(ev.key)
						if !ok || !contains(e.Options, ev.typ) {
							t.Fatalf("event %s/%s is not an option of an entity", ev.key, ev.typ)
						}
					}
				}
			}
			rebuild := th.needsBuild(u)
			before, beforeVals := th.device, th.values()
			th.params().merge(u)
			if th.build() && !rebuild || !rebuild && !reflect.DeepEqual(before, th.device) {
				t.Fatalf("uiid %d: update %s changed the device, but needsBuild said no", uiid, upd)
			}
			if !rebuild {
				// What valuesAfter skips has not changed: it holds every
				// value that changed, and what it holds is the full value.
				full, got := th.values(), th.valuesAfter(u)
				for k, v := range full {
					if old, ok := beforeVals[k]; !ok || !vendors.EqualValue(old, v) {
						if g, ok := got[k]; !ok || !vendors.EqualValue(g, v) {
							t.Fatalf("uiid %d: update %s: %s changed to %v, valuesAfter %v", uiid, upd, k, v, got)
						}
					}
				}
				for k, v := range got {
					if f, ok := full[k]; !ok || !vendors.EqualValue(f, v) {
						t.Fatalf("uiid %d: update %s: valuesAfter %s=%v, the full values %v", uiid, upd, k, v, full)
					}
				}
			}
		}
		for _, e := range th.device.Entities {
			c, ok := th.owner(e.Key).(commander)
			if !ok || !e.Writable {
				continue
			}
			for _, v := range values {
				if pl, err := c.command(th, e.Key, v); err == nil {
					if _, err := json.Marshal(pl.msgs); err != nil {
						t.Fatalf("%s: unmarshalable params: %v", e.Key, err)
					}
				}
			}
		}
	})
}

// FuzzEnergyHistory: histories decode or fail, and the counter never goes
// backwards.
func FuzzEnergyHistory(f *testing.F) {
	f.Add(0, "190101000509", "000509190101")
	f.Add(1, "0a250001", "00010a25")
	f.Add(2, "a05012", "012a05")
	f.Fuzz(func(t *testing.T, kind int, a, b string) {
		k := historyKind(((kind % 3) + 3) % 3)
		old, err1 := decodeHistory(k, a)
		cur, err2 := decodeHistory(k, b)
		if err1 != nil || err2 != nil {
			return
		}
		if advance(old, cur) < 0 {
			t.Fatal("negative energy")
		}
	})
}

// bodyTransport answers every request with one status and body.
type bodyTransport struct {
	status int
	body   []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: b.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b.body)), Request: r}, nil
}

// FuzzRESTReplies: every REST reply decoder (password login, refresh, OAuth
// code exchange and profile, dispatch, family and thing list, device status)
// takes any body under any status without panicking, and what it accepts is
// usable: tokens are complete, the socket URL is ws(s), devices validate.
func FuzzRESTReplies(f *testing.F) {
	for _, s := range []string{
		`{"error":0,"msg":"","data":{"user":{"apikey":"U"},"at":"AT","rt":"RT","region":"eu"}}`,
		`{"error":10004,"msg":"redirection","data":{"region":"as"}}`,
		`{"error":0,"data":{"at":"AT2","rt":"RT2"}}`,
		`{"error":0,"data":{"accessToken":"A","atExpiredTime":1767225600000,"refreshToken":"R","rtExpiredTime":"1769817600000","user":{"apikey":"K"}}}`,
		`{"port":8080,"IP":"52.80.19.131","reason":"ok","domain":"eu-pconnect3.coolkit.cc","error":0}`,
		`{"port":"443","domain":"x","error":"0"}`,
		`{"error":0,"data":{"familyList":[{"id":"f1"},{"id":"f1"},{"id":""}],"currentFamilyId":"f1"}}`,
		`{"error":0,"data":{"total":1,"thingList":[{"itemType":1,"index":0,"itemData":{"deviceid":"1000abcd12","apikey":"U","online":true,"extra":{"uiid":1},"params":{"switch":"on"}}}]}}`,
		`{"error":0,"data":{"params":{"switch":"off","rssi":"-50"}}}`,
		`{"error":401,"msg":"token invalid"}`, `{"error":412}`, `{"error":"402"}`, `{"data":null}`, `null`, `[]`, ``, `{`,
	} {
		f.Add(uint8(0), []byte(s))
	}
	f.Add(uint8(2), []byte(`<html>server error</html>`))
	// 429 is left out: its pause would make every run wait (TestThrottledREST covers it).
	statuses := []int{200, 403, 500, 302}
	f.Fuzz(func(t *testing.T, st uint8, body []byte) {
		cfg := `name: fz
app_id: "appid"
app_secret: "secret"
login: password
email: "u@example.com"
password: "pw"
country_code: "+49"
api_url: "https://{region}-api.invalid"
dispatch_url: "https://{region}-dispa.invalid/dispatch/app"
endpoint_gap: 1ns
window: 1ns
`
		env := vendors.Env{Vendor: vendorName, Account: "fz", Log: zerolog.Nop(), Store: &memStore{},
			HTTP: &http.Client{Transport: bodyTransport{status: statuses[int(st)%len(statuses)], body: body}}}
		ad, err := New(env, strictDecode(cfg))
		if err != nil {
			t.Fatal(err)
		}
		a := ad.(*Adapter)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		valid := func(what string) {
			if a.tok.AT == "" || a.tok.RT == "" || a.tok.APIKey == "" || !regions[a.tok.Region] {
				t.Fatalf("%s accepted incomplete tokens %+v from %q", what, a.tok, body)
			}
		}
		if a.passwordLogin(ctx) == nil {
			valid("login")
		}
		if a.exchangeCode(ctx, "code", "eu", "https://bridge.invalid/cb") == nil {
			valid("oauth")
		}
		old := tokens{Region: "eu", AT: "at", RT: "rt", APIKey: "k"}
		if nt, err := a.refresh(ctx, old); err == nil && (nt.AT == "" || nt.RT == "" || nt.APIKey != "k") {
			t.Fatalf("refresh gave %+v", nt)
		}
		if u, err := a.dispatch(ctx, old); err == nil {
			if pu, perr := url.Parse(u); perr != nil || (pu.Scheme != "ws" && pu.Scheme != "wss") || pu.Host == "" {
				t.Fatalf("dispatch gave %q", u)
			}
		}
		a.authMu.Lock()
		a.tok, a.tokLoaded = old, true
		a.authMu.Unlock()
		if a.relist(ctx, vendorkit.Low) == nil {
			a.mu.Lock()
			for _, th := range a.things {
				if err := th.device.Validate(); err != nil {
					t.Fatalf("device from %q: %v", body, err)
				}
			}
			a.mu.Unlock()
		}
		a.mu.Lock()
		a.things["1000abcd12"] = &thing{id: "1000abcd12", uiid: 1, online: true, cur: params{}, book: a.book}
		a.mu.Unlock()
		_ = a.Refresh(ctx, "1000abcd12")
	})
}
