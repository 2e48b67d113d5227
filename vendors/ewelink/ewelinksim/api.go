package ewelinksim

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// api answers /<region>/v2/... calls.
func (s *Server) api(w http.ResponseWriter, r *http.Request, region, path string) {
	body, err := readBody(r)
	if err != nil {
		writeEnvelope(w, 400, "body unreadable", nil)
		return
	}
	user := strings.HasPrefix(path, "/v2/user/")
	if !s.checkHeaders(w, r, user) {
		return
	}
	if s.quotaUsed() {
		writeEnvelope(w, 412, "APPID calls exceeded the limit", nil)
		return
	}
	key := r.Method + " " + path
	switch key {
	case "POST /v2/user/login", "POST /v2/user/oauth/token":
		if !s.checkSign(r, body) {
			writeEnvelope(w, 406, "authorization failed", nil)
			return
		}
		if key == "POST /v2/user/login" {
			s.userLogin(w, r, region, body)
		} else {
			s.oauthToken(w, r, region, body)
		}
		return
	case "POST /v2/user/refresh":
		if strings.HasPrefix(r.Header.Get("Authorization"), "Sign ") {
			if !s.checkSign(r, body) {
				writeEnvelope(w, 406, "authorization failed", nil)
				return
			}
		} else if code := s.bearer(r); code == 401 {
			writeEnvelope(w, 401, "token invalid", nil)
			return
		}
		s.refresh(w, r, body)
		return
	case "GET /v2/utils/get-region":
		if !s.checkSign(r, body) {
			writeEnvelope(w, 406, "authorization failed", nil)
			return
		}
		writeEnvelope(w, 0, "", map[string]any{"region": s.opt.Region})
		return
	}
	if code := s.bearer(r); code != 0 {
		msg := map[int]string{401: "token invalid (logged in elsewhere?)", 402: "token expired"}[code]
		writeEnvelope(w, code, msg, nil)
		return
	}
	if region != s.opt.Region {
		// Tokens belong to the account's region.
		writeEnvelope(w, 401, "token not valid in this region", nil)
		return
	}
	switch key {
	case "GET /v2/user/profile":
		writeEnvelope(w, 0, "", map[string]any{"user": s.user(), "region": s.opt.Region})
	case "GET /v2/family":
		s.familyList(w)
	case "GET /v2/device/thing":
		s.thingList(w, r.URL.Query())
	case "POST /v2/device/thing":
		s.selectedThings(w, body)
	case "GET /v2/device/thing/status":
		s.getStatus(w, r.URL.Query())
	case "POST /v2/device/thing/status":
		s.setStatus(w, body)
	case "POST /v2/device/thing/batch-status":
		s.batchStatus(w, body)
	default:
		writeEnvelope(w, 403, "api not found", nil)
	}
}

func (s *Server) quotaUsed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opt.MonthlyQuota <= 0 {
		return false
	}
	s.monthly++
	return s.monthly > s.opt.MonthlyQuota
}

var families = []string{"home", "cabin"}

func (s *Server) familyList(w http.ResponseWriter) {
	var list []any
	for i, f := range families {
		list = append(list, map[string]any{"id": "fam-" + f, "apikey": s.opt.APIKey, "name": strings.ToUpper(f[:1]) + f[1:], "index": i, "roomList": []any{}})
	}
	writeEnvelope(w, 0, "", map[string]any{"familyList": list, "currentFamilyId": "fam-home"})
}

// thingList pages one home's things: num (≤30; 0 = all, which fails above
// 30 as the cloud's does), beginIndex (items with index ≥ it).
func (s *Server) thingList(w http.ResponseWriter, q url.Values) {
	fam := q.Get("familyid")
	if fam == "" {
		fam = "fam-home"
	}
	num, begin := 30, -9999999
	if v := q.Get("num"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeEnvelope(w, 400, "num invalid", nil)
			return
		}
		num = n
	}
	if v := q.Get("beginIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeEnvelope(w, 400, "beginIndex invalid", nil)
			return
		}
		begin = n
	}
	s.mu.Lock()
	var items []map[string]any
	for _, id := range s.order {
		d := s.devices[id]
		if "fam-"+d.Family != fam {
			continue
		}
		items = append(items, s.itemLocked(d))
	}
	// An own group, which clients skip.
	items = append(items, map[string]any{"itemType": 3, "index": len(items), "itemData": map[string]any{"id": "group-" + fam, "name": "All lights", "params": map[string]any{}}})
	for i, it := range items {
		it["index"] = i
	}
	s.mu.Unlock()
	if (num == 0 || num > 30) && len(items) > 30 {
		writeEnvelope(w, 500, "timeout: too many things, page with beginIndex", nil)
		return
	}
	var page []any
	for _, it := range items {
		if it["index"].(int) < begin {
			continue
		}
		if num > 0 && len(page) >= num {
			break
		}
		page = append(page, it)
	}
	if page == nil {
		page = []any{}
	}
	writeEnvelope(w, 0, "", map[string]any{"thingList": page, "total": len(items)})
}

