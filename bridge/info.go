package bridge

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Info is the content of bridge/info. The bridge device's discovery templates
// read this shape.
type Info struct {
	Version         string        `json:"version"`
	Commit          string        `json:"commit"`
	StartTime       time.Time     `json:"start_time"`
	BaseTopic       string        `json:"base_topic"`
	DiscoveryPrefix string        `json:"discovery_prefix"`
	Devices         int           `json:"devices"`
	Accounts        []AccountInfo `json:"accounts"`
}

// AccountInfo is one account in bridge/info.
type AccountInfo struct {
	ID           string            `json:"id"` // <vendor>/<account>
	Vendor       string            `json:"vendor"`
	Account      string            `json:"account"`
	Status       string            `json:"status"`
	LastError    string            `json:"last_error"`
	Devices      int               `json:"devices"`
	ReauthNeeded bool              `json:"reauth_needed"`
	ReauthURL    string            `json:"reauth_url"`
	Budget       map[string]int64  `json:"budget"`
	Info         map[string]string `json:"info"`
}

// Info returns what bridge/info shows now.
func (b *Bridge) Info() Info {
	b.mu.Lock()
	defer b.mu.Unlock()
	info := Info{
		Version:         b.opts.Version,
		Commit:          b.opts.Commit,
		StartTime:       b.startTime.UTC().Truncate(time.Second),
		BaseTopic:       b.topics.BaseTopic,
		DiscoveryPrefix: b.topics.Prefix,
		Devices:         len(b.devices),
		Accounts:        make([]AccountInfo, 0, len(b.accounts)),
	}
	for _, a := range b.accounts {
		ai := AccountInfo{
			ID: a.id, Vendor: a.vendor, Account: a.name,
			Status: string(a.st.State), LastError: a.st.LastError,
			Devices:      len(a.devs),
			ReauthNeeded: a.st.Reauth, ReauthURL: a.st.ReauthURL,
			Budget: a.st.Budget, Info: a.st.Info,
		}
		if ai.Budget == nil {
			ai.Budget = map[string]int64{}
		}
		if ai.Info == nil {
			ai.Info = map[string]string{}
		}
		info.Accounts = append(info.Accounts, ai)
	}
	return info
}

func (b *Bridge) publishInfo() {
	info := b.Info()
	b.mu.Lock()
	for _, a := range b.accounts {
		online := 0
		for k := range a.devs {
			if d := b.devices[k]; d != nil && d.online {
				online++
			}
		}
		b.m.AccountDevices(a.vendor, a.name, len(a.devs), online)
	}
	b.mu.Unlock()
	if p, err := jsonMarshal(info); err == nil {
		b.pub(b.topics.BridgeTopic("info"), 1, true, p, "bridge")
	}
}

func (b *Bridge) publishDeviceList() {
	b.mu.Lock()
	list := make([]listEntry, 0, len(b.devices))
	for _, d := range b.devices {
		e := listEntry{id: d.key.String(), vendor: d.key.vendor, dev: d.dev, name: d.name(), online: d.onlineKnown && d.online}
		if a := d.route(); a != nil {
			e.account = a.name
		} else if len(d.owners) > 0 {
			e.account = d.owners[0].acct.name
		}
		list = append(list, e)
	}
	b.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].id < list[j].id })
	b.pub(b.topics.BridgeTopic("devices"), 1, true, deviceList(list), "bridge")
}

// listEntry is what bridge/devices shows of a device, taken under b.mu; the
// device's inventory entry is never mutated, so it is read after.
type listEntry struct {
	id, vendor, account, name string
	dev                       *vendors.Device
	online                    bool
}

// deviceList is the bridge/devices payload (see mqtt-api.md), as
// encoding/json without HTML escaping would write it. With ten thousand
// devices it is megabytes, and paho copies it again to send it: it is
// measured entry by entry first and written into a buffer of exactly its
// size, as a buffer grown by appending holds up to twice the list while it
// is copied, at the moment the inventories arrive and the heap peaks.
func deviceList(list []listEntry) []byte {
	size := len("[]") + max(len(list)-1, 0) // brackets and commas
	var scratch []byte
	for i := range list {
		scratch = appendListEntry(scratch[:0], &list[i])
		size += len(scratch)
	}
	return appendDeviceList(make([]byte, 0, size), list)
}

func appendDeviceList(b []byte, list []listEntry) []byte {
	b = append(b, '[')
	for i := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendListEntry(b, &list[i])
	}
	return append(b, ']')
}

func appendListEntry(b []byte, e *listEntry) []byte {
	b = appendField(b, `{"id":`, e.id)
	b = appendField(b, `,"vendor":`, e.vendor)
	b = appendField(b, `,"vendor_id":`, e.dev.ID)
	b = appendField(b, `,"account":`, e.account)
	b = appendField(b, `,"name":`, e.name)
	b = appendField(b, `,"manufacturer":`, e.dev.Manufacturer)
	b = appendField(b, `,"model":`, e.dev.Model)
	b = appendField(b, `,"sw_version":`, e.dev.SWVersion)
	b = strconv.AppendBool(append(b, `,"online":`...), e.online)
	b = append(b, `,"entities":[`...)
	for j := range e.dev.Entities {
		en := &e.dev.Entities[j]
		if j > 0 {
			b = append(b, ',')
		}
		b = appendField(b, `{"key":`, en.Key)
		b = appendField(b, `,"platform":`, string(en.Platform))
		if en.DeviceClass != "" {
			b = appendField(b, `,"device_class":`, en.DeviceClass)
		}
		if en.Unit != "" {
			b = appendField(b, `,"unit":`, en.Unit)
		}
		b = strconv.AppendBool(append(b, `,"writable":`...), en.Writable)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func appendField(b []byte, name, value string) []byte {
	return appendString(append(b, name...), value)
}

// bridgeEvent builds a bridge/event message.
func (b *Bridge) bridgeEvent(typ string, data any) outMsg {
	p, _ := jsonMarshal(map[string]any{"type": typ, "data": data})
	return outMsg{topic: b.topics.BridgeTopic("event"), payload: p, qos: 1, kind: "event"}
}

func deviceEventData(d *device, a *account) map[string]any {
	return map[string]any{
		"id": d.key.String(), "vendor": d.key.vendor, "vendor_id": d.dev.ID,
		"account": a.name, "name": d.name(),
	}
}

// DeviceValues calls emit for every numeric value in the state cache (for
// the optional per-device metrics).
func (b *Bridge) DeviceValues(emit func(vendor, device, key string, value float64)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.devices {
		for _, e := range d.values {
			if f, ok := e.val.(float64); ok {
				emit(d.key.vendor, d.key.id, e.key, f)
			}
		}
	}
}

// jsonMarshal is json.Marshal without HTML escaping.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
