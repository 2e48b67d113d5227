package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// subscribe registers every subscription; they are made on each connection.
func (b *Bridge) subscribe() error {
	base := b.topics.BaseTopic
	subs := []struct {
		filter string
		h      mqttx.Handler
	}{
		{base + "/+/+/set", b.onCommand},
		{base + "/+/+/set/+", b.onCommand},
		{base + "/+/+/get", b.onCommand},
		{base + "/bridge/request/#", b.onRequest},
		{b.opts.HAStatusTopic, b.onHAStatus},
	}
	if !b.opts.DisableDiscovery {
		subs = append(subs, struct {
			filter string
			h      mqttx.Handler
		}{b.configFilter(), b.onConfig})
	}
	for _, s := range subs {
		if err := b.client.Subscribe(s.filter, 1, s.h); err != nil {
			return fmt.Errorf("subscribe %s: %w", s.filter, err)
		}
	}
	return nil
}

// job is one accepted command message, queued for its account.
type job struct {
	dev    *device
	acct   *account
	vendor string // from the topic
	id     string
	rawID  string
	cmds   []parsed
	get    bool
	echo   json.RawMessage
	tx     json.RawMessage
	start  time.Time
}

// cmdError is a command rejected with a result code.
type cmdError struct {
	code, msg string
}

func (e *cmdError) Error() string { return e.code + ": " + e.msg }

func reject(code, format string, args ...any) *cmdError {
	return &cmdError{code, fmt.Sprintf(format, args...)}
}

// onCommand handles <base>/<vendor>/<id>/set[/<key>] and /get. It runs on the
// MQTT receive path: it validates, queues and returns; it never waits.
func (b *Bridge) onCommand(m mqttx.Message) {
	if _, ok := b.commandTopic(m.Topic); !ok {
		return
	}
	b.m.MQTTReceived("command")
	if b.dedupe.seen(m) {
		b.log.Debug().Str("topic", m.Topic).Msg("duplicate delivery ignored")
		return
	}
	b.handleCommand(m, time.Now(), true)
}