// itemLocked is a device's thing list item.
func (s *Server) itemLocked(d *device) map[string]any {
	apikey, itemType := s.opt.APIKey, 1
	data := map[string]any{
		"name": d.Name, "deviceid": d.ID, "online": d.online, "brandName": d.Brand, "productModel": d.Model,
		"devicekey": "dk-" + d.ID, "showBrand": true,
		"extra":  map[string]any{"uiid": d.UIID, "model": d.ExtraModel, "mac": d.MAC, "manufacturer": d.Brand},
		"params": copyJSON(d.params), "tags": copyJSON(d.Tags),
		"family": map[string]any{"familyid": "fam-" + d.Family, "index": 0},
	}
	if d.Shared {
		apikey, itemType = ownerAPIKey, 2
		data["sharedBy"] = map[string]any{"apikey": ownerAPIKey, "permit": 15, "email": "owner@example.com"}
	}
	data["apikey"] = apikey
	return map[string]any{"itemType": itemType, "itemData": data}
}

func (s *Server) selectedThings(w http.ResponseWriter, body []byte) {
	var req struct {
		ThingList []struct {
			ItemType int    `json:"itemType"`
			ID       string `json:"id"`
		} `json:"thingList"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.ThingList) == 0 || len(req.ThingList) > 10 {
		writeEnvelope(w, 400, "thingList must hold 1 to 10 items", nil)
		return
	}
	s.mu.Lock()
	var out []any
	for _, it := range req.ThingList {
		if d := s.devices[it.ID]; d != nil {
			out = append(out, s.itemLocked(d))
		}
	}
	s.mu.Unlock()
	writeEnvelope(w, 0, "", map[string]any{"thingList": out})
}

func (s *Server) getStatus(w http.ResponseWriter, q url.Values) {
	if q.Get("type") != "1" {
		writeEnvelope(w, 400, "type must be 1 (groups are not simulated)", nil)
		return
	}
	s.mu.Lock()
	d := s.devices[q.Get("id")]
	var p map[string]any
	if d != nil {
		p = d.paramsFor(q.Get("params"))
	}
	s.mu.Unlock()
	if d == nil {
		writeEnvelope(w, 405, "device not found", nil)
		return
	}
	writeEnvelope(w, 0, "", map[string]any{"params": p})
}

type statusReq struct {
	Type   int            `json:"type"`
	ID     string         `json:"id"`
	Params map[string]any `json:"params"`
}

func (s *Server) setStatus(w http.ResponseWriter, body []byte) {
	var req statusReq
	if err := decodeUseNumber(body, &req); err != nil || req.Type != 1 || req.ID == "" || len(req.Params) == 0 {
		writeEnvelope(w, 400, "type, id and params are required", nil)
		return
	}
	code := s.command(req.ID, req.Params, nil)
	writeEnvelope(w, code, map[int]string{0: "", 405: "device not found", 4002: "device control failure", 400: "params invalid"}[code], nil)
}

func (s *Server) batchStatus(w http.ResponseWriter, body []byte) {
	var req struct {
		ThingList []statusReq `json:"thingList"`
		Timeout   int         `json:"timeout"`
	}
	if err := decodeUseNumber(body, &req); err != nil || len(req.ThingList) == 0 || len(req.ThingList) > 10 || req.Timeout < 0 || req.Timeout > 8000 {
		writeEnvelope(w, 400, "thingList must hold 1 to 10 items, timeout 0–8000", nil)
		return
	}
	ids := map[string]bool{}
	for _, t := range req.ThingList {
		if ids[t.ID] {
			writeEnvelope(w, 400, "ids must be unique", nil)
			return
		}
		ids[t.ID] = true
	}
	var resp []any
	for _, t := range req.ThingList {
		code := s.command(t.ID, t.Params, nil)
		switch {
		case req.Timeout == 0:
			code = 0
		case code == 4002:
			code = 30022
		}
		resp = append(resp, map[string]any{"type": 1, "id": t.ID, "error": code})
	}
	writeEnvelope(w, 0, "", map[string]any{"respList": resp})
}

// dispatch: GET /<region>/dispatch/app names the WebSocket host (this server).
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(s.ts.URL, "http://"))
	p, _ := strconv.Atoi(port)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"port": p, "IP": host, "reason": "ok", "domain": host, "error": 0})
}

func decodeUseNumber(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(v)
}

// copyJSON deep-copies a JSON-like value (numbers come back as json.Number).
func copyJSON[T any](v T) T {
	switch any(v).(type) {
	case string, bool, json.Number, nil: // immutable, and already in the decoded form
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out T
	if decodeUseNumber(b, &out) != nil {
		return v
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
