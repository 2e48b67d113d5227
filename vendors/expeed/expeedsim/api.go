package expeedsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result codes as the seed's appendix lists them.
const (
	codeOK          = 0
	codeToken       = 1 // token expired; on the token API: verification failed
	codeNoDevice    = 2
	codeKeyOrParams = 3 // device_key unknown; history: bad query; setting: offline
	codeURLParams   = 4
	codeBody        = 5
	codeQuota       = 6 // not in the seed ("…"): daily token quota used up
)

type reply map[string]any

type apiHandler func(r *http.Request, id string, now time.Time) (int, reply)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	now := s.opt.Now()
	op, id, h, login := s.route(r)
	if h == nil {
		http.NotFound(w, r)
		s.record(Request{Time: now, Op: r.Method + " " + r.URL.Path, HTTPStatus: 404, Code: -1})
		return
	}
	if status, retry, throttled := s.fault(now); status != 0 {
		if throttled && retry > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
		}
		http.Error(w, http.StatusText(status), status)
		s.record(Request{Time: now, Op: op, Device: id, HTTPStatus: status, Code: -1, Login: login, Throttled: throttled})
		return
	}
	code, body := h(r, id, now)
	if body == nil {
		body = reply{}
	}
	body["result_code"] = s.num(code)
	if _, ok := body["result_message"]; !ok {
		body["result_message"] = "ok"
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(b)
	s.record(Request{Time: now, Op: op, Device: id, HTTPStatus: 200, Code: code, Login: login})
}

// route maps a request to its handler; ids are cut from op.
func (s *Server) route(r *http.Request) (op, id string, h apiHandler, login bool) {
	p := strings.TrimPrefix(r.URL.Path, "/v1")
	seg := strings.Split(strings.Trim(p, "/"), "/")
	method := r.Method
	switch {
	case p == "/platform/token" && method == http.MethodGet:
		return "GET /v1/platform/token", "", s.token, true
	case len(seg) == 3 && seg[0] == "devices" && seg[1] == "device_status" && method == http.MethodGet:
		return "GET /v1/devices/device_status", seg[2], s.status, false
	case len(seg) == 3 && seg[0] == "devices" && seg[2] == "currentDatapoints" && method == http.MethodGet:
		return "GET /v1/devices/currentDatapoints", seg[1], s.current, false
	case len(seg) == 3 && seg[0] == "devices" && seg[2] == "datapoints" && method == http.MethodGet:
		return "GET /v1/devices/datapoints", seg[1], s.history, false
	case len(seg) == 3 && seg[0] == "devices" && seg[2] == "device_setting" && method == http.MethodPost:
		return "POST /v1/devices/device_setting", seg[1], s.setting, false
	}
	return "", "", nil, false
}

// fault applies throttling and injected failures; status 0 means none.
func (s *Server) fault(now time.Time) (status, retrySecs int, throttled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.throttleUntil) {
		s.violations++
		return http.StatusTooManyRequests, int(math.Ceil(s.throttleUntil.Sub(now).Seconds())), true
	}
	if s.throttleN > 0 {
		s.throttleN--
		secs := int(math.Ceil(s.throttleAfter.Seconds()))
		s.throttleUntil = now.Add(time.Duration(secs) * time.Second)
		return http.StatusTooManyRequests, secs, true
	}
	if s.failN > 0 {
		s.failN--
		return s.failStatus, 0, false
	}
	return 0, 0, false
}

// num writes a number, as a string under LooseTypes.
func (s *Server) num(v int) any {
	if s.opt.LooseTypes {
		return strconv.Itoa(v)
	}
	return v
}

func fail(code int, msg string) (int, reply) { return code, reply{"result_message": msg} }

func (s *Server) token(r *http.Request, _ string, now time.Time) (int, reply) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls++
	day := s.day(now)
	s.quota[day]++
	if s.quota[day] > s.opt.DailyTokenQuota {
		s.violations++
		return fail(codeQuota, "调用次数超过限制")
	}
	if q.Get("platform_key") != s.opt.PlatformKey || q.Get("secret_key") != s.opt.SecretKey {
		return fail(codeToken, "验证失败")
	}
	tok := "at-" + randHex(16)
	s.tokens[tok] = now.Add(s.opt.TokenTTL)
	s.issued = append(s.issued, tok)
	return codeOK, reply{"access_token": tok, "expires_in": s.num(int(math.Ceil(s.opt.TokenTTL.Seconds())))}
}

// credentials reads access_token and device_key the configured way.
func (s *Server) credentials(r *http.Request) (token, key string) {
	switch s.opt.AuthStyle {
	case "query":
		q := r.URL.Query()
		token = q.Get("access_token")
		if token == "" {
			token = q.Get("token")
		}
		return token, q.Get("device_key")
	case "single_header":
		parts := strings.Split(r.Header.Get("access_token"), ";")
		token = strings.TrimSpace(parts[0])
		for _, p := range parts[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "device_key" {
				key = v
			}
		}
		return token, key
	}
	return r.Header.Get("access_token"), r.Header.Get("device_key")
}

