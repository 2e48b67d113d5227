package ewelink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// frame is one message from the WebSocket (reference §6.4): a device report
// (action update), an online change (action sysmsg), or a reply to one of
// ours (no action, our sequence, error, maybe params).
type frame struct {
	Pong      bool            `json:"-"`
	Action    string          `json:"action"`
	DeviceID  string          `json:"deviceid"`
	APIKey    string          `json:"apikey"`
	Sequence  flexString      `json:"sequence"`
	Error     *flexInt        `json:"error"`
	Reason    string          `json:"reason"`
	UserAgent string          `json:"userAgent"`
	Params    json.RawMessage `json:"params"`
	Config    json.RawMessage `json:"config"`
}

// decodeFrame parses a text frame: "pong" or a JSON object. It reads the
// object as json.Unmarshal would into a frame, in one pass and without
// reflection (FuzzDecodeFrame compares the two).
func decodeFrame(b []byte) (frame, error) {
	b = bytes.TrimSpace(b)
	if string(b) == "pong" {
		return frame{Pong: true}, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return frame{}, fmt.Errorf("websocket frame is not a JSON object: %.20q", b)
	}
	var f frame
	if err := vendorkit.DecodeJSONFields(b, f.fields()); err != nil {
		return frame{}, fmt.Errorf("websocket frame: %w", err)
	}
	return f, nil
}

// fields are the frame's JSON fields.
func (f *frame) fields() []vendorkit.JSONField {
	return []vendorkit.JSONField{
		{Name: "action", Dst: &f.Action}, {Name: "deviceid", Dst: &f.DeviceID}, {Name: "apikey", Dst: &f.APIKey},
		{Name: "sequence", Dst: f.Sequence.UnmarshalJSON}, {Name: "error", Dst: f.setError}, {Name: "reason", Dst: &f.Reason},
		{Name: "userAgent", Dst: &f.UserAgent}, {Name: "params", Dst: &f.Params}, {Name: "config", Dst: &f.Config},
	}
}

// setError decodes the error code as json.Unmarshal does into a *flexInt:
// null makes it nil.
func (f *frame) setError(raw []byte) error {
	if string(raw) == "null" {
		f.Error = nil
		return nil
	}
	f.Error = new(flexInt)
	return f.Error.UnmarshalJSON(raw)
}

// code is the frame's error code (0 when absent).
func (f frame) code() int {
	if f.Error == nil {
		return 0
	}
	return int(*f.Error)
}

// reportParams returns the device params a frame carries: params as an
// object, or (in some query replies) config instead.
func (f frame) reportParams() (params, bool) {
	for _, raw := range []json.RawMessage{f.Params, f.Config} {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		p, err := decodeParams(raw)
		if err == nil {
			return p, true
		}
	}
	return nil, false
}

// defaultHeartbeat applies when the handshake reply names no interval (§6.3).
const defaultHeartbeat = 90 * time.Second

// heartbeat reads the handshake reply's config: whether to send pings and
// how often (hbInterval seconds, fractions accepted).
func (f frame) heartbeat() (bool, time.Duration, error) {
	raw := bytes.TrimSpace(f.Config)
	if len(raw) == 0 || string(raw) == "null" {
		return true, defaultHeartbeat, nil
	}
	var c struct {
		HB         json.RawMessage `json:"hb"`
		HBInterval json.RawMessage `json:"hbInterval"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, 0, errors.New("handshake config is not an object")
	}
	on := true
	if len(c.HB) > 0 {
		p, err := decodeParams([]byte(`{"v":` + string(c.HB) + `}`))
		if err != nil {
			return false, 0, errors.New("handshake hb is not a value")
		}
		if v, ok := onOff(p["v"]); ok {
			on = v
		}
	}
	interval := defaultHeartbeat
	if len(c.HBInterval) > 0 {
		p, err := decodeParams([]byte(`{"v":` + string(c.HBInterval) + `}`))
		if err != nil {
			return false, 0, errors.New("handshake hbInterval is not a value")
		}
		if s, ok := num(p["v"]); ok && s > 0 && !math.IsInf(s, 0) {
			interval = time.Duration(math.Min(s, 3600) * float64(time.Second))
		}
	}
	if interval < 10*time.Millisecond {
		interval = 10 * time.Millisecond
	}
	return on, interval, nil
}

// outgoing is a message the bridge sends (reference §6.5).
type outgoing struct {
	Action     string `json:"action"`
	DeviceID   string `json:"deviceid"`
	APIKey     string `json:"apikey"`
	SelfAPIKey string `json:"selfApikey"`
	UserAgent  string `json:"userAgent"`
	Sequence   string `json:"sequence"`
	Params     any    `json:"params"`
}

// userOnline is the handshake (reference §6.2).
type userOnline struct {
	Action    string `json:"action"`
	Version   int    `json:"version"`
	TS        int64  `json:"ts"`
	AT        string `json:"at"`
	UserAgent string `json:"userAgent"`
	APIKey    string `json:"apikey"`
	AppID     string `json:"appid"`
	Nonce     string `json:"nonce"`
	Sequence  string `json:"sequence"`
}
