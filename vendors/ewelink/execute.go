package ewelink

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// Execute sends one command: over the WebSocket when it is up (acked by
// sequence), else by POST /v2/device/thing/status. Unknown devices and keys,
// read-only entities and offline devices fail before any cloud call.
func (a *Adapter) Execute(ctx context.Context, cmd vendors.Command) error {
	a.mu.Lock()
	t := a.things[cmd.DeviceID]
	if t == nil {
		a.mu.Unlock()
		return &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no eWeLink device " + cmd.DeviceID}
	}
	e, ok := t.entity(cmd.Key)
	if !ok {
		a.mu.Unlock()
		return &vendors.Error{Code: vendors.CodeUnknownKey, Message: "device " + cmd.DeviceID + " has no entity " + cmd.Key}
	}
	cm, isCmd := t.owner(cmd.Key).(commander)
	if !e.Writable || !isCmd {
		a.mu.Unlock()
		return &vendors.Error{Code: vendors.CodeReadOnly, Message: cmd.Key + " is read-only"}
	}
	if !a.availableLocked(t) {
		a.mu.Unlock()
		return &vendors.Error{Code: vendors.CodeOffline, Message: "device " + cmd.DeviceID + " is offline"}
	}
	pl, err := cm.command(t, cmd.Key, cmd.Value)
	owner, id, w := t.apikey, t.id, a.ws
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if _, _, err := a.bearer(); err != nil {
		return err
	}
	for _, m := range pl.msgs {
		if err := a.deliver(ctx, w, id, owner, m); err != nil {
			return err
		}
	}
	a.mu.Lock()
	if t := a.things[id]; t != nil {
		if !pl.keep {
			for _, m := range pl.msgs {
				t.params().merge(m.clone())
			}
		}
		if pl.after != nil {
			pl.after(t)
		}
		if t.build() {
			a.sendInventoryLocked(false)
		}
		if vals := t.values(); len(vals) > 0 {
			a.sinkLocked().Update(id, vals)
		}
	}
	a.mu.Unlock()
	if w != nil && !pl.keep {
		// The cloud does not echo a command's result to its sender (§6.5):
		// one query learns the real state.
		w.goLow(func(ctx context.Context) {
			if _, err := w.request(ctx, "query", id, owner, []string{}, vendorkit.Low); err != nil && ctx.Err() == nil {
				a.log.Debug().Err(err).Str("device", id).Msg("query after command failed")
			}
		})
	}
	return nil
}

// deliver sends params to a device and waits for the cloud's ack.
func (a *Adapter) deliver(ctx context.Context, w *wsConn, id, owner string, p params) error {
	if w != nil {
		_, err := w.request(ctx, "update", id, owner, p, vendorkit.High)
		if !errors.Is(err, errNotSent) {
			return err
		}
	}
	body := map[string]any{"type": 1, "id": id, "params": p}
	return a.call(ctx, request{op: "POST /v2/device/thing/status", method: http.MethodPost, body: body, prio: vendorkit.High, counted: true}, nil)
}

// Refresh reads state from the cloud: one device by GET
// /v2/device/thing/status, or every device by the thing list.
func (a *Adapter) Refresh(ctx context.Context, id string) error {
	if id == "" {
		return a.relist(ctx, vendorkit.Low)
	}
	a.mu.Lock()
	_, ok := a.things[id]
	a.mu.Unlock()
	if !ok {
		return &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no eWeLink device " + id}
	}
	var d struct {
		Params json.RawMessage `json:"params"`
	}
	q := url.Values{"type": {"1"}, "id": {id}}
	if err := a.call(ctx, request{op: "GET /v2/device/thing/status", method: http.MethodGet, query: q, prio: vendorkit.Low, counted: true}, &d); err != nil {
		return err
	}
	p, err := decodeParams(d.Params)
	if err != nil {
		return &vendors.Error{Code: vendors.CodeCloud, Message: "device state unreadable", Err: err}
	}
	a.applyReport(id, p, false)
	return nil
}

// energyJob asks one metering device for its energy history.
type energyJob struct {
	id, owner string
	reqs      []params
}

// energyDue lists the metering devices whose history is due and how long
// until the next one is.
func (a *Adapter) energyDue() ([]energyJob, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	wait := a.cfg.EnergyInterval
	var jobs []energyJob
	for _, id := range a.sortedIDsLocked() {
		t := a.things[id]
		if !a.availableLocked(t) {
			continue
		}
		for _, f := range t.spec.features {
			ef, ok := f.(energy)
			if !ok {
				continue
			}
			last, asked := a.energyAsked[id]
			if !asked || now.Sub(last) >= a.cfg.EnergyInterval {
				jobs = append(jobs, energyJob{id: id, owner: t.apikey, reqs: ef.requests()})
			} else if left := a.cfg.EnergyInterval - now.Sub(last); left < wait {
				wait = left
			}
		}
	}
	return jobs, wait
}

// energyLoop requests energy histories at most every energy_interval per
// device, one device at a time, at low priority. It never sends uiActive.
func (a *Adapter) energyLoop(ctx context.Context, w *wsConn) {
	for {
		jobs, wait := a.energyDue()
		for _, j := range jobs {
			for _, p := range j.reqs {
				if _, err := w.request(ctx, "update", j.id, j.owner, p, vendorkit.Low); err != nil {
					if ctx.Err() != nil {
						return
					}
					a.log.Debug().Err(err).Str("device", j.id).Msg("energy history request failed")
				}
			}
			a.mu.Lock()
			a.energyAsked[j.id] = a.now()
			a.mu.Unlock()
		}
		if len(jobs) > 0 {
			continue
		}
		if err := vendorkit.Sleep(ctx, nil, max(wait, 10*time.Millisecond)); err != nil {
			return
		}
	}
}
