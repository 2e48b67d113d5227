package expeed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The seed types several fields loosely (msg_type "1" and 3, message_id
// "10086" and 10086), so numbers are read from JSON numbers or numeric
// strings, and ids from strings or numbers.

// looseInt is an integer sent as a JSON number or a numeric string.
type looseInt struct {
	V   int64
	Set bool
}

func (l *looseInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*l = looseInt{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*l = looseInt{V: n, Set: true}
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("not an integer: %s", clip(s, 24))
	}
	*l = looseInt{V: int64(f), Set: true}
	return nil
}

// looseString is a string sent as a JSON string or number.
type looseString string

func (l *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*l = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = looseString(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("not a string or number")
	}
	*l = looseString(n.String())
	return nil
}

// envelope is what every answer of the cloud carries. The seed writes both
// result_message and result_msg; either is read.
type envelope struct {
	Code    looseInt    `json:"result_code"`
	Message looseString `json:"result_message"`
	Msg     looseString `json:"result_msg"`
}

func (e envelope) message() string {
	if e.Message != "" {
		return string(e.Message)
	}
	return string(e.Msg)
}

// cloudError is a non-zero result_code.
type cloudError struct {
	Code    int64
	Message string
}

func (e *cloudError) Error() string {
	return fmt.Sprintf("result_code %d (%s)", e.Code, clip(e.Message, 80))
}

// decodeEnvelope reads the common fields into env and the rest into v;
// a non-zero result_code becomes a *cloudError.
func decodeEnvelope(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("answer is not a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if !env.Code.Set {
		return errors.New("answer has no result_code")
	}
	if env.Code.V != 0 {
		return &cloudError{Code: env.Code.V, Message: env.message()}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	return nil
}

// tokenAnswer is GET /platform/token's answer.
type tokenAnswer struct {
	Token     string
	ExpiresIn time.Duration
}

func decodeToken(body []byte) (tokenAnswer, error) {
	var v struct {
		AccessToken looseString `json:"access_token"`
		Token       looseString `json:"token"`
		ExpiresIn   looseInt    `json:"expires_in"`
	}
	if err := decodeEnvelope(body, &v); err != nil {
		return tokenAnswer{}, err
	}
	tok := string(v.AccessToken)
	if tok == "" {
		tok = string(v.Token)
	}
	if tok == "" {
		return tokenAnswer{}, errors.New("token answer without access_token")
	}
	exp := time.Duration(v.ExpiresIn.V) * time.Second
	if !v.ExpiresIn.Set || v.ExpiresIn.V <= 0 || v.ExpiresIn.V > 30*86400 {
		exp = 7200 * time.Second
	}
	return tokenAnswer{Token: tok, ExpiresIn: exp}, nil
}

// decodeStatus reads device_status (query API: 1 online, 0 offline).
func decodeStatus(body []byte) (online bool, err error) {
	var v struct {
		Status looseInt `json:"device_status"`
	}
	if err := decodeEnvelope(body, &v); err != nil {
		return false, err
	}
	if !v.Status.Set || (v.Status.V != 0 && v.Status.V != 1) {
		return false, errors.New("status answer without device_status 0 or 1")
	}
	return v.Status.V == 1, nil
}

// record is one sample: a time and the datapoints reported then.
type record struct {
	At time.Time // zero when absent or unreadable
	// StampErr says why At is zero although a timestamp was sent.
	StampErr error
	Values   map[string]json.RawMessage
}

// decodeRecord reads {"timestamp": ..., "<dp>": <value>, ...}.
func decodeRecord(raw json.RawMessage, zone *time.Location) (record, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return record{}, errors.New("not a JSON object")
	}
	rec := record{Values: make(map[string]json.RawMessage, len(m))}
	for k, v := range m {
		if k == "timestamp" {
			var s looseString
			if err := json.Unmarshal(v, &s); err != nil {
				rec.StampErr = fmt.Errorf("timestamp: %w", err)
				continue
			}
			if s == "" {
				continue
			}
			if t, err := parseStamp(string(s), zone); err == nil {
				rec.At = t
			} else {
				rec.StampErr = err
			}
			continue
		}
		if k == "" {
			continue
		}
		rec.Values[k] = v
	}
	return rec, nil
}

// decodeCurrent reads currentDatapoints' answer.
func decodeCurrent(body []byte, zone *time.Location) (record, error) {
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	if err := decodeEnvelope(body, &v); err != nil {
		return record{}, err
	}
	if len(v.Data) == 0 || string(v.Data) == "null" {
		return record{Values: map[string]json.RawMessage{}}, nil
	}
	rec, err := decodeRecord(v.Data, zone)
	if err != nil {
		return record{}, fmt.Errorf("current datapoints: data is %v", err)
	}
	return rec, nil
}

// historyPage is one page of datapoints' answer; Cursor is opaque ("" at the end).
type historyPage struct {
	Records []record
	Cursor  string
}

func decodeHistory(body []byte, zone *time.Location) (historyPage, error) {
	var v struct {
		Cursor looseString       `json:"cursor"`
		Data   []json.RawMessage `json:"data"`
	}
	if err := decodeEnvelope(body, &v); err != nil {
		return historyPage{}, err
	}
	page := historyPage{Cursor: string(v.Cursor)}
	if page.Cursor == "0" {
		page.Cursor = ""
	}
	for i, raw := range v.Data {
		rec, err := decodeRecord(raw, zone)
		if err != nil {
			return historyPage{}, fmt.Errorf("history data[%d] is %v", i, err)
		}
		page.Records = append(page.Records, rec)
	}
	return page, nil
}

// decodeSetting reads device_setting's answer: the message_id.
func decodeSetting(body []byte) (string, error) {
	var v struct {
		MessageID looseString `json:"message_id"`
	}
	if err := decodeEnvelope(body, &v); err != nil {
		return "", err
	}
	if v.MessageID == "" {
		return "", errors.New("setting answer without message_id")
	}
	return string(v.MessageID), nil
}

// sortRecords orders samples by time; samples without a time keep their
// place after the timed ones (they are stamped with the receive time).
func sortRecords(recs []record) {
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i].At, recs[j].At
		if a.IsZero() || b.IsZero() {
			return !a.IsZero() && b.IsZero()
		}
		return a.Before(b)
	})
}
