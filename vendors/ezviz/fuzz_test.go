package ezviz

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
)

// fuzzCamera has every status-backed entity.
func fuzzCamera() *device {
	caps := map[string]string{"support_capture": "1", "support_defence": "1", "support_privacy": "1",
		"support_alarm_voice": "1", "support_battery_manage": "1", "support_sleep": "1", "support_chime": "1"}
	st := &statusData{Signal: flexInt{50, true}, DiskNum: flexInt{1, true}}
	es, _ := cameraEntities(caps, st, nil, true, 0)
	es = append(es, eventEntity(keyDoorbell))
	return &device{id: "C78957921", serial: "C78957921", channel: 1, entities: es}
}

// fuzzAdapter is an adapter with a camera and a hub, sinking into a recorder.
func fuzzAdapter() *Adapter {
	cfg := config{MotionHold: time.Minute}
	hub := &device{id: "A1", serial: "A1", kind: kindHub, entities: hubEntities(&discovery{caps: map[string]string{"support_defence": "1"},
		detectors: []detectorItem{{Type: "FIRE"}, {Type: "MAGNETOMETER"}}})}
	cam := fuzzCamera()
	a := &Adapter{cfg: cfg, now: time.Now, log: zerolog.Nop(), sink: vendortest.NewRecorder(),
		devices: map[string]*device{cam.id: cam, hub.id: hub}, order: []string{cam.id, hub.id},
		published: map[string]map[string]any{}, pending: map[string]pendingValue{}}
	a.env.Metrics = vendors.NopMetrics{}
	a.loadAlarmCursor()
	a.alarms.floor = 0
	return a
}

// Seeds from the protocol reference's examples.
var replySeeds = []string{
	`{"code":"200","msg":"操作成功!","data":{"accessToken":"at.xxxxxxxx","expireTime":1470810222045}}`,
	`{"code":"200","msg":"ok","data":{"accessToken":"at.x","expireTime":"1470810222045","areaDomain":"https://iusopen.ezvizlife.com"}}`,
	`{"code":"10030","msg":"appKey与appSecret不匹配","data":null}`,
	`{"code":200,"msg":"操作成功","data":[{"id":"0043","deviceSerial":"C78957921","deviceName":"Garden","deviceType":"CS-C8C","status":1,"defence":0,"deviceVersion":"V5.3.8 build 230103","addTime":1693806032741,"parentCategory":"IPC","riskLevel":0,"netAddress":null}],"page":{"total":1,"page":0,"size":50}}`,
	`{"code":"200","data":{"support_defence":"1","support_privacy":"1","support_capture":"1","support_ptz":0}}`,
	`{"code":"200","data":{"privacyStatus":0,"pirStatus":1,"alarmSoundMode":0,"battryStatus":-1,"diskNum":1,"diskState":"0---------------","signal":"82","wakeUpStatus":-1}}`,
	`{"code":"200","data":[{"channelNo":1,"enable":"1"}]}`,
	`{"code":"200","data":{"enable":1}}`,
	`{"code":"200","msg":"操作成功!","data":{"picUrl":"https://x/capture/003e.jpg?Expires=1&Signature=s"}}`,
	`{"code":"200","data":{"currentVersion":"V1","latestVersion":"V2"}}`,
	`{"code":"200","data":{"status":0,"progress":40}}`,
	`{"result":{"code":"200","msg":"ok","data":[{"detectorSerial":"Q1","detectorType":"FIRE","location":"Kitchen"}]}}`,
	`{"code":"200","data":[{"deviceSerial":"C1","channelNo":2,"status":1,"deviceName":"a","cameraName":"b","isAdd":1}],"page":{"total":1,"page":0,"size":50}}`,
	`{"code":"200","data":[{"deviceSerial":"N1","ipcSerial":"N1","channelNo":1,"channelName":"Garden","status":-1,"isEncrypt":0}]}`,
	`{"code":"200","data":{"deviceSerial":"C1","model":"CS-CTQ6X","status":1,"defence":1,"signal":"100%"}}`,
	`{"code":"1e400"}`, `{"code":"200","data":{"enable":1e30}}`, `[]`, `null`, `{"code":null}`,
}

