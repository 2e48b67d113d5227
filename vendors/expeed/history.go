package expeed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Request answers bridge/request/expeed/<action>. The one action, "history",
// pages through a device's datapoint history; its records are returned to
// the requester only, never published as live state.
func (a *Adapter) Request(ctx context.Context, action string, params json.RawMessage) (any, error) {
	if action != "history" {
		return nil, &vendors.Error{Code: vendors.CodeNotSupported, Message: fmt.Sprintf("expeed: no request %q (try history)", clip(action, 40))}
	}
	q, err := a.historyQuery(params)
	if err != nil {
		return nil, err
	}
	res, err := a.history(ctx, q)
	a.noteCall(err)
	return res, err
}

// historyParams is the request body.
type historyParams struct {
	Device     string          `json:"device"`
	Datapoints json.RawMessage `json:"datapoints"` // ["temp","switch"] or "temp,switch"; entity keys or names
	Start      string          `json:"start"`      // RFC 3339 or 2017-02-13T12-00-00-000 (zone)
	End        string          `json:"end"`
	Limit      int             `json:"limit"`  // per page, 1–6000 (default 100)
	Order      string          `json:"order"`  // newest (default) | oldest
	Cursor     looseString     `json:"cursor"` // continue a previous answer
	MaxPages   int             `json:"max_pages"`
}

type historyQuery struct {
	dev      *devEntry
	key      string
	names    []string
	start    time.Time
	end      time.Time
	limit    int
	first    int
	cursor   string
	maxPages int
}

// HistoryRecord is one sample in the answer.
type HistoryRecord struct {
	Timestamp string                     `json:"timestamp"` // RFC 3339
	Values    map[string]any             `json:"values"`    // by entity key, converted
	Raw       map[string]json.RawMessage `json:"raw"`       // by datapoint name, as sent
}

// HistoryResult is the answer to a history request.
type HistoryResult struct {
	Device  string          `json:"device"`
	Records []HistoryRecord `json:"records"`
	// Cursor continues where this answer stopped ("" when complete).
	Cursor   string `json:"cursor,omitempty"`
	Complete bool   `json:"complete"`
	Pages    int    `json:"pages"`
}

func (a *Adapter) historyQuery(params json.RawMessage) (*historyQuery, error) {
	bad := func(format string, args ...any) error {
		return &vendors.Error{Code: vendors.CodeInvalidValue, Message: "expeed history: " + fmt.Sprintf(format, args...)}
	}
	var p historyParams
	if len(bytes.TrimSpace(params)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(params))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, bad("parameters: %v", err)
		}
	}
	id := strings.TrimPrefix(p.Device, "expeed/")
	if id == "" {
		return nil, bad("device is required")
	}
	a.mu.Lock()
	d := a.devices[id]
	key := ""
	if d != nil {
		key = d.Key
	}
	a.mu.Unlock()
	if d == nil {
		return nil, &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "expeed history: no device " + strconv.Quote(clip(id, 64))}
	}
	if key == "" {
		return nil, &vendors.Error{Code: vendors.CodeNotSupported, Message: "expeed history: device " + id + " has no device_key yet"}
	}
	q := &historyQuery{dev: d, key: key, limit: 100, maxPages: a.s.HistoryMaxPages, cursor: string(p.Cursor)}
	names, err := a.historyNames(d, p.Datapoints)
	if err != nil {
		return nil, bad("%v", err)
	}
	q.names = names
	if (p.Start == "") != (p.End == "") {
		return nil, bad("start and end go together")
	}
	if p.Start != "" {
		if q.start, err = parseStamp(p.Start, a.s.zone); err != nil {
			return nil, bad("start: %v", err)
		}
		if q.end, err = parseStamp(p.End, a.s.zone); err != nil {
			return nil, bad("end: %v", err)
		}
		if q.end.Before(q.start) {
			return nil, bad("end is before start")
		}
	}
	if p.Limit != 0 {
		if p.Limit < 1 || p.Limit > 6000 {
			return nil, bad("limit must be 1–6000")
		}
		q.limit = p.Limit
	}
	switch p.Order {
	case "", "newest":
	case "oldest":
		q.first = 1
	default:
		return nil, bad("order must be newest or oldest")
	}
	if p.MaxPages != 0 {
		if p.MaxPages < 1 || p.MaxPages > a.s.HistoryMaxPages {
			return nil, bad("max_pages must be 1–%d (history_max_pages)", a.s.HistoryMaxPages)
		}
		q.maxPages = p.MaxPages
	}
	return q, nil
}

// historyNames resolves entity keys or datapoint names to datapoint names.
func (a *Adapter) historyNames(d *devEntry, raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("datapoints must be a list or a comma-separated string")
		}
		list = strings.Split(s, ",")
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("datapoints must be a list or a comma-separated string")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	for _, n := range list {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if sp := d.byKey[n]; sp != nil {
			n = sp.Name
		}
		if strings.ContainsAny(n, ",") || len(n) > 64 {
			return nil, fmt.Errorf("datapoint %q is not a name", clip(n, 64))
		}
		names = append(names, n)
	}
	return names, nil
}

// history pages through the cloud's answers: the cursor goes back unchanged;
// paging stops at an empty or short page, a cursor that does not move, or
// max_pages. Records are de-duplicated by (time, datapoint).
func (a *Adapter) history(ctx context.Context, q *historyQuery) (*HistoryResult, error) {
	res := &HistoryResult{Device: q.dev.ID, Records: []HistoryRecord{}}
	seen := map[string]bool{}
	cursor := q.cursor
	for res.Pages < q.maxPages {
		v := url.Values{"limit": {strconv.Itoa(q.limit)}, "first": {strconv.Itoa(q.first)}}
		if len(q.names) > 0 {
			v.Set("id", strings.Join(q.names, ","))
		}
		if !q.start.IsZero() {
			v.Set("start", formatStamp(q.start, a.s.zone))
			v.Set("end", formatStamp(q.end, a.s.zone))
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		body, err := a.call(ctx, apiCall{op: "datapoints", method: "GET",
			path: "/devices/" + url.PathEscape(q.dev.ID) + "/datapoints", query: v, key: q.key, prio: vendorkit.Low})
		if err != nil {
			return nil, err
		}
		page, err := decodeHistory(body, a.s.zone)
		if err != nil {
			return nil, classify("datapoints", err)
		}
		res.Pages++
		a.appendHistory(res, q.dev, page.Records, seen)
		if len(page.Records) == 0 || len(page.Records) < q.limit || page.Cursor == "" || page.Cursor == cursor {
			res.Complete = true
			return res, nil
		}
		cursor = page.Cursor
	}
	res.Cursor = cursor
	return res, nil
}

func (a *Adapter) appendHistory(res *HistoryResult, d *devEntry, recs []record, seen map[string]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, rec := range recs {
		hr := HistoryRecord{Values: map[string]any{}, Raw: map[string]json.RawMessage{}}
		if !rec.At.IsZero() {
			hr.Timestamp = rec.At.UTC().Format(time.RFC3339Nano)
		}
		names := make([]string, 0, len(rec.Values))
		for n := range rec.Values {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			k := hr.Timestamp + "\x00" + n
			if hr.Timestamp != "" && seen[k] {
				continue
			}
			seen[k] = true
			hr.Raw[n] = rec.Values[n]
			if sp := d.specs[n]; sp != nil {
				if v, err := sp.decode(rec.Values[n]); err == nil {
					hr.Values[sp.Entity.Key] = v
				}
			}
		}
		if len(hr.Raw) > 0 {
			res.Records = append(res.Records, hr)
		}
	}
}
