package expeed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// CodeRejected is the result code of a setting the device refused (set_result 1).
const CodeRejected = "DEVICE_REJECTED"

// Execute sends a device_setting and waits for its outcome, which the cloud
// pushes later (msg_type 3, matched by message_id). Unknown devices and
// datapoints, read-only entities, bad or out-of-range values and devices
// known to be off line are refused without a cloud call.
func (a *Adapter) Execute(ctx context.Context, cmd vendors.Command) error {
	a.mu.Lock()
	d := a.devices[cmd.DeviceID]
	var sp *dpSpec
	var key string
	var offline bool
	if d != nil {
		sp = d.byKey[cmd.Key]
		key = d.Key
		offline = d.onlineKnow && !d.online
	}
	a.mu.Unlock()
	switch {
	case d == nil:
		return &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "expeed: no device " + strconv.Quote(clip(cmd.DeviceID, 64))}
	case sp == nil:
		return &vendors.Error{Code: vendors.CodeUnknownKey, Message: fmt.Sprintf("expeed: device %s has no entity %q", d.ID, clip(cmd.Key, 64))}
	case !sp.Entity.Writable:
		return &vendors.Error{Code: vendors.CodeReadOnly, Message: fmt.Sprintf("expeed: %s of %s is read-only", sp.Entity.Key, d.ID)}
	}
	raw, err := sp.encode(cmd.Value)
	if err != nil {
		return err
	}
	if offline {
		return &vendors.Error{Code: vendors.CodeOffline, Message: "expeed: device " + d.ID + " is off line"}
	}
	if key == "" {
		return &vendors.Error{Code: vendors.CodeNotSupported, Message: "expeed: device " + d.ID + " has no device_key yet"}
	}
	release, err := a.lockDevice(ctx, d.ID)
	if err != nil {
		return err
	}
	defer release()
	err = a.setting(ctx, d, key, sp, raw)
	a.noteCall(err)
	return err
}

func (a *Adapter) setting(ctx context.Context, d *devEntry, key string, sp *dpSpec, raw json.RawMessage) error {
	values := map[string]json.RawMessage{sp.Name: raw}
	var body []byte
	if a.s.SettingBody == "wrapped" {
		body, _ = json.Marshal(map[string]any{"data": values})
	} else {
		body, _ = json.Marshal(values)
	}
	start := time.Now()
	resp, err := a.call(ctx, apiCall{op: "device_setting", method: "POST",
		path: "/devices/" + url.PathEscape(d.ID) + "/device_setting", body: body, key: key, prio: vendorkit.High})
	if err != nil {
		return err
	}
	msgID, err := decodeSetting(resp)
	if err != nil {
		err = classify("device_setting", err)
		switch vendors.Code(err) {
		case vendors.CodeOffline:
			a.mu.Lock()
			a.setOnlineLocked(d, false)
			a.mu.Unlock()
		case vendors.CodeInvalidValue:
			if a.s.SettingBody == "flat" {
				a.log.Warn().Str("device", d.ID).Msg("the cloud refused the setting body (result_code 4/5); if every setting fails, try setting_body: wrapped")
			}
		}
		return err
	}
	result, cancel := a.pending.wait(msgID, time.Now())
	defer cancel()
	timer := time.NewTimer(a.s.CommandTimeout)
	defer timer.Stop()
	select {
	case failed := <-result:
		if failed {
			return &vendors.Error{Code: CodeRejected, Message: fmt.Sprintf("expeed: device %s refused the setting of %s (set_result 1)", d.ID, sp.Entity.Key)}
		}
	case <-timer.C:
		a.mu.Lock()
		id := d.ID
		a.scheduleLocked(0, func(ctx context.Context) { _ = a.syncDevice(ctx, id, vendorkit.Low) })
		a.mu.Unlock()
		return &vendors.Error{Code: vendors.CodeTimeout, Message: fmt.Sprintf("expeed: no setting result for message %s within %s", clip(msgID, 40), a.s.CommandTimeout)}
	case <-ctx.Done():
		return ctx.Err()
	}
	a.log.Debug().Str("device", d.ID).Str("key", sp.Entity.Key).Dur("took", time.Since(start)).Msg("setting applied")
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, err := sp.decode(raw); err == nil {
		d.values[sp.Entity.Key] = v
		if a.sink != nil {
			a.sink.Update(d.ID, map[string]any{sp.Entity.Key: v})
		}
	}
	return nil
}

// lockDevice serialises commands per device.
func (a *Adapter) lockDevice(ctx context.Context, id string) (func(), error) {
	a.mu.Lock()
	ch := a.devLocks[id]
	if ch == nil {
		ch = make(chan struct{}, 1)
		a.devLocks[id] = ch
	}
	a.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pendingResults matches setting results to waiting commands. A result may
// arrive before its command has read the message_id; it waits a minute.
type pendingResults struct {
	mu      sync.Mutex
	waiters map[string]chan bool
	early   map[string]earlyResult
}

type earlyResult struct {
	failed bool
	at     time.Time
}

const (
	earlyKeep = time.Minute
	earlyMax  = 1000
)

func newPendingResults() *pendingResults {
	return &pendingResults{waiters: map[string]chan bool{}, early: map[string]earlyResult{}}
}

// wait returns the channel the result arrives on and a cancel func.
func (p *pendingResults) wait(msgID string, now time.Time) (<-chan bool, func()) {
	ch := make(chan bool, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.early[msgID]; ok && now.Sub(r.at) < earlyKeep {
		delete(p.early, msgID)
		ch <- r.failed
		return ch, func() {}
	}
	p.waiters[msgID] = ch
	return ch, func() {
		p.mu.Lock()
		if p.waiters[msgID] == ch {
			delete(p.waiters, msgID)
		}
		p.mu.Unlock()
	}
}

// deliver hands a result to its waiter, or keeps it; it reports a match.
func (p *pendingResults) deliver(msgID string, failed bool, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ch, ok := p.waiters[msgID]; ok {
		delete(p.waiters, msgID)
		ch <- failed
		return true
	}
	for id, r := range p.early {
		if now.Sub(r.at) >= earlyKeep {
			delete(p.early, id)
		}
	}
	if len(p.early) >= earlyMax {
		var oldest string
		for id, r := range p.early {
			if oldest == "" || r.at.Before(p.early[oldest].at) {
				oldest = id
			}
		}
		delete(p.early, oldest)
	}
	p.early[msgID] = earlyResult{failed: failed, at: now}
	return false
}
