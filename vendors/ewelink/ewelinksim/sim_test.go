package ewelinksim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// client side of the protocol, written from the reference for these tests.

type reply struct {
	Error int            `json:"error"`
	Msg   string         `json:"msg"`
	Data  map[string]any `json:"data"`
}

func newTest(t *testing.T, opt Options) *Server {
	if opt.EndpointGap == 0 {
		opt.EndpointGap = -1 // tests below check the gap on purpose only
	}
	s := New(opt)
	t.Cleanup(s.Close)
	return s
}

func call(t *testing.T, s *Server, method, region, path string, body any, auth string, hdr map[string]string) (int, reply) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, s.URL()+"/"+region+path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-CK-Appid", s.opt.AppID)
	req.Header.Set("X-CK-Nonce", "abcd1234")
	switch {
	case auth == "sign":
		msg := b
		if method == http.MethodGet {
			msg = []byte(signedQuery(req.URL.Query()))
		}
		req.Header.Set("Authorization", "Sign "+hmacB64(s.opt.AppSecret, msg))
	case auth != "":
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r reply
	_ = json.Unmarshal(raw, &r)
	return resp.StatusCode, r
}

func login(t *testing.T, s *Server, region string) reply {
	t.Helper()
	_, r := call(t, s, "POST", region, "/v2/user/login", map[string]string{"countryCode": s.opt.CountryCode, "email": s.opt.Email, "password": s.opt.Password}, "sign", nil)
	return r
}