// commandTopic splits a command topic into vendor, id, verb and key.
func (b *Bridge) commandTopic(topic string) ([]string, bool) {
	rest, ok := strings.CutPrefix(topic, b.topics.BaseTopic+"/")
	if !ok {
		return nil, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || len(parts) > 4 || parts[0] == "bridge" {
		return nil, false
	}
	return parts, true
}

func (b *Bridge) handleCommand(m mqttx.Message, start time.Time, mayPark bool) {
	parts, _ := b.commandTopic(m.Topic)
	j := &job{vendor: parts[0], id: parts[1], start: start, get: parts[2] == "get"}
	key := ""
	if len(parts) == 4 {
		key = parts[3]
	}
	if !j.get && len(m.Payload) == 0 {
		// An empty message is how a retained command is cleared.
		return
	}
	if err := b.accept(j, key, m); err != nil {
		if err.code == vendors.CodeUnknownDevice && mayPark && b.park(m, start) {
			return
		}
		b.finish(j, err, false)
		return
	}
	if !j.acct.enqueue(j) {
		b.finish(j, reject(vendors.CodeQueueFull, "command queue of %s is full", j.acct.id), false)
	}
}

// parked is a command for a device not known yet, received while some
// account has not sent its first inventory: after a restart the broker
// delivers the commands queued in the persistent session before any adapter
// has logged in.
type parked struct {
	m     mqttx.Message
	start time.Time
}

const maxParked = 256

// park holds m until the inventories arrive (at most CommandTimeout).
func (b *Bridge) park(m mqttx.Message, start time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.startupPending() || len(b.parked) >= maxParked {
		return false
	}
	b.parked = append(b.parked, parked{m, start})
	if b.parkTimer == nil {
		b.parkTimer = time.AfterFunc(b.opts.CommandTimeout, func() { b.unpark(true) })
	}
	return true
}

// unpark handles the parked commands again; force answers every one.
func (b *Bridge) unpark(force bool) {
	b.mu.Lock()
	list := b.parked
	b.parked = nil
	if force || !b.startupPending() {
		if b.parkTimer != nil {
			b.parkTimer.Stop()
			b.parkTimer = nil
		}
		force = true
	}
	b.mu.Unlock()
	for _, p := range list {
		b.handleCommand(p.m, p.start, !force)
	}
}

// startupPending reports whether an account that may still report devices
// has not sent its first inventory; b.mu is held.
func (b *Bridge) startupPending() bool {
	for _, a := range b.accounts {
		if !a.inventoried && !a.permanent {
			return true
		}
	}
	return false
}

// accept validates a command message completely before anything is queued.
func (b *Bridge) accept(j *job, key string, m mqttx.Message) *cmdError {
	if len(m.Payload) > MaxCommandSize {
		return reject(vendors.CodeTooLarge, "payload of %d bytes exceeds %d", len(m.Payload), MaxCommandSize)
	}
	var obj setObject
	switch {
	case j.get:
		j.echo = json.RawMessage(`{"get":true}`)
	case key == "":
		var err *cmdError
		if obj, err = decodeSet(m.Payload); err != nil {
			return err
		}
		j.echo, j.tx = obj.echo(), obj.tx
	default:
		j.echo = echoOf(key, m.Payload)
	}
	if m.Retained {
		return reject(CodeRetained, "retained command ignored; clear it with an empty retained message")
	}

	b.mu.Lock()
	d := b.devices[devKey{j.vendor, j.id}]
	var dev *vendors.Device
	var offline bool
	if d != nil {
		dev, offline, j.acct = d.dev, d.onlineKnown && !d.online, d.route()
	}
	b.mu.Unlock()
	if d == nil {
		return reject(vendors.CodeUnknownDevice, "no device %s/%s", j.vendor, j.id)
	}
	j.dev, j.rawID = d, dev.ID

	if !j.get {
		var err *cmdError
		if key == "" {
			j.cmds, err = parseFields(dev, obj.fields)
		} else {
			var c parsed
			c, j.tx, err = parseSetKey(dev, key, m.Payload)
			j.cmds = []parsed{c}
		}
		if err != nil {
			return err
		}
		for _, c := range j.cmds {
			if _, err := b.resolve(j, c); err != nil {
				return err
			}
		}
	}
	if offline {
		return reject(vendors.CodeOffline, "device %s is offline", d.key)
	}
	if j.acct == nil {
		return reject(vendors.CodeAuth, "every account reaching %s is stopped", d.key)
	}
	if j.get {
		if _, ok := j.acct.adapter.(vendors.Refresher); !ok {
			return reject(vendors.CodeNotSupported, "%s cannot refresh on demand", j.acct.vendor)
		}
	}
	return nil
}

// resolve completes a command when it runs: TOGGLE becomes on or off from
// the cached state.
func (b *Bridge) resolve(j *job, c parsed) (vendors.Command, *cmdError) {
	cmd := c.cmd
	cmd.DeviceID = j.rawID
	if !c.toggle {
		return cmd, nil
	}
	b.mu.Lock()
	v, _ := j.dev.get(c.stateKey)
	b.mu.Unlock()
	cur, known := currentOn(v)
	if !known {
		return cmd, reject(vendors.CodeInvalidValue, "TOGGLE needs the current state of %s, which is unknown", c.key)
	}
	on := !cur
	switch x := cmd.Value.(type) {
	case bool:
		cmd.Value = on
	case vendors.LightCommand:
		x.On = &on
		cmd.Value = x
	case vendors.FanCommand:
		x.On = &on
		cmd.Value = x
	}
	return cmd, nil
}

func echoOf(key string, payload []byte) json.RawMessage {
	p, err := jsonMarshal(map[string]any{key: rawValue(payload)})
	if err != nil {
		return nil
	}
	return p
}

// enqueue queues j on the worker of its device without blocking.
func (a *account) enqueue(j *job) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(j.id))
	q := a.queues[h.Sum32()%uint32(len(a.queues))]
	select {
	case q <- j:
		a.b.m.CommandQueue(a.vendor, a.name, a.queued())
		return true
	default:
		return false
	}
}

