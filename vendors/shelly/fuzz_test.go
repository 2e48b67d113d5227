package shelly

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// Seeds are the protocol reference's examples (§3.6–3.8, §4.2, §6).
var frameSeeds = []string{
	`{"event":"Shelly:StatusOnChange","deviceId":"b48a0a1cd978","status":{"switch:0":{"id":0,"output":true,"apower":10.7,"voltage":230.1,"current":0.133,"aenergy":{"total":4679.262,"by_minute":[73.9,177.7,177.7],"minute_ts":1682952864},"temperature":{"tC":47.9,"tF":118.3}}}}`,
	`{"event":"Shelly:StatusOnChange","deviceId":"b48a0a1cd978","status":{"switch:0":{"output":true}}}`,
	`{"event":"Shelly:StatusOnChange","deviceId":"b923fa","status":{"relays":[{"ison":true,"has_timer":false,"overpower":false,"source":"cloud"}],"meters":[{"power":42.1,"overpower":0.0,"is_valid":true,"timestamp":1700000000,"counters":[41.9,42.0,42.2],"total":123456}],"temperature":38.2,"overtemperature":false,"serial":1234}}`,
	`{"event":"Shelly:StatusOnChange","device":{"id":"12133370","code":"SHPLG-S","gen":"G1"},"status":{"serial":4711}}`,
	`{"event":"Shelly:Settings","deviceId":"b48a0a1cd978","settings":{"sys":{"device":{"name":"Lamp","profile":"cover"}},"switch:0":{"name":"Ch"}}}`,
	`{"event":"Shelly:Online","deviceId":"b48a0a1cd978","online":1}`,
	`{"event":"Shelly:Online","device":{"id":"12133370"},"online":0}`,
	`{"event":"Shelly:CommandResponse","trid":18,"deviceId":"b48a0a1cd978","user":6550,"data":{"isok":true}}`,
	`{"event":"Shelly:CommandResponse","trid":10,"user":6550,"deviceId":"12133370","data":{"isok":false,"res":"WRONG_HOST"}}`,
	`{"event":"Integrator:ActionResponse","trid":21,"user":"6550","data":{"result":"OK","deviceId":"b48a0a1cd978","deviceType":"relay","deviceCode":"SNPL-00112EU","deviceStatus":{"switch:0":{"output":false}},"accessGroups":"01"}}`,
	`{"event":"Integrator:ActionResponse","trid":22,"user":"6550","data":{"result":"WRONG_HOST","deviceId":"b48a0a1cd978","host":"shelly-103-eu.shelly.cloud"}}`,
	`{"event":"Integrator:ActionResponse","trid":"23","data":{"result":"UNAUTHORIZED","deviceId":"b923fa"}}`,
	`{"event":"Error","message":"boom"}`,
	`{"event":"Shelly:Unknown"}`,
	`[]`, `{}`, `{"event":1}`,
}

func fuzzIntegrator(t testing.TB) *integrator {
	env := vendors.Env{Log: zerolog.Nop(), Metrics: vendors.NopMetrics{}, Now: time.Now, Redact: func(...string) {}, HTTP: http.DefaultClient}
	cfg := config{Tag: "ITG", Token: "tok"}
	if _, err := cfg.validate("fuzz"); err != nil {
		t.Fatal(err)
	}
	a, err := newIntegrator(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b48a0a1cd978", "b923fa"} {
		if _, err := a.grants.put(id, grant{Host: "shelly-1-eu.shelly.cloud", Access: "01"}); err != nil {
			t.Fatal(err)
		}
	}
	a.syncGrants()
	a.pub = newPublisher(vendortest.NewRecorder(), a.fleet, nil, zerolog.Nop(), time.Millisecond)
	return a
}

func FuzzWSFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkOnePassDecode(t, data)
		a := fuzzIntegrator(t)
		h := newHostConn("shelly-1-eu.shelly.cloud")
		a.handleFrame(h, nil, data)
		a.handleFrame(h, nil, data) // twice: merging into itself is fine too
		for _, d := range a.fleet.inventory() {
			if err := d.Validate(); err != nil {
				t.Fatalf("device from a frame does not validate: %v", err)
			}
		}
	})
}

