package ewelink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// pageSize is the thing list page (the cloud times out above 30, §5.2).
const pageSize = 30

// thingItem is one entry of the thing list.
type thingItem struct {
	ItemType flexInt         `json:"itemType"`
	Index    flexInt         `json:"index"`
	ItemData json.RawMessage `json:"itemData"`
}

// deviceData is a device item (itemType 1 own, 2 shared, 5 shared via home).
type deviceData struct {
	Name         string   `json:"name"`
	DeviceID     string   `json:"deviceid"`
	APIKey       string   `json:"apikey"`
	Online       flexBool `json:"online"`
	BrandName    string   `json:"brandName"`
	ProductModel string   `json:"productModel"`
	Extra        struct {
		UIID  flexInt `json:"uiid"`
		Model string  `json:"model"`
		Mac   string  `json:"mac"`
	} `json:"extra"`
	Params json.RawMessage `json:"params"`
	Tags   json.RawMessage `json:"tags"`
}

// thingPage is the data of GET /v2/device/thing.
type thingPage struct {
	ThingList []thingItem `json:"thingList"`
	Total     flexInt     `json:"total"`
}

// decodeThingPage parses one page and returns its devices (groups and
// items without a deviceid are skipped) and the highest index seen.
func decodeThingPage(data []byte) ([]deviceData, int, int, error) {
	var page thingPage
	if err := json.Unmarshal(data, &page); err != nil {
		return nil, 0, 0, fmt.Errorf("thing list: %w", err)
	}
	var out []deviceData
	last := -1 << 31
	for _, it := range page.ThingList {
		if int(it.Index) > last {
			last = int(it.Index)
		}
		switch it.ItemType {
		case 1, 2, 5:
		default:
			continue
		}
		var d deviceData
		if err := json.Unmarshal(it.ItemData, &d); err != nil || !validID(d.DeviceID) {
			continue
		}
		out = append(out, d)
	}
	return out, len(page.ThingList), last, nil
}

// validID accepts device ids that can become topic and entity parts.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// families lists the homes; the thing list only shows one home per call.
func (a *Adapter) families(ctx context.Context, prio vendorkit.Priority) ([]string, error) {
	var d struct {
		FamilyList []struct {
			ID string `json:"id"`
		} `json:"familyList"`
	}
	err := a.call(ctx, request{op: "GET /v2/family", method: http.MethodGet, prio: prio, counted: true}, &d)
	if err != nil {
		switch cloudCode(err) {
		case 403, 405, 407:
			return []string{""}, nil // no home API: the current home is all there is
		}
		return nil, err
	}
	var out []string
	for _, f := range d.FamilyList {
		if f.ID != "" && !contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out, nil
}

// relist reads every home's thing list page by page and replaces the
// device set (reference §5.2: num 30, beginIndex = last index + 1).
func (a *Adapter) relist(ctx context.Context, prio vendorkit.Priority) error {
	a.relistMu.Lock()
	defer a.relistMu.Unlock()
	a.mu.Lock()
	a.relisting = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.relisting, a.during = false, nil
		a.mu.Unlock()
	}()
	homes, err := a.families(ctx, prio)
	if err != nil {
		return err
	}
	var all []deviceData
	seen := map[string]bool{}
	for _, home := range homes {
		begin := 0
		for page := 0; page < 100; page++ {
			q := url.Values{"num": {strconv.Itoa(pageSize)}}
			if home != "" {
				q.Set("familyid", home)
			}
			if page > 0 {
				q.Set("beginIndex", strconv.Itoa(begin))
			}
			var raw json.RawMessage
			if err := a.call(ctx, request{op: "GET /v2/device/thing", method: http.MethodGet, query: q, prio: prio, counted: true}, &raw); err != nil {
				return err
			}
			devs, n, last, err := decodeThingPage(raw)
			if err != nil {
				return &vendors.Error{Code: vendors.CodeCloud, Message: "thing list unreadable", Err: err}
			}
			for _, d := range devs {
				if !seen[d.DeviceID] {
					seen[d.DeviceID] = true
					all = append(all, d)
				}
			}
			if n < pageSize || last+1 <= begin {
				break
			}
			begin = last + 1
		}
	}
	a.applyList(all)
	a.reportBudget()
	return nil
}

