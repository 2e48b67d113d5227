package bridge

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"
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

// deviceEntry is one element of bridge/devices.
type deviceEntry struct {
	ID           string        `json:"id"`
	Vendor       string        `json:"vendor"`
	VendorID     string        `json:"vendor_id"`
	Account      string        `json:"account"`
	Name         string        `json:"name"`
	Manufacturer string        `json:"manufacturer"`
	Model        string        `json:"model"`
	SWVersion    string        `json:"sw_version"`
	Online       bool          `json:"online"`
	Entities     []entityEntry `json:"entities"`
}

type entityEntry struct {
	Key         string `json:"key"`
	Platform    string `json:"platform"`
	DeviceClass string `json:"device_class,omitempty"`
	Unit        string `json:"unit,omitempty"`
	Writable    bool   `json:"writable"`
}

func (b *Bridge) publishDeviceList() {
	b.mu.Lock()
	list := make([]deviceEntry, 0, len(b.devices))
	for _, d := range b.devices {
		e := deviceEntry{
			ID: d.key.String(), Vendor: d.key.vendor, VendorID: d.dev.ID,
			Name: d.name(), Manufacturer: d.dev.Manufacturer, Model: d.dev.Model,
			SWVersion: d.dev.SWVersion, Online: d.onlineKnown && d.online,
			Entities: make([]entityEntry, len(d.dev.Entities)),
		}
		if a := d.route(); a != nil {
			e.Account = a.name
		} else if len(d.owners) > 0 {
			e.Account = d.owners[0].acct.name
		}
		for i, en := range d.dev.Entities {
			e.Entities[i] = entityEntry{Key: en.Key, Platform: string(en.Platform), DeviceClass: en.DeviceClass, Unit: en.Unit, Writable: en.Writable}
		}
		list = append(list, e)
	}
	b.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	if p, err := jsonMarshal(list); err == nil {
		b.pub(b.topics.BridgeTopic("devices"), 1, true, p, "bridge")
	}
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