// checkOnePassDecode requires decodeFrame to read what json.Unmarshal reads.
func checkOnePassDecode(t *testing.T, data []byte) {
	f, err := decodeFrame(data)
	var slow frame
	slowErr := json.Unmarshal(bytes.TrimSpace(data), &slow)
	if (err == nil) != (slowErr == nil && slow.Event != "" && len(slow.Event) <= maxEventLen) {
		t.Fatalf("decodeFrame error %v, json.Unmarshal error %v (event %q)", err, slowErr, slow.Event)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(f, slow) {
		t.Fatalf("decodeFrame read %+v, json.Unmarshal %+v", f, slow)
	}
	got, ok := f.statusObject()
	var want map[string]any
	wantOK := json.Unmarshal(slow.Status, &want) == nil && want != nil
	if ok != wantOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("status %v (%v), json.Unmarshal %v (%v)", got, ok, want, wantOK)
	}
}

var getSeeds = []string{
	`[{"id":"b48a0a1cd978","type":"relay","code":"SNPL-00112EU","gen":"G2","online":1,"status":{"sys":{"mac":"B48A0A1CD978","restart_required":false,"unixtime":1739436047,"uptime":464987,"available_updates":{"stable":{"version":"1.3.3"}}}},"settings":{"ble":{"enable":true,"rpc":{"enable":true},"observer":{"enable":true}}}}]`,
	`[{"id":"b923fa","type":"relay","code":"SHPLG-S","gen":"G1","online":0}]`,
	`{"error":"DEVICE_OFFLINE","data":{"messages":["offline"]}}`,
	`{"isok":false,"errors":{"wrong_auth_key":"x"}}`,
	`{"data":[{"id":12133370,"online":true,"status":{"relays":[{"ison":true}]}}]}`,
	`[]`, `[1,"x",null]`, ``,
}

func FuzzV2GetResponse(f *testing.F) {
	for _, s := range getSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := config{Server: "shelly-1-eu.shelly.cloud", AuthKey: "k", Devices: []string{"b48a0a1cd978", "b923fa"}}
		if _, err := cfg.validate("fuzz"); err != nil {
			t.Fatal(err)
		}
		c, _ := newCloud(vendors.Env{Log: zerolog.Nop(), Metrics: vendors.NopMetrics{}, Now: time.Now, HTTP: http.DefaultClient}, cfg)
		c.pub = newPublisher(vendortest.NewRecorder(), c.fleet, nil, zerolog.Nop(), time.Millisecond)
		items, err := parseGetResponse(data)
		if err != nil {
			if vendors.Code(err) == "" {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		c.apply(cfg.Devices, items)
		for _, d := range c.fleet.inventory() {
			if err := d.Validate(); err != nil {
				t.Fatalf("device from a get answer does not validate: %v", err)
			}
		}
	})
}

func FuzzConsentCallback(f *testing.F) {
	f.Add([]byte(`{"userId":6550,"deviceId":"b48a0a1cd978","deviceType":"relay","deviceCode":"SNPL-00112EU","accessGroups":"01","action":"add","host":"shelly-1-eu.shelly.cloud","name":["Plug 1"]}`), "eyJhbGciOiJFUzM4NCJ9.eyJleHAiOjEsIml0ZyI6IklURyIsImRpZCI6ImI0OGEwYTFjZDk3OCJ9.AAAA")
	f.Add([]byte(`{"userId":"6550","deviceId":12133370,"accessGroups":0,"action":"remove","name":"Plug"}`), "")
	f.Add([]byte(`{"deviceId":"b48a0a1cd978","action":"add","host":"https://shelly-1-eu.shelly.cloud/"}`), "Bearer x.y.z")
	f.Fuzz(func(t *testing.T, body []byte, trust string) {
		a := fuzzIntegrator(t)
		before, _ := a.grants.all()
		req := httptest.NewRequest(http.MethodPost, "/shelly/fuzz/consent", strings.NewReader(string(body)))
		req.Header.Set("SCL-Trust", trust)
		w := httptest.NewRecorder()
		a.serveConsent(w, req)
		// Nothing signed with Shelly's key can come out of a fuzzer: every
		// callback must be refused and change nothing.
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("unsigned callback answered %d", w.Code)
		}
		after, _ := a.grants.all()
		if len(after) != len(before) {
			t.Fatal("a refused callback changed the grants")
		}
		if c, err := parseConsent(body); err == nil && c.DeviceID == "" {
			t.Fatal("consent parsed without a device id")
		}
	})
}

func FuzzTrustToken(f *testing.F) {
	f.Add("eyJhbGciOiJFUzM4NCJ9.eyJleHAiOjk5OTk5OTk5OTksIml0ZyI6IklURyIsImRpZCI6ImI0OGEwYTFjZDk3OCJ9.AAAA")
	f.Add("Bearer a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		if err := verifyTrust(tok, mustKey(t, shellyPublicKey), "ITG", "b48a0a1cd978", time.Now()); err == nil {
			t.Fatalf("a fuzzed token verified: %q", tok)
		}
		_ = jwtExp(tok)
		_, _, _ = parseTokenResponse([]byte(tok))
	})
}