// applyList installs a full device list: new things, changed entities,
// fresh state and availability.
func (a *Adapter) applyList(list []deviceData) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := make(map[string]*thing, len(list))
	// the params that rest as the list's JSON once mapped: decoded for a
	// moment each (here, then for the values below) rather than all at once
	resting := make(map[*thing][]byte, len(list))
	for _, d := range list {
		t := a.things[d.DeviceID]
		if t == nil {
			t = &thing{id: d.DeviceID, book: a.book}
		}
		p, err := decodeParams(d.Params)
		if err != nil {
			a.log.Debug().Err(err).Str("device", d.DeviceID).Msg("device params unreadable")
			p = params{}
		} else {
			resting[t] = d.Params // its own copy (json.RawMessage)
		}
		tags := usedTags(d.Tags)
		t.name = strings.TrimSpace(d.Name)
		if t.name == "" {
			t.name = d.DeviceID
		}
		t.apikey, t.uiid, t.online = listStrings.InternString(d.APIKey), int(d.Extra.UIID), bool(d.Online)
		t.brand, t.model, t.modelID = listStrings.InternString(d.BrandName), listStrings.InternString(d.ProductModel), listStrings.InternString(d.Extra.Model)
		t.mac = d.Extra.Mac
		t.tags = tags
		t.parent, _ = text(p["parentid"])
		if !knownUIID(t.uiid) && !a.unknownLogged[t.uiid] {
			a.unknownLogged[t.uiid] = true
			a.log.Info().Int("uiid", t.uiid).Str("device", t.id).Str("model", t.model).Msg("unknown uiid; using the generic switch mapping")
		}
		t.spec = specFor(t.uiid, p)
		a.observeLocked(t, p, false)
		t.cur = p
		t.build()
		if raw, ok := resting[t]; ok {
			t.restParams(raw)
		}
		next[t.id] = t
	}
	for _, t := range next {
		if t.parent != "" && next[t.parent] == nil {
			t.device.Via = ""
		}
	}
	a.things = next
	a.sendInventoryLocked(false)
	// Reports that came while the list was read are newer than (or part of)
	// the list: apply them again on top, in order.
	type fired struct {
		id string
		ev firedEvent
	}
	var events []fired
	for _, r := range a.during {
		if t := a.things[r.id]; t != nil {
			for _, ev := range a.observeLocked(t, r.p, r.live && !r.applied) {
				events = append(events, fired{r.id, ev})
			}
			t.params().merge(r.p.clone())
			t.build()
			delete(resting, t) // its params are no longer the list's
		}
	}
	a.during = nil
	for _, id := range a.sortedIDsLocked() {
		t := a.things[id]
		a.publishAvailabilityLocked(t)
		if vals := t.values(); len(vals) > 0 {
			a.sinkLocked().Update(id, vals)
		}
		if raw, ok := resting[t]; ok {
			t.restParams(raw)
		}
	}
	for _, f := range events {
		a.sinkLocked().Event(f.id, f.ev.key, f.ev.typ, f.ev.attrs)
	}
	a.needRelist = false
}

// heldReport is a report that arrived while the list was being read.
type heldReport struct {
	id      string
	p       params
	live    bool
	applied bool // the device was known, so the report was applied already
}

// maxHeld bounds the reports kept during one relist.
const maxHeld = 2000

