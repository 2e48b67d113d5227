package ewelink

import (
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// FuzzDecodeFrame: any WebSocket frame decodes to a frame or an error.
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
			th := &thing{id: d.DeviceID, uiid: int(d.Extra.UIID), online: bool(d.Online), params: p, tags: tags, seen: map[string]string{}, book: &energyBook{log: zerolog.Nop()}}
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
	values := []any{true, false, 0.0, 1000.0, "on", "stay", nil,
		vendors.LightCommand{On: ptr(true), Brightness: ptr(128), ColorTemp: ptr(3000), Color: &vendors.Color{R: 1, G: 2, B: 3}, Effect: "read"},
		vendors.CoverCommand{Position: ptr(40)}, vendors.CoverCommand{Action: vendors.CoverActionOpen},
		vendors.FanCommand{Percentage: ptr(50)}, vendors.FanCommand{On: ptr(true)}}
	f.Fuzz(func(t *testing.T, uiid int, js, upd []byte) {
		p, err := decodeParams(js)
		if err != nil {
			return
		}
		th := &thing{id: "dev", uiid: uiid, online: true, params: p, seen: map[string]string{}, book: &energyBook{log: zerolog.Nop()}}
		th.build()
		if err := th.device.Validate(); err != nil {
			t.Fatalf("uiid %d %s: %v", uiid, js, err)
		}
		_ = th.values()
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
			th.params.merge(u)
			th.build()
			_ = th.diff()
		}
		for _, e := range th.device.Entities {
			c, ok := th.owner[e.Key].(commander)
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