var statusSeeds = []string{
	`{"switch:0":{"id":0,"source":"MQTT","output":false,"apower":0.0,"voltage":237.0,"freq":50.0,"current":0.000,"pf":0.00,"aenergy":{"total":62758.285,"by_minute":[0.0,0.0,0.0],"minute_ts":1709223337},"temperature":{"tC":35.5,"tF":96.0}},"input:0":{"id":0,"state":false}}`,
	`{"devicepower:0":{"id":0,"battery":{"V":5.46,"percent":73},"external":{"present":false}},"humidity:0":{"id":0,"rh":57.0},"temperature:0":{"id":0,"tC":20.1,"tF":68.3}}`,
	`{"cover:0":{"id":0,"state":"stopped","pos_control":true,"current_pos":50,"apower":85.3}}`,
	`{"em:0":{"id":0,"a_voltage":236.2,"a_act_power":0.0,"b_voltage":237.1,"b_act_power":20.9,"c_act_power":165.5,"n_current":null,"total_act_power":186.31,"user_calibrated_phase":[]},"emdata:0":{"id":0,"total_act":123456.7,"total_act_ret":890.1}}`,
	`{"relays":[{"ison":true,"has_timer":false,"timer_started":0,"timer_duration":0,"timer_remaining":0,"overpower":false,"is_valid":true,"source":"http"}],"emeters":[{"power":10.66,"pf":1.00,"current":0.08,"voltage":232.06,"is_valid":true,"total":5.3,"total_returned":0.0}],"total_power":10.66,"serial":7}`,
	`{"meters":[{"power":239.21,"overpower":0.0,"is_valid":true,"timestamp":1603398516,"counters":[3901.3,3900.1,3902.7],"total":1234567}],"temperature":45.2,"overtemperature":false}`,
	`{"lights":[{"ison":true,"mode":"color","red":255,"green":0,"blue":0,"white":0,"gain":100,"effect":9}],"rollers":[{"state":"close","current_pos":"x"}]}`,
	`{"rgbw:0":{"output":true,"rgb":[1,2],"white":300},"cct:1":{"ct":"warm"},"illuminance:0":{"lux":5,"illumination":"neon"},"smoke:0":{"alarm":true,"mute":false},"flood:0":{"alarm":false,"errors":["cable_unplugged"]},"pm1:0":{"apower":3},"em1:0":{"act_power":1},"em1data:0":{"total_act_energy":5}}`,
}

func FuzzStatus(f *testing.F) {
	for _, s := range statusSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	// what freezing a status must read back exactly
	f.Add([]byte(`{"sys":{"name":"<Küche & \"Bad\"> \u2028","v":-0,"e":1e-7,"big":12345678901234567890,"a":[1,[2,{"x":null}]]},"relays":[{"ison":true}],"temperature":21.5}`), false)
	f.Fuzz(func(t *testing.T, data []byte, readOnly bool) {
		st, ok := object(data)
		if !ok {
			return
		}
		for _, gen2 := range []bool{false, true} {
			v := buildView(&meta{ReadOnly: readOnly, Names: []string{"A", "B"}}, st, gen2)
			d := vendors.Device{ID: "b48a0a1cd978", Entities: v.Entities}
			if err := d.Validate(); err != nil {
				t.Fatalf("mapping produced an invalid device: %v", err)
			}
			if _, err := json.Marshal(v.Values); err != nil {
				t.Fatalf("values do not marshal: %v", err)
			}
			for k := range v.Values {
				if !vendors.ValidKey(k) {
					t.Fatalf("value key %q is not a valid key", k)
				}
			}
		}
		merged := map[string]any{}
		mergeStatus(merged, st)
		mergeStatus(merged, st)
		// at rest a status is kept as JSON: it must read back as it was,
		// whole, and split into frozen components, those decoded
		d := &device{}
		d.st, d.rest = restWhole(cloneValue(merged, 0).(map[string]any))
		if got := d.statusTree(); !reflect.DeepEqual(got, merged) {
			t.Fatalf("a resting status reads back as %v, want %v", got, merged)
		}
		if got := decoded(d.status()); !reflect.DeepEqual(got, merged) {
			t.Fatalf("a resting status splits into %v, want %v", got, merged)
		}
	})
}