// FuzzReplyDecoders runs every reply decoder on arbitrary bodies: errors
// are fine, panics are not.
func FuzzReplyDecoders(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeEnvelope(body)
		if err != nil {
			return
		}
		_, _ = decodeToken(env)
		_, _ = decodeDeviceList(env)
		_, _ = decodeDeviceInfo(env)
		_, _ = decodeTrustList(env)
		_, _ = decodeChannels(env)
		_, _ = decodeCapacity(env)
		if st, err := decodeStatus(env); err == nil {
			_ = statusValues(fuzzCamera(), st)
			_ = sdState(st.DiskState)
		}
		_, _ = decodeEnable(env, 1)
		_, _ = decodeCapture(env)
		_, _ = decodeAlarms(env)
		_, _ = decodeVersion(env)
		_, _ = decodeUpgrade(env)
		_, _ = decodeDetectors(env)
	})
}

// FuzzAlarmList feeds alarm lists through decoding and routing.
func FuzzAlarmList(f *testing.F) {
	f.Add([]byte(`{"page":{"total":9,"page":0,"size":3},"data":[{"alarmId":"24027912025633491","alarmName":"Garden","alarmType":10002,"alarmTime":1767225600123,"channelNo":1,"isEncrypt":0,"isChecked":0,"preTime":10,"delayTime":30,"deviceSerial":"C78957921","alarmPicUrl":"https://x","relationAlarms":[],"customerType":null,"customerInfo":null}],"code":"200","msg":"Operation succeeded!"}`))
	f.Add([]byte(`{"code":"200","data":[{"alarmId":1,"alarmType":"10016","alarmTime":"1767225600123","deviceSerial":"C78957921","channelNo":"2"},{"alarmId":"2","alarmType":10005,"alarmTime":-5,"deviceSerial":"A1"}]}`))
	f.Add([]byte(`{"code":"200","data":[{"alarmId":"x","alarmTime":9223372036854775807,"deviceSerial":"C1"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeEnvelope(body)
		if err != nil {
			return
		}
		items, err := decodeAlarms(env)
		if err != nil {
			return
		}
		a := fuzzAdapter()
		a.handleAlarms(items)
		a.handleAlarms(items)
	})
}

// FuzzTrustCallback parses arbitrary callback queries.
func FuzzTrustCallback(f *testing.F) {
	f.Add("opt_type=device_authorize&deviceSerials=C78957921:1,C78957922:1&deviceTrustId=123")
	f.Add("opt_type=device_cancel&deviceSerials=c1&deviceTrustId=")
	f.Add("opt_type=device_authorize&deviceSerials=A:99999999999999999999")
	f.Add("%zz&opt_type=x")
	f.Fuzz(func(t *testing.T, q string) {
		cb, err := parseTrustCallback(q)
		if err != nil {
			return
		}
		if cb.Op != "device_authorize" && cb.Op != "device_cancel" {
			t.Fatalf("accepted op %q", cb.Op)
		}
		for _, d := range cb.Devices {
			if !validSerial(d.Serial) || d.Channel < 0 || d.Channel > 1024 {
				t.Fatalf("accepted device %+v", d)
			}
		}
	})
}

// FuzzTrustRoutes sends arbitrary requests to the trust return page and
// the device callback: answers stay within the documented set, and the
// return page never accepts a state it did not hand out.
func FuzzTrustRoutes(f *testing.F) {
	f.Add("GET", "opt_type=device_authorize&deviceSerials=C78957921:1&deviceTrustId=1", "")
	f.Add("POST", "", "opt_type=device_cancel&deviceSerials=C78957921")
	f.Add("POST", "x=1", "%zz")
	f.Add("PUT", "state=abc&error=denied", "")
	f.Fuzz(func(t *testing.T, method, query, body string) {
		if !validMethod(method) {
			return
		}
		a := fuzzAdapter()
		a.relist = make(chan struct{}, 1)
		a.trust.init()
		target := "/ezviz/fuzz/trust/callback?" + query
		req, err := http.NewRequest(method, "http://bridge"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		a.serveTrustCallback(w, req)
		switch w.Code {
		case http.StatusOK:
			if w.Body.String() != `{"code":"200"}` {
				t.Fatalf("accepted callback answered %q", w.Body.String())
			}
		case http.StatusBadRequest, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("callback answered %d", w.Code)
		}
		req, err = http.NewRequest(http.MethodGet, "http://bridge/ezviz/fuzz/trust/return?"+query, nil)
		if err != nil {
			return
		}
		w = httptest.NewRecorder()
		a.serveTrustReturn(w, req)
		if w.Code != http.StatusBadRequest {
			t.Fatalf("return page without a handed-out state answered %d", w.Code)
		}
		select {
		case <-a.relist:
			if !strings.Contains(query+body, "opt_type") {
				t.Fatal("a relist was asked for without a callback")
			}
		default:
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
