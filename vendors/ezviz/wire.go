package ezviz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// envelope is the reply of every /api/lapp call: code is a string ("200")
// in the docs and a number in some replies; data is an object, an array or
// absent; page only comes with lists. Detector lists wrap it in "result".
type envelope struct {
	Code flexString      `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
	Page *pageInfo       `json:"page"`
}

type pageInfo struct {
	Total flexInt `json:"total"`
	Page  flexInt `json:"page"`
	Size  flexInt `json:"size"`
}

func decodeEnvelope(body []byte) (*envelope, error) {
	var wrapper struct {
		envelope
		Result *envelope `json:"result"`
	}
	if err := json.Unmarshal(body, &wrapper); err != nil {
		return nil, fmt.Errorf("reply is not JSON: %w", jsonErr(err))
	}
	env := wrapper.envelope
	if env.Code == "" && wrapper.Result != nil {
		env = *wrapper.Result
	}
	if env.Code == "" {
		return nil, errors.New("reply has no code")
	}
	return &env, nil
}

// jsonErr drops the offending input from decoding errors (it may be long).
func jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("syntax error at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("field %q: unexpected %s", te.Field, te.Value)
	}
	return errors.New("invalid JSON")
}

// flexString accepts a JSON string, number or bool.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case string(b) == "true" || string(b) == "false":
		*f = flexString(b)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexInt accepts a JSON number or a numeric string; null and "" read as
// unset (Set false).
type flexInt struct {
	V   int64
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	str := strings.TrimSpace(string(s))
	switch str {
	case "":
		*f = flexInt{}
		return nil
	case "true":
		*f = flexInt{1, true}
		return nil
	case "false":
		*f = flexInt{0, true}
		return nil
	}
	if v, err := strconv.ParseInt(str, 10, 64); err == nil {
		*f = flexInt{v, true}
		return nil
	}
	v, err := strconv.ParseFloat(str, 64)
	if err != nil || v != v || v > 9e18 || v < -9e18 {
		return fmt.Errorf("not a number: %.20q", str)
	}
	*f = flexInt{int64(v), true}
	return nil
}

// or returns the value, or def when unset.
func (f flexInt) or(def int64) int64 {
	if !f.Set {
		return def
	}
	return f.V
}

// decodeData unmarshals an envelope's data into v; absent data is an error.
func decodeData(env *envelope, v any) error {
	if len(env.Data) == 0 || string(bytes.TrimSpace(env.Data)) == "null" {
		return errors.New("reply has no data")
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return fmt.Errorf("reply data: %w", jsonErr(err))
	}
	return nil
}

// decodeList unmarshals an array data; absent data is an empty list.
func decodeList[T any](env *envelope) ([]T, error) {
	var out []T
	d := bytes.TrimSpace(env.Data)
	if len(d) == 0 || string(d) == "null" {
		return nil, nil
	}
	if err := json.Unmarshal(d, &out); err != nil {
		return nil, fmt.Errorf("reply data: %w", jsonErr(err))
	}
	return out, nil
}

// tokenData is /api/lapp/token/get and /api/lapp/trust/device/v2/token/get.
type tokenData struct {
	AccessToken string  `json:"accessToken"`
	ExpireTime  flexInt `json:"expireTime"`
	AreaDomain  string  `json:"areaDomain"`
}

func decodeToken(env *envelope) (tokenData, error) {
	var t tokenData
	if err := decodeData(env, &t); err != nil {
		return t, err
	}
	if t.AccessToken == "" || !t.ExpireTime.Set {
		return t, errors.New("token reply without accessToken or expireTime")
	}
	return t, nil
}

// deviceItem is one /api/lapp/device/list entry (and the fields of
// /api/lapp/device/info the bridge reads).
type deviceItem struct {
	Serial         string  `json:"deviceSerial"`
	Name           string  `json:"deviceName"`
	Type           string  `json:"deviceType"`
	Model          string  `json:"model"`
	Status         flexInt `json:"status"`
	Defence        flexInt `json:"defence"`
	Version        string  `json:"deviceVersion"`
	ParentCategory string  `json:"parentCategory"`
	Category       string  `json:"category"`
}

func decodeDeviceList(env *envelope) ([]deviceItem, error) { return decodeList[deviceItem](env) }

func decodeDeviceInfo(env *envelope) (deviceItem, error) {
	var d deviceItem
	err := decodeData(env, &d)
	return d, err
}

// trustItem is one /api/lapp/trust/device/list entry (one per channel).
type trustItem struct {
	Serial     string  `json:"deviceSerial"`
	DeviceName string  `json:"deviceName"`
	CameraName string  `json:"cameraName"`
	CustomName string  `json:"customName"`
	ChannelNo  flexInt `json:"channelNo"`
	Status     flexInt `json:"status"`
	IsAdd      flexInt `json:"isAdd"`
}

func decodeTrustList(env *envelope) ([]trustItem, error) { return decodeList[trustItem](env) }

// channelItem is one /api/lapp/device/camera/list entry.
type channelItem struct {
	Serial      string  `json:"deviceSerial"`
	IPCSerial   string  `json:"ipcSerial"`
	ChannelNo   flexInt `json:"channelNo"`
	DeviceName  string  `json:"deviceName"`
	ChannelName string  `json:"channelName"`
	Status      flexInt `json:"status"`
	IsEncrypt   flexInt `json:"isEncrypt"`
}

func decodeChannels(env *envelope) ([]channelItem, error) { return decodeList[channelItem](env) }

// decodeCapacity reads the flat map of capability flags.
func decodeCapacity(env *envelope) (map[string]string, error) {
	var raw map[string]flexString
	if err := decodeData(env, &raw); err != nil {
		return nil, err
	}
	caps := make(map[string]string, len(raw))
	for k, v := range raw {
		caps[k] = string(v)
	}
	return caps, nil
}

// statusData is /api/lapp/device/status/get.
type statusData struct {
	Privacy    flexInt `json:"privacyStatus"`
	PIR        flexInt `json:"pirStatus"`
	AlarmSound flexInt `json:"alarmSoundMode"`
	Battery    flexInt `json:"battryStatus"`
	Signal     flexInt `json:"signal"`
	DiskNum    flexInt `json:"diskNum"`
	DiskState  string  `json:"diskState"`
	Cloud      flexInt `json:"cloudStatus"`
	WakeUp     flexInt `json:"wakeUpStatus"`
}

func decodeStatus(env *envelope) (statusData, error) {
	var s statusData
	err := decodeData(env, &s)
	return s, err
}

// decodeEnable reads {"enable": 0|1} (switch status endpoints), or the
// per-channel array of camera/video/sound/status.
func decodeEnable(env *envelope, channel int) (bool, error) {
	type item struct {
		ChannelNo flexInt `json:"channelNo"`
		Enable    flexInt `json:"enable"`
	}
	d := bytes.TrimSpace(env.Data)
	if len(d) > 0 && d[0] == '[' {
		items, err := decodeList[item](env)
		if err != nil {
			return false, err
		}
		for _, it := range items {
			if !it.ChannelNo.Set || it.ChannelNo.V == int64(channel) {
				if !it.Enable.Set {
					break
				}
				return it.Enable.V == 1, nil
			}
		}
		return false, errors.New("reply lists no state for the channel")
	}
	var it item
	if err := decodeData(env, &it); err != nil {
		return false, err
	}
	if !it.Enable.Set {
		return false, errors.New("reply has no enable field")
	}
	return it.Enable.V == 1, nil
}

func decodeCapture(env *envelope) (string, error) {
	var c struct {
		PicURL string `json:"picUrl"`
	}
	if err := decodeData(env, &c); err != nil {
		return "", err
	}
	if c.PicURL == "" {
		return "", errors.New("capture reply without picUrl")
	}
	return c.PicURL, nil
}

// alarmItem is one /api/lapp/alarm/list entry. alarmPicUrl is not kept: it
// is a signed URL.
type alarmItem struct {
	ID        flexString `json:"alarmId"`
	Name      string     `json:"alarmName"`
	Type      flexInt    `json:"alarmType"`
	Time      flexInt    `json:"alarmTime"`
	ChannelNo flexInt    `json:"channelNo"`
	Serial    string     `json:"deviceSerial"`
}

func decodeAlarms(env *envelope) ([]alarmItem, error) {
	items, err := decodeList[alarmItem](env)
	if err != nil {
		return nil, err
	}
	out := items[:0]
	for _, it := range items {
		if it.ID != "" && it.Serial != "" && it.Time.Set {
			out = append(out, it)
		}
	}
	return out, nil
}

type versionData struct {
	Current string `json:"currentVersion"`
	Latest  string `json:"latestVersion"`
}

func decodeVersion(env *envelope) (versionData, error) {
	var v versionData
	err := decodeData(env, &v)
	return v, err
}

type upgradeData struct {
	Progress flexInt `json:"progress"`
	Status   flexInt `json:"status"`
}

func decodeUpgrade(env *envelope) (upgradeData, error) {
	var u upgradeData
	if err := decodeData(env, &u); err != nil {
		return u, err
	}
	if !u.Status.Set {
		return u, errors.New("upgrade status reply without status")
	}
	return u, nil
}

type detectorItem struct {
	Serial   string `json:"detectorSerial"`
	Type     string `json:"detectorType"`
	Location string `json:"location"`
}

func decodeDetectors(env *envelope) ([]detectorItem, error) { return decodeList[detectorItem](env) }
