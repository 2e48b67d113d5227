package shelly

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Execute validates a command locally (entity, ranges, exclusive fields),
// then sends it through the command queue (High priority on the limiter).
func (c *cloud) Execute(ctx context.Context, cmd vendors.Command) error {
	e, t, err := checkCommand(c.fleet, cmd)
	if err != nil {
		return err
	}
	act, err := toAction(e, t, cmd.Value)
	if err != nil {
		return err
	}
	kind, body, err := cloudCommand(act)
	if err != nil {
		return err
	}
	return c.queue.do(ctx, newSetCmd(kind, cmd.DeviceID, act.Ch, body))
}

// send carries one batch: a single-device set/<kind>, or set/groups when
// several commands share the request.
func (c *cloud) send(batch []*setCmd) {
	if len(batch) == 0 {
		return
	}
	ctx := context.Background()
	finish := func(err error) {
		for _, s := range batch {
			s.done <- err
		}
	}
	if len(batch) == 1 && batch[0].kind != "groups" {
		s := batch[0]
		body := map[string]any{"id": s.id, "channel": s.ch}
		b, _ := json.Marshal(s.cmd)
		_ = json.Unmarshal(b, &body)
		body["id"], body["channel"] = s.id, s.ch
		_, err := c.post(ctx, "set/"+s.kind, body)
		if err == nil {
			c.reread(s.id)
		}
		finish(err)
		return
	}
	var req map[string]any
	if batch[0].kind == "groups" {
		b, _ := json.Marshal(batch[0].cmd)
		_ = json.Unmarshal(b, &req)
	} else {
		req = map[string]any{}
		for _, s := range batch {
			g, _ := req[s.kind].(map[string]any)
			if g == nil {
				g = map[string]any{"ids": []string{}, "command": s.cmd}
				req[s.kind] = g
			}
			gid := s.id + "_" + strconv.Itoa(s.ch)
			g["ids"] = appendUnique(g["ids"].([]string), gid)
		}
	}
	raw, err := c.post(ctx, "set/groups", req)
	if err != nil {
		finish(err)
		return
	}
	failed := parseFailed(raw)
	for _, s := range batch {
		if s.kind == "groups" {
			s.fail = failed
			for _, id := range groupDevices(s.cmd.(groupReq)) {
				c.reread(id)
			}
			if len(failed) > 0 {
				s.done <- &vendors.Error{Code: vendors.CodeCloud, Message: "some group commands failed: " + failedList(failed)}
			} else {
				s.done <- nil
			}
			continue
		}
		gid := s.id + "_" + strconv.Itoa(s.ch)
		if code, bad := failed[gid]; bad {
			s.done <- cloudError(400, []byte(`{"error":`+strconv.Quote(code)+`}`))
			continue
		}
		c.reread(s.id)
		s.done <- nil
	}
}

// reread asks the poller to read a device again soon, so a command's effect
// shows without waiting for the next round.
func (c *cloud) reread(id string) {
	select {
	case c.urgent <- id:
	default:
	}
}

// parseFailed reads {"failedCommands": {"<id>_<ch>": "<ERROR>"}}.
func parseFailed(raw []byte) map[string]string {
	var r struct {
		Failed map[string]json.RawMessage `json:"failedCommands"`
	}
	if json.Unmarshal(raw, &r) != nil || len(r.Failed) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range r.Failed {
		code := rawString(v)
		if code == "" || !isCodeWord(code) || len(code) > 40 {
			code = "DEVICE_FAILED_COMMAND"
		}
		out[k] = code
		if len(out) == 100 {
			break
		}
	}
	return out
}

func failedList(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

func groupDevices(g groupReq) []string {
	var ids []string
	add := func(list []string) {
		for _, s := range list {
			if id, _, err := groupID(s); err == nil {
				ids = appendUnique(ids, id)
			}
		}
	}
	if g.Switch != nil {
		add(g.Switch.IDs)
	}
	if g.Cover != nil {
		add(g.Cover.IDs)
	}
	if g.Light != nil {
		add(g.Light.IDs)
	}
	return ids
}

// Request answers bridge/request/shelly/<action> for the v2 account:
// set/switch, set/cover, set/light and set/groups with the API's own bodies
// (every field, validated locally), for what the entities do not cover
// (toggle_after, duration, relative moves, slats, effects, groups).
func (c *cloud) Request(ctx context.Context, action string, params json.RawMessage) (any, error) {
	var s *setCmd
	switch action {
	case "set/switch":
		var b singleSwitch
		if err := decodeStrict(params, &b); err != nil {
			return nil, err
		}
		id, ch, err := c.requestAddr(b.addr)
		if err != nil {
			return nil, err
		}
		if err := b.switchCmd.validate(); err != nil {
			return nil, err
		}
		s = newSetCmd("switch", id, ch, b.switchCmd)
	case "set/cover":
		var b singleCover
		if err := decodeStrict(params, &b); err != nil {
			return nil, err
		}
		id, ch, err := c.requestAddr(b.addr)
		if err != nil {
			return nil, err
		}
		if err := b.coverCmd.validate(); err != nil {
			return nil, err
		}
		s = newSetCmd("cover", id, ch, b.coverCmd)
	case "set/light":
		var b singleLight
		if err := decodeStrict(params, &b); err != nil {
			return nil, err
		}
		id, ch, err := c.requestAddr(b.addr)
		if err != nil {
			return nil, err
		}
		if err := b.lightCmd.validate(2700); err != nil {
			return nil, err
		}
		s = newSetCmd("light", id, ch, b.lightCmd)
	case "set/groups":
		var g groupReq
		if err := decodeStrict(params, &g); err != nil {
			return nil, err
		}
		if err := g.validate(); err != nil {
			return nil, err
		}
		for _, id := range groupDevices(g) {
			if !c.fleet.known(id) {
				return nil, &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no configured shelly device " + id}
			}
		}
		s = newSetCmd("groups", "", 0, g)
	default:
		return nil, &vendors.Error{Code: vendors.CodeNotSupported, Message: "unknown shelly request " + action + " (set/switch, set/cover, set/light, set/groups)"}
	}
	if err := c.queue.do(ctx, s); err != nil {
		if s.fail != nil {
			return map[string]any{"failedCommands": s.fail}, err
		}
		return nil, err
	}
	return map[string]any{"status": "ok"}, nil
}

func (c *cloud) requestAddr(a addr) (string, int, error) {
	id, ch, err := a.validate()
	if err != nil {
		return "", 0, err
	}
	if !c.fleet.known(id) {
		return "", 0, &vendors.Error{Code: vendors.CodeUnknownDevice, Message: "no configured shelly device " + id}
	}
	if online, known := c.fleet.online(id); known && !online {
		return "", 0, &vendors.Error{Code: vendors.CodeOffline, Message: "the device is offline"}
	}
	return id, ch, nil
}
