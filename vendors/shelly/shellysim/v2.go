package shellysim

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveV2 is POST /v2/devices/api/<op>?auth_key=<KEY>: get, set/switch,
// set/cover, set/light, set/groups. All requests of one key share a limit of
// one per second; overruns are answered as throttled and counted.
func (s *Sim) serveV2(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, "/v2/devices/api/")
	logOp := "POST /v2/devices/api/" + op
	key := r.URL.Query().Get("auth_key")
	now := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))

	s.mu.Lock()
	if st := s.takeFaultLocked(); st != 0 {
		s.lastV2[key] = now
		s.logLocked(Request{Time: now, Op: logOp, Status: st})
		s.mu.Unlock()
		writeJSON(w, st, map[string]any{"error": "UNEXPECTED_SUBSERVICE_ERROR", "data": map[string]any{"messages": []string{"injected failure"}}})
		return
	}
	last, seen := s.lastV2[key]
	s.lastV2[key] = now
	overrun := seen && now.Sub(last) < time.Second
	if overrun || s.throttleN > 0 {
		ra := time.Second
		if !overrun {
			s.throttleN--
			ra = s.throttleRA
		} else {
			s.violations++
		}
		status := s.opt.ThrottleStatus
		s.logLocked(Request{Time: now, Op: logOp, Status: status, Throttled: true})
		s.mu.Unlock()
		if ra > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
		}
		writeJSON(w, status, map[string]any{"isok": false, "errors": map[string]any{"max_req": "Request limit reached"}})
		return
	}
	if r.Method != http.MethodPost {
		s.logLocked(Request{Time: now, Op: logOp, Status: 405})
		s.mu.Unlock()
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if key != s.opt.AuthKey {
		s.logLocked(Request{Time: now, Op: logOp, Status: 401})
		s.mu.Unlock()
		writeJSON(w, 401, map[string]any{"isok": false, "errors": map[string]any{"wrong_auth_key": "Invalid auth_key"}})
		return
	}
	status, resp := s.v2Locked(op, body)
	s.logLocked(Request{Time: now, Op: logOp, Status: status})
	s.mu.Unlock()
	if resp == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, resp)
}

func v2Error(code string, msgs ...string) map[string]any {
	if msgs == nil {
		msgs = []string{}
	}
	return map[string]any{"error": code, "data": map[string]any{"messages": msgs}}
}

func (s *Sim) v2Locked(op string, body []byte) (int, any) {
	switch op {
	case "get":
		return s.v2Get(body)
	case "set/switch", "set/cover", "set/light":
		var p map[string]any
		if json.Unmarshal(body, &p) != nil {
			return 400, v2Error(errBadRequest, "body is not a JSON object")
		}
		id, _ := p["id"].(string)
		d := s.devs[s.resolveLocked(id)]
		if d == nil {
			return 404, v2Error(errNotFound, "no such device")
		}
		ch := 0
		if v, ok := number(p["channel"]); ok {
			ch = int(v)
		}
		if !d.Online {
			return 400, v2Error(errOffline, "device appears offline")
		}
		delta, code := s.v2Apply(d, strings.TrimPrefix(op, "set/"), ch, p)
		if code != "" {
			status := 400
			if code == errNotFound {
				status = 404
			}
			return status, v2Error(code, "command failed: "+code)
		}
		s.pushStatusLocked(d, delta)
		return 200, nil
	case "set/groups":
		var g map[string]struct {
			IDs     []string       `json:"ids"`
			Command map[string]any `json:"command"`
		}
		if json.Unmarshal(body, &g) != nil || len(g) == 0 {
			return 400, v2Error(errBadRequest, "body is not a groups object")
		}
		failed := map[string]string{}
		for kind, grp := range g {
			if kind != "switch" && kind != "cover" && kind != "light" {
				return 400, v2Error(errBadRequest, "unknown group "+kind)
			}
			for _, gid := range grp.IDs {
				idPart, chPart, _ := strings.Cut(gid, "_")
				ch, _ := strconv.Atoi(chPart)
				d := s.devs[s.resolveLocked(idPart)]
				switch {
				case d == nil:
					failed[gid] = errNotFound
				case !d.Online:
					failed[gid] = errOffline
				default:
					delta, code := s.v2Apply(d, kind, ch, grp.Command)
					if code != "" {
						failed[gid] = code
					} else {
						s.pushStatusLocked(d, delta)
					}
				}
			}
		}
		if len(failed) > 0 {
			return 200, map[string]any{"failedCommands": failed}
		}
		return 200, nil
	}
	return 404, v2Error("NOT_FOUND", "unknown endpoint")
}

