package shelly

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Integrator / Real Time Events WebSocket frames: one JSON object per text
// frame. Fields are read tolerantly: ids as strings or numbers, flags as
// bools or 0/1, trid as a number or a string.

const (
	evStatus    = "Shelly:StatusOnChange"
	evSettings  = "Shelly:Settings"
	evOnline    = "Shelly:Online"
	evCmdResp   = "Shelly:CommandResponse"
	evCmdReq    = "Shelly:CommandRequest"
	evActResp   = "Integrator:ActionResponse"
	evActReq    = "Integrator:ActionRequest"
	evError     = "Error"
	actVerify   = "DeviceVerify"
	resOK       = "OK"
	resWrong    = "WRONG_HOST"
	resUnauth   = "UNAUTHORIZED"
	maxTrid     = 1 << 30
	maxEventLen = 64
)

type frame struct {
	Event    string          `json:"event"`
	DeviceID json.RawMessage `json:"deviceId"`
	DevID2   json.RawMessage `json:"device_id"`
	Device   json.RawMessage `json:"device"`
	Status   json.RawMessage `json:"status"`
	Settings json.RawMessage `json:"settings"`
	Online   json.RawMessage `json:"online"`
	Trid     json.RawMessage `json:"trid"`
	Data     json.RawMessage `json:"data"`
}

// decodeFrame reads a frame as json.Unmarshal would into a frame, in one
// pass over the bytes instead of Unmarshal's two and without reflection
// (FuzzWSFrame compares the two).
func decodeFrame(b []byte) (frame, error) {
	var f frame
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return f, errors.New("frame is not a JSON object")
	}
	if err := vendorkit.DecodeJSONFields(b, f.fields()); err != nil {
		return frame{}, errors.New("frame is not valid JSON")
	}
	if f.Event == "" || len(f.Event) > maxEventLen {
		return f, errors.New("frame has no event")
	}
	return f, nil
}

// fields are the frame's JSON fields.
func (f *frame) fields() []vendorkit.JSONField {
	return []vendorkit.JSONField{
		{Name: "event", Dst: &f.Event}, {Name: "deviceId", Dst: &f.DeviceID}, {Name: "device_id", Dst: &f.DevID2},
		{Name: "device", Dst: &f.Device}, {Name: "status", Dst: &f.Status}, {Name: "settings", Dst: &f.Settings},
		{Name: "online", Dst: &f.Online}, {Name: "trid", Dst: &f.Trid}, {Name: "data", Dst: &f.Data},
	}
}

// wireID is the device id as sent: device.id (Real Time Events), then
// deviceId, then device_id.
func (f frame) wireID() string {
	if len(f.Device) > 0 {
		var d struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(f.Device, &d) == nil {
			if id := rawID(d.ID); id != "" {
				return id
			}
		}
	}
	if id := rawID(f.DeviceID); id != "" {
		return id
	}
	return rawID(f.DevID2)
}

// trid reads the transaction id (number or numeric string).
func (f frame) trid() (uint64, bool) {
	s := rawID(f.Trid)
	if s == "" {
		s = rawString(f.Trid)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// statusObject is the frame's status object; ok is false when there is none.
func (f frame) statusObject() (map[string]any, bool) { return object(f.Status) }

// object decodes a JSON object field (status, settings).
func object(raw json.RawMessage) (map[string]any, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	m, err := vendorkit.DecodeJSON(raw, false)
	if err != nil {
		return nil, false
	}
	return m.(map[string]any), true
}

// onlineFlag reads Shelly:Online's flag; ok is false when it is missing or
// unreadable (which is no evidence either way).
func (f frame) onlineFlag() (online, ok bool) {
	var v any
	if json.Unmarshal(f.Online, &v) != nil {
		return false, false
	}
	return flag(v)
}

// cmdResult is a CommandResponse's data.
type cmdResult struct {
	OK   bool
	Res  string
	Host string
}

func parseCmdResult(raw json.RawMessage) cmdResult {
	m, _ := object(raw)
	var r cmdResult
	r.OK, _ = flag(m["isok"])
	switch v := m["res"].(type) {
	case string:
		r.Res = v
	case nil:
	default:
		b, _ := json.Marshal(v)
		r.Res = truncate(b, 200)
	}
	if r.Res == "" {
		r.Res, _ = str(m["result"])
	}
	if len(r.Res) > 200 {
		r.Res = r.Res[:200]
	}
	r.Host, _ = str(m["host"])
	r.Host = normHost(r.Host)
	return r
}

// actionResult is an ActionResponse's data (DeviceVerify).
type actionResult struct {
	Result    string
	Wire      string
	Host      string
	Access    string
	Type      string
	Code      string
	Status    map[string]any
	HasStatus bool
	Settings  map[string]any
}

func parseActionResult(raw json.RawMessage) (actionResult, error) {
	var a actionResult
	var d struct {
		Result       string          `json:"result"`
		DeviceID     json.RawMessage `json:"deviceId"`
		Host         json.RawMessage `json:"host"`
		AccessGroups json.RawMessage `json:"accessGroups"`
		DeviceType   json.RawMessage `json:"deviceType"`
		DeviceCode   json.RawMessage `json:"deviceCode"`
		Status       json.RawMessage `json:"deviceStatus"`
		Settings     json.RawMessage `json:"deviceSettings"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return a, errors.New("action response data is not an object")
	}
	a.Result = strings.ToUpper(strings.TrimSpace(d.Result))
	a.Wire = rawID(d.DeviceID)
	a.Host = normHost(rawString(d.Host))
	a.Access = rawString(d.AccessGroups)
	a.Type = rawString(d.DeviceType)
	a.Code = rawString(d.DeviceCode)
	a.Status, a.HasStatus = object(d.Status)
	a.Settings, _ = object(d.Settings)
	return a, nil
}

func commandFrame(trid uint64, wire, cmd string, params map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"event": evCmdReq, "trid": trid, "deviceId": wire,
		"data": map[string]any{"cmd": cmd, "params": params},
	})
	return b
}

func actionFrame(trid uint64, action, wire string) []byte {
	b, _ := json.Marshal(map[string]any{
		"event": evActReq, "trid": trid,
		"data": map[string]any{"action": action, "deviceId": wire},
	})
	return b
}