func (a *account) queued() int {
	n := 0
	for _, q := range a.queues {
		n += len(q)
	}
	return n
}

// startWorkers starts the account's command workers; each owns a queue, and
// a device always maps to the same queue, so its commands run in order.
func (a *account) startWorkers(ctx context.Context, wg *sync.WaitGroup) {
	for _, q := range a.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.work(ctx, q)
		}()
	}
}

func (a *account) work(ctx context.Context, q chan *job) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case j := <-q:
					a.b.finish(j, reject(vendors.CodeUnavailable, "bridge is stopping"), true)
				default:
					return
				}
			}
		case j := <-q:
			a.b.m.CommandQueue(a.vendor, a.name, a.queued())
			a.b.finish(j, a.execute(ctx, j), true)
		}
	}
}

// execute carries out a job; panics in the adapter become INTERNAL_ERROR.
func (a *account) execute(ctx context.Context, j *job) (err *cmdError) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error().Str("panic", fmt.Sprint(r)).Str("stack", string(debug.Stack())).Msg("adapter panicked in a command")
			err = reject(vendors.CodeInternal, "adapter failed: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, a.b.opts.CommandTimeout)
	defer cancel()
	if j.get {
		return coded(j.acct.adapter.(vendors.Refresher).Refresh(ctx, j.rawID))
	}
	for i, c := range j.cmds {
		cmd, rerr := a.b.resolve(j, c)
		if rerr != nil {
			return rerr
		}
		if e := coded(a.adapter.Execute(ctx, cmd)); e != nil {
			if len(j.cmds) > 1 {
				e.msg = fmt.Sprintf("%s: %s", c.key, e.msg)
				if i < len(j.cmds)-1 {
					e.msg += " (later keys not sent)"
				}
			}
			return e
		}
	}
	return nil
}

// coded turns an adapter error into a result code and message.
func coded(err error) *cmdError {
	if err == nil {
		return nil
	}
	return &cmdError{vendors.Code(err), err.Error()}
}

// result is the payload of <base>/<vendor>/<id>/result.
type result struct {
	Status      string          `json:"status"`
	Error       string          `json:"error,omitempty"`
	Message     string          `json:"message,omitempty"`
	Command     json.RawMessage `json:"command,omitempty"`
	Transaction json.RawMessage `json:"transaction,omitempty"`
	LatencyMS   int64           `json:"latency_ms"`
}

// finish publishes the one result of a command message (and a
// command_failed event on error). Workers may wait for room in the publish
// queue; the MQTT receive path may not.
func (b *Bridge) finish(j *job, err *cmdError, wait bool) {
	r := result{Status: "ok", Command: j.echo, Transaction: j.tx, LatencyMS: time.Since(j.start).Milliseconds()}
	code := "ok"
	if err != nil {
		r.Status, r.Error, r.Message, code = "error", err.code, err.msg, err.code
	}
	b.m.CommandResult(b.vendorLabel(j.vendor), code)
	p, _ := jsonMarshal(r)
	topic := b.topics.BaseTopic + "/" + j.vendor + "/" + j.id + "/result"
	msg := outMsg{topic: topic, payload: p, qos: 1, kind: "result"}
	if wait {
		b.queueOutWait(b.runCtx, msg)
	} else {
		b.queueOut(msg)
	}
	if err != nil {
		b.log.Debug().Str("device", j.vendor+"/"+j.id).Str("code", err.code).Str("message", err.msg).Msg("command failed")
		b.queueOut(b.bridgeEvent("command_failed", map[string]any{
			"device": j.vendor + "/" + j.id, "error": err.code, "message": err.msg,
			"command": j.echo, "transaction": j.tx,
		}))
	}
}

// vendorLabel is the vendor for metrics: topics are free-form, so a vendor no
// account has becomes "unknown" (no unbounded label values).
func (b *Bridge) vendorLabel(v string) string {
	for _, a := range b.accounts {
		if a.vendor == v {
			return v
		}
	}
	return "unknown"
}