func FuzzTokenAnswer(f *testing.F) {
	for _, s := range []string{
		`{"isok":true,"data":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzM4NCJ9.eyJleHAiOjE3MDAwMDAwMDAsInVzZXJfaWQiOiJJVEcifQ.c2ln"}`,
		`{"isok":true,"data":{"token":"a.eyJleHAiOiIxNzAwMDAwMDAwIn0.c"}}`,
		`{"isok":false,"errors":{"invalid_token":"Invalid integrator credentials"}}`,
		`{"isok":"true","data":""}`, `{"isok":1,"data":"x.bm90IGpzb24.y"}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, _, err := parseTokenResponse(body)
		if err != nil {
			if vendors.Code(err) == "" {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if tok == "" || len(tok) > 8192 {
			t.Fatalf("accepted token of length %d", len(tok))
		}
	})
}

// FuzzV2SetAnswer covers what a set/* answer is read for: the error
// envelope (→ result code) and set/groups' failedCommands.
func FuzzV2SetAnswer(f *testing.F) {
	for _, s := range []string{
		`{"error":"DEVICE_OFFLINE","data":{"messages":["device offline"]}}`,
		`{"error":"DEVICE_INVALID_MODE"}`,
		`{"isok":false,"errors":{"max_req":"Request limit reached"}}`,
		`{"failedCommands":{"b48a0a1cd978_0":"DEVICE_OFFLINE","b923fa_1":5}}`,
		`{"error":"unexpected subservice error!","data":{"messages":[1,"a",null]}}`,
		`{"error":null}`, `null`, ``,
	} {
		f.Add([]byte(s), 400)
		f.Add([]byte(s), 200)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		err := cloudError(status, body)
		code := vendors.Code(err)
		if code == "" || len(code) > 40 || !isCodeWord(code) {
			t.Fatalf("result code %q from %q", code, body)
		}
		for k, v := range parseFailed(body) {
			if k == "" && v == "" {
				continue
			}
			if !isCodeWord(v) || len(v) > 40 {
				t.Fatalf("failed code %q", v)
			}
		}
	})
}

// FuzzRequestParams decodes bridge/request/shelly/set/* bodies (user input
// from MQTT) and validates them; a body that validates must marshal.
func FuzzRequestParams(f *testing.F) {
	for _, s := range []string{
		`{"id":"b48a0a1cd978","channel":0,"on":true,"toggle_after":5}`,
		`{"id":"b48a0a1cd978","position":"open","duration":3}`,
		`{"id":"b48a0a1cd978","position":50,"slatPosition":20}`,
		`{"id":"b48a0a1cd978","relative":-20,"slatRelative":10}`,
		`{"id":"b923fa","mode":"color","red":255,"green":0,"blue":0,"gain":50,"effect":1}`,
		`{"id":"b923fa","mode":"white","brightness":40,"temperature":4000,"white":100}`,
		`{"switch":{"ids":["b48a0a1cd978_0","b923fa_0"],"command":{"on":false}}}`,
		`{"cover":{"ids":["b48a0a1cd978_0"],"command":{"position":"stop"}},"light":{"ids":["b923fa_0"],"command":{"on":true}}}`,
		`{"id":"","position":1e308}`, `{"id":"x","unknown":1}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(v any, err error) {
			if err == nil {
				if _, merr := json.Marshal(v); merr != nil {
					t.Fatalf("validated body does not marshal: %v", merr)
				}
				return
			}
			if vendors.Code(err) == "" {
				t.Fatalf("uncoded error %v", err)
			}
		}
		var sw singleSwitch
		if err := decodeStrict(data, &sw); err == nil {
			if _, _, err := sw.addr.validate(); err == nil {
				check(sw, sw.switchCmd.validate())
			}
		} else if vendors.Code(err) == "" {
			t.Fatalf("uncoded decode error %v", err)
		}
		var cv singleCover
		if decodeStrict(data, &cv) == nil {
			check(cv, cv.coverCmd.validate())
		}
		var li singleLight
		if decodeStrict(data, &li) == nil {
			check(li, li.lightCmd.validate(2700))
		}
		var g groupReq
		if decodeStrict(data, &g) == nil {
			err := g.validate()
			check(g, err)
			if err == nil {
				for _, id := range groupDevices(g) {
					if normID(id, nil) != id {
						t.Fatalf("group device %q is not canonical", id)
					}
				}
			}
		}
	})
}

// FuzzConsentPublicKey reads consent_public_key values: only a P-384 key
// is ever accepted.
func FuzzConsentPublicKey(f *testing.F) {
	f.Add(shellyPublicKey)
	f.Add("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")
	f.Add("not pem")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := parseP384(text)
		if err == nil && (k == nil || k.Curve.Params().BitSize != 384) {
			t.Fatalf("accepted a key that is not P-384")
		}
	})
}
