package shelly

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// getItem is one device of a POST /v2/devices/api/get answer.
type getItem struct {
	Wire        string
	Type        string
	Code        string
	Gen         string
	Online      bool
	OnlineKnown bool
	Status      map[string]any
	Settings    map[string]any
}

const maxGetItems = 100

// parseGetResponse reads the get answer: a JSON array, one object per
// device ({id, type, code, gen, online 0|1, status?, settings?}). Entries
// without a usable id are skipped; an error envelope becomes a coded error.
func parseGetResponse(b []byte) ([]getItem, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "empty answer to get"}
	}
	if b[0] == '{' {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &env) == nil && len(bytes.TrimSpace(env.Data)) > 0 && bytes.TrimSpace(env.Data)[0] == '[' {
			b = bytes.TrimSpace(env.Data)
		} else {
			return nil, cloudError(0, b)
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, &vendors.Error{Code: vendors.CodeCloud, Message: "answer to get is not a JSON array"}
	}
	out := make([]getItem, 0, min(len(raw), maxGetItems))
	for _, r := range raw {
		if len(out) == maxGetItems {
			break
		}
		var d struct {
			ID       json.RawMessage `json:"id"`
			Type     json.RawMessage `json:"type"`
			Code     json.RawMessage `json:"code"`
			Gen      json.RawMessage `json:"gen"`
			Online   json.RawMessage `json:"online"`
			Status   json.RawMessage `json:"status"`
			Settings json.RawMessage `json:"settings"`
		}
		if json.Unmarshal(r, &d) != nil {
			continue
		}
		it := getItem{Wire: rawID(d.ID), Type: rawString(d.Type), Code: rawString(d.Code), Gen: rawString(d.Gen)}
		if it.Wire == "" {
			continue
		}
		var on any
		if json.Unmarshal(d.Online, &on) == nil {
			it.Online, it.OnlineKnown = flag(on)
		}
		it.Status, _ = object(d.Status)
		it.Settings, _ = object(d.Settings)
		out = append(out, it)
	}
	return out, nil
}

// cloudError reads a v2 error body {"error": "DEVICE_OFFLINE", "data":
// {"messages": [...]}} (or the older {"isok": false, "errors": {...}}) into
// a coded error; the cloud's error string is the result code.
func cloudError(status int, b []byte) error {
	var env struct {
		Error  json.RawMessage `json:"error"`
		Data   json.RawMessage `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	code, msg := "", ""
	if json.Unmarshal(b, &env) == nil {
		code = strings.ToUpper(rawString(env.Error))
		var d struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if json.Unmarshal(env.Data, &d) == nil {
			var parts []string
			for _, m := range d.Messages {
				if s := rawString(m); s != "" {
					parts = append(parts, s)
				}
				if len(parts) == 5 {
					break
				}
			}
			msg = strings.Join(parts, "; ")
		}
		if code == "" && len(env.Errors) > 0 {
			msg = "the cloud refused" + errorKeys(env.Errors)
		}
	}
	if code == "" || !isCodeWord(code) || len(code) > 40 {
		switch {
		case status >= 500:
			code = vendors.CodeUnavailable
		default:
			code = vendors.CodeCloud
		}
	}
	if code == "DEVICE_OFFLINE" {
		code = vendors.CodeOffline
	}
	if msg == "" {
		msg = "the cloud answered " + code
		if status > 0 {
			msg += " (http " + itoa(status) + ")"
		}
	}
	return &vendors.Error{Code: code, Message: msg}
}