func TestSignatureAndHeaders(t *testing.T) {
	s := newTest(t, Options{})
	body := map[string]string{"countryCode": "+49", "email": s.opt.Email, "password": s.opt.Password}
	if _, r := call(t, s, "POST", "eu", "/v2/user/login", body, "sign", map[string]string{"Authorization": "Sign AAAA"}); r.Error != 406 {
		t.Errorf("wrong sign: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/user/login", body, "sign", map[string]string{"X-CK-Appid": ""}); r.Error != 400 {
		t.Errorf("no appid: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/user/login", body, "sign", map[string]string{"X-CK-Nonce": "bad!"}); r.Error != 400 {
		t.Errorf("bad nonce: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/user/login", body, "sign", map[string]string{"Content-Type": "text/plain"}); r.Error != 400 {
		t.Errorf("content type: %+v", r)
	}
	if _, r := call(t, s, "GET", "eu", "/v2/utils/get-region?countryCode=49", nil, "sign", nil); r.Error != 0 || r.Data["region"] != "eu" {
		t.Errorf("signed GET: %+v", r)
	}
	body["password"] = "nope"
	if _, r := call(t, s, "POST", "eu", "/v2/user/login", body, "sign", nil); r.Error != 10001 {
		t.Errorf("wrong password: %+v", r)
	}
}

func TestLoginRegionAndSingleSession(t *testing.T) {
	s := newTest(t, Options{})
	if r := login(t, s, "us"); r.Error != 10004 || r.Data["region"] != "eu" {
		t.Fatalf("wrong region: %+v", r)
	}
	first := login(t, s, "eu")
	at1, rt1 := first.Data["at"].(string), first.Data["rt"].(string)
	if _, r := call(t, s, "GET", "eu", "/v2/family", nil, at1, nil); r.Error != 0 {
		t.Fatalf("family: %+v", r)
	}
	second := login(t, s, "eu")
	if _, r := call(t, s, "GET", "eu", "/v2/family", nil, at1, nil); r.Error != 401 {
		t.Errorf("old token after a new login: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/user/refresh", map[string]string{"rt": rt1}, "sign", nil); r.Error != 401 {
		t.Errorf("old refresh token after a new login: %+v", r)
	}
	at2 := second.Data["at"].(string)
	s.ExpireTokens()
	if _, r := call(t, s, "GET", "eu", "/v2/family", nil, at2, nil); r.Error != 402 {
		t.Errorf("expired token: %+v", r)
	}
	_, r := call(t, s, "POST", "eu", "/v2/user/refresh", map[string]string{"rt": second.Data["rt"].(string)}, "sign", nil)
	if r.Error != 0 {
		t.Fatalf("refresh: %+v", r)
	}
	if _, r := call(t, s, "GET", "eu", "/v2/user/profile", nil, r.Data["at"].(string), nil); r.Error != 0 || r.Data["user"].(map[string]any)["apikey"] != s.opt.APIKey {
		t.Errorf("profile with the refreshed token: %+v", r)
	}
}

func TestThingListPaging(t *testing.T) {
	s := newTest(t, Options{})
	at := login(t, s, "eu").Data["at"].(string)
	if _, r := call(t, s, "GET", "eu", "/v2/device/thing?num=0", nil, at, nil); r.Error != 500 {
		t.Errorf("num=0 with more than 30 things should time out: %+v", r)
	}
	_, p1 := call(t, s, "GET", "eu", "/v2/device/thing?num=30", nil, at, nil)
	items := p1.Data["thingList"].([]any)
	if len(items) != 30 {
		t.Fatalf("first page %d items", len(items))
	}
	last := items[29].(map[string]any)["index"].(float64)
	_, p2 := call(t, s, "GET", "eu", "/v2/device/thing?num=30&beginIndex="+itoa(int(last)+1), nil, at, nil)
	rest := p2.Data["thingList"].([]any)
	total := int(p1.Data["total"].(float64))
	if len(items)+len(rest) != total || len(rest) >= 30 {
		t.Errorf("pages %d + %d, total %d", len(items), len(rest), total)
	}
	var shared, groups int
	for _, it := range append(items, rest...) {
		m := it.(map[string]any)
		switch m["itemType"].(float64) {
		case 2:
			shared++
			if m["itemData"].(map[string]any)["apikey"] != ownerAPIKey {
				t.Error("a shared device carries its owner's apikey")
			}
		case 3:
			groups++
		}
	}
	if shared != 1 || groups != 1 {
		t.Errorf("shared %d, groups %d", shared, groups)
	}
	_, cabin := call(t, s, "GET", "eu", "/v2/device/thing?familyid=fam-cabin", nil, at, nil)
	if n := len(cabin.Data["thingList"].([]any)); n == 0 || n > 10 {
		t.Errorf("cabin home: %d things", n)
	}
}

func TestStatusAndOffline(t *testing.T) {
	s := newTest(t, Options{})
	at := login(t, s, "eu").Data["at"].(string)
	_, r := call(t, s, "GET", "eu", "/v2/device/thing/status?type=1&id=1000a00001&params="+url.QueryEscape("switch|startup"), nil, at, nil)
	if p := r.Data["params"].(map[string]any); len(p) != 2 || p["switch"] != "off" {
		t.Errorf("status: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/device/thing/status", map[string]any{"type": 1, "id": "1000a00001", "params": map[string]any{"switch": "on"}}, at, nil); r.Error != 0 || s.Param("1000a00001", "switch") != "on" {
		t.Errorf("set: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/device/thing/status", map[string]any{"type": 1, "id": "1000b00004", "params": map[string]any{"switch": "on"}}, at, nil); r.Error != 4002 {
		t.Errorf("offline: %+v", r)
	}
	_, r = call(t, s, "POST", "eu", "/v2/device/thing/batch-status", map[string]any{"thingList": []any{
		map[string]any{"type": 1, "id": "1000a00001", "params": map[string]any{"switch": "off"}},
		map[string]any{"type": 1, "id": "1000b00004", "params": map[string]any{"switch": "off"}}}, "timeout": 1000}, at, nil)
	list := r.Data["respList"].([]any)
	if list[0].(map[string]any)["error"].(float64) != 0 || list[1].(map[string]any)["error"].(float64) != 30022 {
		t.Errorf("batch: %+v", r)
	}
	if _, r := call(t, s, "POST", "eu", "/v2/device/thing/status", map[string]any{"type": 1, "id": "1000a0000e", "params": map[string]any{"brightness": 50}}, at, nil); r.Error != 400 {
		t.Errorf("D1 brightness without switch:on: %+v", r)
	}
}

func TestOAuthCode(t *testing.T) {
	s := newTest(t, Options{AutoApprove: true})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	seq := "1767225600000"
	q := url.Values{"clientId": {s.opt.AppID}, "seq": {seq}, "authorization": {hmacB64(s.opt.AppSecret, []byte(s.opt.AppID+"_"+seq))},
		"redirectUrl": {"https://bridge.example/cb"}, "grantType": {"authorization_code"}, "state": {"st"}, "nonce": {"abcd1234"}}
	resp, err := noFollow.Get(s.OAuthURL() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st" || loc.Query().Get("region") != "eu" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	code := loc.Query().Get("code")
	exchange := func(redirect string) reply {
		_, r := call(t, s, "POST", "eu", "/v2/user/oauth/token", map[string]string{"code": code, "redirectUrl": redirect, "grantType": "authorization_code"}, "sign", nil)
		return r
	}
	if r := exchange("https://elsewhere/cb"); r.Error != 400 {
		t.Errorf("other redirect: %+v", r)
	}
	if r := exchange("https://bridge.example/cb"); r.Error != 0 || r.Data["accessToken"] == nil || r.Data["atExpiredTime"] == nil {
		t.Errorf("exchange: %+v", r)
	}
	if r := exchange("https://bridge.example/cb"); r.Error != 405 {
		t.Errorf("second use: %+v", r)
	}
	q.Set("authorization", "forged")
	resp, _ = noFollow.Get(s.OAuthURL() + "?" + q.Encode())
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged authorization: %d", resp.StatusCode)
	}
}

func TestLimitsAndFaults(t *testing.T) {
	s := newTest(t, Options{EndpointGap: 200 * time.Millisecond, MonthlyQuota: 3})
	at := login(t, s, "eu").Data["at"].(string)
	call(t, s, "GET", "eu", "/v2/family", nil, at, nil)
	if code, _ := call(t, s, "GET", "eu", "/v2/family", nil, at, nil); code != 429 || s.Violations() != 1 {
		t.Errorf("two calls 0 ms apart: %d, %d violations", code, s.Violations())
	}
	time.Sleep(250 * time.Millisecond)
	s.ThrottleNext(2*time.Second, 1)
	req, _ := http.NewRequest("GET", s.URL()+"/eu/v2/family", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("throttle: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.FailNext(503, 1)
	time.Sleep(250 * time.Millisecond)
	if code, _ := call(t, s, "GET", "eu", "/v2/family", nil, at, nil); code != 503 {
		t.Errorf("fail next: %d", code)
	}
	time.Sleep(250 * time.Millisecond)
	call(t, s, "GET", "eu", "/v2/user/profile", nil, at, nil)
	if _, r := call(t, s, "GET", "eu", "/v2/device/thing", nil, at, nil); r.Error != 412 {
		t.Errorf("quota: error %d", r.Error)
	}
	reqs := s.Requests()
	if !reqs[0].Login || !reqs[2].Throttled || !reqs[3].Throttled || reqs[4].Status != 503 {
		t.Errorf("log: %+v", reqs)
	}
}

type wsc struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, s *Server) *wsc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(s.URL(), "http", "ws", 1)+"/api/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsc{t, c}
}

func (w *wsc) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	if s, ok := v.(string); ok {
		b = []byte(s)
	}
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
	time.Sleep(110 * time.Millisecond) // the send gap
}

func (w *wsc) read() map[string]any {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if string(b) == "pong" {
		return map[string]any{"pong": true}
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func online(s *Server, at, seq string) map[string]any {
	return map[string]any{"action": "userOnline", "version": 8, "at": at, "userAgent": "app", "apikey": s.opt.APIKey, "appid": s.opt.AppID, "nonce": "abcd1234", "sequence": seq}
}

func TestWebSocket(t *testing.T) {
	s := newTest(t, Options{HBInterval: 0.5, UserOnlineGap: time.Millisecond})
	bad := dial(t, s)
	bad.send(online(s, "not-a-token", "1"))
	if m := bad.read(); m["error"].(float64) != 406 {
		t.Fatalf("bad token: %v", m)
	}
	at := login(t, s, "eu").Data["at"].(string)
	a, b := dial(t, s), dial(t, s)
	a.send(online(s, at, "10"))
	if m := a.read(); m["error"].(float64) != 0 || m["config"].(map[string]any)["hbInterval"].(float64) != 0.5 || m["sequence"] != "10" {
		t.Fatalf("handshake: %v", m)
	}
	b.send(online(s, at, "11"))
	b.read()
	a.send(map[string]any{"action": "update", "deviceid": "1000a00001", "apikey": s.opt.APIKey, "selfApikey": s.opt.APIKey, "userAgent": "app", "sequence": "12", "params": map[string]any{"switch": "on"}})
	if m := a.read(); m["error"].(float64) != 0 || m["sequence"] != "12" {
		t.Errorf("ack: %v", m)
	}
	if m := b.read(); m["action"] != "update" || m["params"].(map[string]any)["switch"] != "on" {
		t.Errorf("the other client's push: %v", m)
	}
	a.send(map[string]any{"action": "update", "deviceid": "1000a00003", "apikey": s.opt.APIKey, "userAgent": "app", "sequence": "13", "params": map[string]any{"switches": []any{}}})
	if m := a.read(); m["error"].(float64) != 406 {
		t.Errorf("shared device without the owner's apikey: %v", m)
	}
	a.send(map[string]any{"action": "update", "deviceid": "1000b00004", "apikey": s.opt.APIKey, "userAgent": "app", "sequence": "14", "params": map[string]any{"switch": "on"}})
	if m := a.read(); m["error"].(float64) != 504 {
		t.Errorf("offline device: %v", m)
	}
	a.send(map[string]any{"action": "query", "deviceid": "1000a00001", "apikey": s.opt.APIKey, "userAgent": "app", "sequence": "15", "params": []any{"switch"}})
	if m := a.read(); m["params"].(map[string]any)["switch"] != "on" || len(m["params"].(map[string]any)) != 1 {
		t.Errorf("query: %v", m)
	}
	a.send(map[string]any{"action": "update", "deviceid": "1000a00005", "apikey": s.opt.APIKey, "userAgent": "app", "sequence": "16", "params": map[string]any{"hundredDaysKwh": "get"}})
	a.read() // ack
	if m := a.read(); m["params"].(map[string]any)["hundredDaysKwhData"] == nil {
		t.Errorf("energy history: %v", m)
	}
	a.send("ping")
	if m := a.read(); m["pong"] != true {
		t.Errorf("ping: %v", m)
	}
	// b stays silent: after 1.5 × hbInterval the cloud drops it.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for {
		if _, _, err := b.c.Read(ctx); err != nil {
			break
		}
	}
	if s.HeartbeatMisses() == 0 {
		t.Error("a silent socket was not dropped for missing heartbeats")
	}
	// A new login elsewhere closes the sockets of the old one at once.
	d := dial(t, s)
	d.send(online(s, login(t, s, "eu").Data["at"].(string), "20"))
	d.read()
	start := time.Now()
	s.LoginElsewhere()
	for {
		if _, _, err := d.c.Read(ctx); err != nil {
			break
		}
	}
	if time.Since(start) > 300*time.Millisecond {
		t.Errorf("the old session's socket lived on for %s", time.Since(start))
	}
	if s.Violations() != 0 {
		t.Errorf("violations: %v", s.ViolationLog())
	}
}

// TestWebSocketSendRate: a client that does not space its frames is caught.
func TestWebSocketSendRate(t *testing.T) {
	s := newTest(t, Options{UserOnlineGap: time.Millisecond})
	at := login(t, s, "eu").Data["at"].(string)
	c := dial(t, s)
	c.send(online(s, at, "1"))
	c.read()
	for i := 0; i < 15; i++ { // no gap at all
		if err := c.c.Write(context.Background(), websocket.MessageText, []byte("ping")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for s.Violations() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Violations() == 0 {
		t.Error("16 frames in a moment were not counted as a violation")
	}
}
