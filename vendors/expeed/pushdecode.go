package expeed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Push message types.
const (
	msgOnline  = 1 // device online/offline
	msgData    = 2 // data upload
	msgSetting = 3 // device_setting result
)

// maxRecords bounds the samples of one data push.
const maxRecords = 1000

// push is one decoded POST from the cloud.
type push struct {
	MsgType   int64
	DeviceID  string
	DeviceKey string
	DeviceSN  string
	// Status is device_status as sent (its meaning depends on the configured
	// online value, see §5.1 of the protocol notes).
	Status    int64
	Records   []record
	MessageID string
	// SetFailed is set_result 1.
	SetFailed bool
}

// decodePush reads a push body: JSON, or form fields as a fallback. Its errors
// are the reason sent back with a 400; they quote no input beyond a few bytes.
func decodePush(body []byte, zone *time.Location) (push, error) {
	fields, err := pushFields(body)
	if err != nil {
		return push{}, err
	}
	var p push
	var mt looseInt
	if raw, ok := fields["msg_type"]; !ok {
		return push{}, errors.New("msg_type missing")
	} else if err := json.Unmarshal(raw, &mt); err != nil || !mt.Set {
		return push{}, errors.New("msg_type is not a number")
	}
	p.MsgType = mt.V
	str := func(name string, required bool) (string, error) {
		raw, ok := fields[name]
		if !ok {
			if required {
				return "", fmt.Errorf("%s missing", name)
			}
			return "", nil
		}
		var s looseString
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%s is not a string", name)
		}
		if required && s == "" {
			return "", fmt.Errorf("%s is empty", name)
		}
		return string(s), nil
	}
	flag := func(name string) (int64, error) {
		raw, ok := fields[name]
		if !ok {
			return 0, fmt.Errorf("%s missing", name)
		}
		var n looseInt
		if err := json.Unmarshal(raw, &n); err != nil || !n.Set || (n.V != 0 && n.V != 1) {
			return 0, fmt.Errorf("%s is not 0 or 1", name)
		}
		return n.V, nil
	}
	switch p.MsgType {
	case msgOnline, msgData:
		if p.DeviceID, err = str("device_id", true); err != nil {
			return push{}, err
		}
		if p.DeviceKey, err = str("device_key", false); err != nil {
			return push{}, err
		}
		if p.DeviceSN, err = str("device_sn", false); err != nil {
			return push{}, err
		}
		if p.MsgType == msgOnline {
			if p.Status, err = flag("device_status"); err != nil {
				return push{}, err
			}
			return p, nil
		}
		p.Records, err = pushRecords(fields["data"], zone)
		return p, err
	case msgSetting:
		if p.MessageID, err = str("message_id", true); err != nil {
			return push{}, err
		}
		if p.DeviceID, err = str("device_id", false); err != nil {
			return push{}, err
		}
		r, err := flag("set_result")
		if err != nil {
			return push{}, err
		}
		p.SetFailed = r == 1
		return p, nil
	}
	return p, nil // an unknown msg_type is acknowledged and logged
}

// pushFields splits the body into its top-level fields.
func pushFields(body []byte) (map[string]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	if body[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("body is not valid JSON: %v", err)
		}
		return m, nil
	}
	if bytes.Contains(body, []byte("msg_type=")) {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("body is neither JSON nor form data")
		}
		m := make(map[string]json.RawMessage, len(vals))
		for k, v := range vals {
			if len(v) == 0 {
				continue
			}
			if k == "data" {
				m[k] = json.RawMessage(v[0])
				continue
			}
			b, _ := json.Marshal(v[0])
			m[k] = b
		}
		return m, nil
	}
	return nil, errors.New("body is neither JSON nor form data (is the push encryption mode set to plaintext?)")
}

// pushRecords reads data: an array of samples (one bare object is taken too).
func pushRecords(raw json.RawMessage, zone *time.Location) ([]record, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("data missing")
	}
	var items []json.RawMessage
	switch raw[0] {
	case '[':
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errors.New("data is not a JSON array")
		}
	case '{':
		items = []json.RawMessage{raw}
	default:
		return nil, errors.New("data is not an array of samples")
	}
	if len(items) > maxRecords {
		return nil, fmt.Errorf("data has %d samples, more than %d", len(items), maxRecords)
	}
	recs := make([]record, 0, len(items))
	for i, it := range items {
		rec, err := decodeRecord(it, zone)
		if err != nil {
			return nil, fmt.Errorf("data[%d] is %v", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