// authorize checks the token and the device; it returns the device locked
// state's code. The caller holds no lock.
func (s *Server) authorize(r *http.Request, id string, now time.Time) (*device, int, string) {
	token, key := s.credentials(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[token]
	if !ok || !now.Before(exp) {
		return nil, codeToken, "token过期"
	}
	d := s.devices[id]
	if d == nil {
		return nil, codeNoDevice, "设备不存在"
	}
	if key != d.Key {
		return nil, codeKeyOrParams, "Device_key不存在"
	}
	return d, codeOK, ""
}

func (s *Server) status(r *http.Request, id string, now time.Time) (int, reply) {
	d, code, msg := s.authorize(r, id, now)
	if code != codeOK {
		return fail(code, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := 0
	if d.online {
		st = 1
	}
	return codeOK, reply{"device_status": s.num(st)}
}

func (s *Server) current(r *http.Request, id string, now time.Time) (int, reply) {
	d, code, msg := s.authorize(r, id, now)
	if code != codeOK {
		return fail(code, msg)
	}
	ids := r.URL.Query().Get("id")
	if ids == "" {
		return fail(codeURLParams, "URL参数非法")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data := map[string]any{"timestamp": s.formatTime(d.updated)}
	for _, p := range d.Points {
		if ids == "all" || contains(strings.Split(ids, ","), p.Name) {
			data[p.Name] = p.rawJSON(d.values[p.Name])
		}
	}
	return codeOK, reply{"data": data}
}

func (s *Server) history(r *http.Request, id string, now time.Time) (int, reply) {
	d, code, msg := s.authorize(r, id, now)
	if code != codeOK {
		return fail(code, msg)
	}
	q := r.URL.Query()
	bad := func() (int, reply) { return fail(codeKeyOrParams, "查询参数非法") }
	var names []string
	if v := q.Get("id"); v != "" {
		names = strings.Split(v, ",")
	}
	var start, end time.Time
	if q.Has("start") != q.Has("end") {
		return bad()
	}
	if q.Has("start") {
		var ok1, ok2 bool
		start, ok1 = s.parseTime(q.Get("start"))
		end, ok2 = s.parseTime(q.Get("end"))
		if !ok1 || !ok2 || end.Before(start) {
			return bad()
		}
	}
	first := 0
	if v := q.Get("first"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && n != 1) {
			return bad()
		}
		first = n
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 6000 {
			return bad()
		}
		limit = n
	}
	var cursor int64
	hasCursor := q.Has("cursor")
	if hasCursor {
		n, err := strconv.ParseInt(q.Get("cursor"), 10, 64)
		if err != nil || n < 0 {
			return bad()
		}
		cursor = n
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var picked []sample
	for _, smp := range d.history {
		if !start.IsZero() && (smp.at.Before(start) || smp.at.After(end)) {
			continue
		}
		vals := smp.values
		if names != nil {
			vals = map[string]float64{}
			for _, n := range names {
				if v, ok := smp.values[n]; ok {
					vals[n] = v
				}
			}
			if len(vals) == 0 {
				continue
			}
		}
		picked = append(picked, sample{at: smp.at, values: vals})
	}
	if first == 0 {
		sort.SliceStable(picked, func(i, j int) bool { return picked[i].at.After(picked[j].at) })
	}
	if hasCursor {
		i := 0
		for i < len(picked) && (first == 1 && picked[i].at.UnixMilli() < cursor || first == 0 && picked[i].at.UnixMilli() > cursor) {
			i++
		}
		picked = picked[i:]
	}
	out := reply{}
	if len(picked) > limit {
		out["cursor"] = picked[limit].at.UnixMilli()
		picked = picked[:limit]
	}
	data := make([]map[string]any, 0, len(picked))
	for _, smp := range picked {
		rec := map[string]any{"timestamp": s.formatTime(smp.at)}
		for _, n := range sortedNames(smp.values) {
			p, _ := d.point(n)
			rec[n] = p.rawJSON(smp.values[n])
		}
		data = append(data, rec)
	}
	out["data"] = data
	return codeOK, out
}

func (s *Server) setting(r *http.Request, id string, now time.Time) (int, reply) {
	d, code, msg := s.authorize(r, id, now)
	if code != codeOK {
		return fail(code, msg)
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return fail(codeBody, "BODY参数非法")
	}
	var body map[string]json.RawMessage
	if json.Unmarshal(raw, &body) != nil || body == nil {
		return fail(codeBody, "BODY参数非法")
	}
	if s.opt.SettingBody == "wrapped" {
		inner := body["data"]
		body = nil
		if json.Unmarshal(inner, &body) != nil || body == nil {
			return fail(codeBody, "BODY参数非法")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]float64{}
	for k, v := range body {
		p, ok := d.point(k)
		var f float64
		if !ok || !p.Writable || json.Unmarshal(v, &f) != nil || f < p.Min || f > p.Max {
			return fail(codeBody, "BODY参数非法")
		}
		want[k] = p.round(f)
	}
	if len(want) == 0 {
		return fail(codeBody, "BODY参数非法")
	}
	if !d.online {
		return fail(codeKeyOrParams, "设备不在线")
	}
	s.msgSeq++
	var msgID any = fmt.Sprintf("m-%d", s.msgSeq)
	if s.opt.LooseTypes {
		msgID = 10000 + s.msgSeq
	}
	outcome := "ok"
	switch {
	case s.dropN > 0:
		s.dropN--
		outcome = "drop"
	case s.rejectN > 0:
		s.rejectN--
		outcome = "reject"
	}
	s.timers.Add(1)
	go s.applySetting(d.ID, msgID, want, outcome)
	return codeOK, reply{"message_id": msgID}
}

// applySetting is the device taking the setting a moment later and the cloud
// pushing its outcome.
func (s *Server) applySetting(id string, msgID any, want map[string]float64, outcome string) {
	defer s.timers.Done()
	select {
	case <-s.stop:
		return
	case <-time.After(s.opt.SettingDelay):
	}
	if outcome == "drop" {
		return
	}
	result := 0
	if outcome == "reject" {
		result = 1
	}
	if result == 0 {
		s.SetValues(id, want)
	}
	s.pushSetResult(id, msgID, result)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.TrimSpace(v) == s {
			return true
		}
	}
	return false
}