func (a *Adapter) sortedIDsLocked() []string {
	ids := make([]string, 0, len(a.things))
	for id := range a.things {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// listStrings shares the strings every device of a kind repeats (brand,
// model, the owner's apikey) among the things.
var listStrings vendorkit.Interner

// usedTags keeps the tags the mapping reads (channel names, RF remotes);
// nil when there are none, as for most devices.
func usedTags(raw []byte) params {
	all, _ := decodeParams(raw)
	var kept params
	for _, k := range []string{"ck_channel_name", "zyx_info"} {
		if v, ok := all[k]; ok {
			if kept == nil {
				kept = params{}
			}
			kept[k] = v
		}
	}
	return kept
}

// sendInventoryLocked sends the device list when it changed (or always).
func (a *Adapter) sendInventoryLocked(force bool) {
	ids := a.sortedIDsLocked()
	devs := make([]vendors.Device, 0, len(ids))
	var sig strings.Builder
	for _, id := range ids {
		t := a.things[id]
		d := t.device // its entities are interned: shared, never changed
		devs = append(devs, d)
		fmt.Fprintf(&sig, "%s|%s|%s|%s|%s|%s;", id, d.Name, d.SWVersion, d.Model, d.Via, t.sig)
	}
	if !force && a.listed && sig.String() == a.invSig {
		return
	}
	a.listed, a.invSig = true, sig.String()
	a.sinkLocked().Inventory(devs)
}

// availableLocked is a device's effective availability: a Zigbee sub-device
// is offline while its gateway is.
func (a *Adapter) availableLocked(t *thing) bool {
	if !t.online {
		return false
	}
	if p := a.things[t.parent]; t.parent != "" && p != nil && !p.online {
		return false
	}
	return true
}

func (a *Adapter) publishAvailabilityLocked(t *thing) {
	on := a.availableLocked(t)
	if t.avail != nil && *t.avail == on {
		return
	}
	t.avail = &on
	a.sinkLocked().Availability(t.id, on)
}

// observeLocked lets the features see a report before it is merged.
func (a *Adapter) observeLocked(t *thing, upd params, live bool) []firedEvent {
	var events []firedEvent
	for _, f := range t.spec.features {
		if o, ok := f.(observer); ok {
			events = append(events, o.observe(t, upd, live)...)
		}
	}
	return events
}

// applyReport merges a (partial) report into a device and reports what
// changed. live marks reports the device pushed just now.
func (a *Adapter) applyReport(id string, upd params, live bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.things[id]
	if a.relisting && len(a.during) < maxHeld {
		a.during = append(a.during, heldReport{id: id, p: upd.clone(), live: live, applied: t != nil})
	}
	if t == nil {
		a.log.Debug().Str("device", id).Msg("report for an unlisted device ignored")
		return
	}
	events := a.observeLocked(t, upd, live)
	if live && !t.online && !onlySignal(upd) {
		// Any report from a device marked offline means it is back (§6.4).
		t.online = true
		a.availabilityChangedLocked(t)
	}
	rebuild := t.needsBuild(upd)
	t.params().merge(upd)
	if p, ok := text(upd["parentid"]); ok {
		t.parent = p
	}
	var vals map[string]any
	if rebuild {
		if t.build() {
			a.sendInventoryLocked(false)
		}
		vals = t.values()
	} else {
		vals = t.valuesAfter(upd)
	}
	if len(vals) > 0 {
		a.sinkLocked().Update(id, vals)
	}
	for _, ev := range events {
		a.sinkLocked().Event(id, ev.key, ev.typ, ev.attrs)
	}
}

// onlySignal is a report carrying only subDevRssi, which the cloud also
// sends for offline Zigbee devices.
func onlySignal(p params) bool {
	for k := range p {
		if k != "subDevRssi" {
			return false
		}
	}
	return true
}

// setOnline applies a sysmsg online change.
func (a *Adapter) setOnline(id string, online bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.things[id]
	if t == nil || t.online == online {
		return
	}
	t.online = online
	a.availabilityChangedLocked(t)
}

// availabilityChangedLocked publishes availability of t and its sub-devices,
// and the values that depend on it (motion goes OFF while offline).
func (a *Adapter) availabilityChangedLocked(t *thing) {
	for _, id := range a.sortedIDsLocked() {
		c := a.things[id]
		if c != t && c.parent != t.id {
			continue
		}
		a.publishAvailabilityLocked(c)
		if vals := c.values(); len(vals) > 0 {
			a.sinkLocked().Update(c.id, vals)
		}
	}
}

// handleFrame routes one WebSocket frame.
func (a *Adapter) handleFrame(w *wsConn, f frame, raw []byte) {
	switch {
	case f.Pong:
	case f.Action == "update":
		p, ok := f.reportParams()
		if !ok || f.DeviceID == "" {
			return
		}
		if a.log.Debug().Enabled() {
			a.log.Debug().Str("device", f.DeviceID).Str("frame", truncate(string(raw), 300)).Msg("device report")
		}
		a.applyReport(f.DeviceID, p, true)
	case f.Action == "sysmsg":
		p, ok := f.reportParams()
		if !ok || f.DeviceID == "" {
			return
		}
		if on, ok := onOff(p["online"]); ok {
			a.setOnline(f.DeviceID, on)
		}
		delete(p, "online")
		if len(p) > 0 {
			a.applyReport(f.DeviceID, p, false)
		}
	case f.Action == "" && f.Sequence != "":
		if p, ok := f.reportParams(); ok && f.DeviceID != "" && f.code() == 0 {
			a.applyReport(f.DeviceID, p, false)
		}
		w.deliver(f)
	default:
		a.log.Debug().Str("action", truncate(f.Action, 40)).Msg("websocket message ignored")
	}
}
