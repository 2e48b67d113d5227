package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// response is the payload of <base>/bridge/response/<action>.
type response struct {
	Status      string          `json:"status"`
	Data        any             `json:"data"`
	Error       string          `json:"error,omitempty"`
	Transaction json.RawMessage `json:"transaction,omitempty"`
}

// onRequest handles <base>/bridge/request/<action>. Requests run in their own
// goroutines, at most cap(b.requests) at once.
func (b *Bridge) onRequest(m mqttx.Message) {
	action, ok := strings.CutPrefix(m.Topic, b.topics.BridgeTopic("request")+"/")
	if !ok || action == "" {
		return
	}
	b.m.MQTTReceived("request")
	topic := b.topics.BridgeTopic("response") + "/" + action
	params := map[string]json.RawMessage{}
	fail := func(tx json.RawMessage, format string, args ...any) {
		b.respond(topic, tx, nil, fmt.Errorf(format, args...), false)
	}
	switch {
	case len(m.Payload) > MaxCommandSize:
		fail(nil, "payload of %d bytes exceeds %d", len(m.Payload), MaxCommandSize)
		return
	case len(m.Payload) == 0 && m.Retained:
		return
	case len(m.Payload) > 0 && json.Unmarshal(m.Payload, &params) != nil:
		fail(nil, "request must be a JSON object")
		return
	}
	tx := params["transaction"]
	delete(params, "transaction")
	if m.Retained {
		fail(tx, "retained request ignored")
		return
	}
	select {
	case b.requests <- struct{}{}:
	default:
		fail(tx, "too many requests at once")
		return
	}
	go func() {
		defer func() { <-b.requests }()
		ctx, cancel := context.WithTimeout(b.runCtx, b.opts.CommandTimeout)
		defer cancel()
		data, err := b.request(ctx, action, params)
		b.respond(topic, tx, data, err, true)
	}()
}

func (b *Bridge) respond(topic string, tx json.RawMessage, data any, err error, wait bool) {
	r := response{Status: "ok", Data: data, Transaction: tx}
	if err != nil {
		r.Status, r.Error = "error", err.Error()
	}
	if r.Data == nil {
		r.Data = struct{}{}
	}
	p, mErr := jsonMarshal(r)
	if mErr != nil {
		p, _ = jsonMarshal(response{Status: "error", Data: struct{}{}, Error: "response not encodable: " + mErr.Error(), Transaction: tx})
	}
	msg := outMsg{topic: topic, payload: p, qos: 1, kind: "response"}
	if wait {
		b.queueOutWait(b.runCtx, msg)
	} else {
		b.queueOut(msg)
	}
}

func (b *Bridge) request(ctx context.Context, action string, params map[string]json.RawMessage) (any, error) {
	switch action {
	case "health":
		return b.Health(), nil
	case "discovery/republish":
		if b.opts.DisableDiscovery {
			return nil, errors.New("discovery is disabled")
		}
		b.republish(configsOnly)
		b.mu.Lock()
		n := len(b.devices)
		b.mu.Unlock()
		return map[string]any{"devices": n}, nil
	case "refresh":
		var id string
		if raw, ok := params["device"]; ok {
			if err := json.Unmarshal(raw, &id); err != nil {
				return nil, errors.New(`"device" must be "<vendor>/<id>"`)
			}
		}
		return b.refresh(ctx, id)
	}
	vendor, vaction, ok := strings.Cut(action, "/")
	if !ok {
		return nil, fmt.Errorf("unknown action %q", action)
	}
	return b.vendorRequest(ctx, vendor, vaction, params)
}

// refresh fetches one device's state (id "<vendor>/<id>") or every device's.
func (b *Bridge) refresh(ctx context.Context, id string) (any, error) {
	if id != "" {
		vendor, vid, ok := strings.Cut(id, "/")
		b.mu.Lock()
		d := b.devices[devKey{vendor, vid}]
		var a *account
		var raw string
		if ok && d != nil {
			a, raw = d.route(), d.dev.ID
		}
		b.mu.Unlock()
		if d == nil {
			return nil, fmt.Errorf("%s: no such device", id)
		}
		if a == nil {
			return nil, fmt.Errorf("%s: every account reaching it is stopped", id)
		}
		r, ok := a.adapter.(vendors.Refresher)
		if !ok {
			return nil, fmt.Errorf("%s cannot refresh on demand", a.vendor)
		}
		if err := r.Refresh(ctx, raw); err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		return map[string]any{"device": id}, nil
	}
	var done []string
	var errs []error
	for _, a := range b.accounts {
		r, ok := a.adapter.(vendors.Refresher)
		b.mu.Lock()
		stopped := a.permanent
		b.mu.Unlock()
		if !ok || stopped {
			continue
		}
		if err := r.Refresh(ctx, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.id, err))
			continue
		}
		done = append(done, a.id)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return map[string]any{"accounts": done}, nil
}

// vendorRequest passes <vendor>/<action> to the adapter of the account named
// by "account", else the vendor's first account.
func (b *Bridge) vendorRequest(ctx context.Context, vendor, action string, params map[string]json.RawMessage) (any, error) {
	var name string
	if raw, ok := params["account"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, errors.New(`"account" must be a string`)
		}
	}
	for _, a := range b.accounts {
		if a.vendor != vendor || (name != "" && a.name != name) {
			continue
		}
		r, ok := a.adapter.(vendors.Requester)
		if !ok {
			return nil, fmt.Errorf("%s answers no requests", vendor)
		}
		p, _ := json.Marshal(params)
		return r.Request(ctx, action, p)
	}
	if name != "" {
		return nil, fmt.Errorf("no account %s/%s", vendor, name)
	}
	return nil, fmt.Errorf("unknown action %q", vendor+"/"+action)
}