// v2Apply runs a set/<kind> command body on a device.
func (s *Sim) v2Apply(d *device, kind string, ch int, p map[string]any) (map[string]any, string) {
	switch kind {
	case "switch":
		on, ok := p["on"].(bool)
		if !ok {
			return nil, errBadRequest
		}
		turn := "off"
		if on {
			turn = "on"
		}
		return d.relay(ch, turn)
	case "cover":
		_, hasPos := p["position"]
		_, hasRel := p["relative"]
		if hasPos && hasRel {
			return nil, errBadRequest
		}
		switch v := p["position"].(type) {
		case string:
			return d.roller(ch, v)
		case float64:
			return d.rollerTo(ch, v, false)
		}
		if rel, ok := number(p["relative"]); ok {
			c, _ := d.cover(ch)
			if c == nil {
				return nil, errInvalidChannel
			}
			cur, _ := number(c["current_pos"])
			return d.rollerTo(ch, math.Max(0, math.Min(100, cur+rel)), false)
		}
		if sp, ok := number(p["slatPosition"]); ok {
			return d.rollerTo(ch, sp, true)
		}
		return nil, errBadRequest
	case "light":
		lp := map[string]any{"id": float64(ch)}
		if on, ok := p["on"].(bool); ok {
			lp["turn"] = map[bool]string{true: "on", false: "off"}[on]
		}
		for _, k := range []string{"brightness", "gain", "red", "green", "blue", "white", "effect", "mode"} {
			if v, ok := p[k]; ok {
				lp[k] = v
			}
		}
		if v, ok := p["temperature"]; ok {
			lp["temp"] = v
		}
		return d.light(ch, lp)
	}
	return nil, errBadRequest
}

// v2Get answers get: at most 10 ids, select status/settings, pick keys.
func (s *Sim) v2Get(body []byte) (int, any) {
	var req struct {
		IDs    []string            `json:"ids"`
		Select []string            `json:"select"`
		Pick   map[string][]string `json:"pick"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return 400, v2Error(errBadRequest, "body is not a get request")
	}
	if len(req.IDs) == 0 {
		return 400, v2Error(errBadRequest, "ids is required")
	}
	if len(req.IDs) > 10 {
		s.violations++
		return 400, v2Error(errBadRequest, "at most 10 ids per request")
	}
	sel := map[string]bool{}
	for _, x := range req.Select {
		sel[x] = true
	}
	out := []any{}
	for _, raw := range req.IDs {
		d := s.devs[s.resolveLocked(raw)]
		if d == nil {
			continue
		}
		online := 0
		if d.Online {
			online = 1
		}
		item := map[string]any{"id": d.ID, "type": d.Type, "code": d.Code, "gen": d.Gen, "online": online}
		for _, part := range []string{"status", "settings"} {
			if !sel[part] {
				continue
			}
			src := d.Status
			if part == "settings" {
				src = d.Settings
			}
			picked := pick(src, req.Pick[part])
			if len(picked) > 0 {
				item[part] = picked
			}
		}
		out = append(out, item)
	}
	return 200, out
}

func pick(src map[string]any, keys []string) map[string]any {
	if keys == nil {
		return clone(src).(map[string]any)
	}
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := src[k]; ok {
			out[k] = clone(v)
		}
	}
	return out
}
