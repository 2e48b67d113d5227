package shellysim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// benchHeadroom is the part of a socket's send queue PushPower leaves free.
const benchHeadroom = 64

// BenchTargets lists up to n devices PushPower can change: granted, online
// Gen2 switches and covers whose server has a connected socket.
func (s *Sim) BenchTargets(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.order {
		if len(ids) == n {
			break
		}
		d := s.devs[id]
		if s.conns[d.Host] == nil || !s.granted[id] || !d.Online {
			continue
		}
		if d.comp("switch", 0) != nil || d.comp("cover", 0) != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// powerChange is the frame PushPower sends. Only its head is encoded by
// encoding/json, once per device (powerFrame): encoding the whole frame for
// every event cost the bench process a tenth of a core.
type powerChange struct {
	Event    string            `json:"event"`
	DeviceID string            `json:"deviceId"`
	Status   map[string]apower `json:"status"`
}

type apower struct {
	APower float64 `json:"apower"`
}

// PushPower sets the active power of a target's first output to watts and
// sends the StatusOnChange frame, waiting for room on the socket instead of
// dropping the consumer (for benchmarks that push as fast as the bridge reads).
func (s *Sim) PushPower(id string, watts float64) error {
	s.mu.Lock()
	d := s.devs[id]
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("no device %q", id)
	}
	kind := "switch:0"
	c := d.comp("switch", 0)
	if c == nil {
		kind, c = "cover:0", d.comp("cover", 0)
	}
	conn := s.conns[d.Host]
	if c == nil || conn == nil || !s.granted[id] {
		s.mu.Unlock()
		return fmt.Errorf("device %q is not a connected switch or cover", id)
	}
	c["apower"] = watts
	b := d.powerFrame(d.wire(!s.opt.NoDecimal), kind, watts)
	s.mu.Unlock()
	// Leave room for the simulator's own frames: push drops a consumer
	// whose queue is full, as the cloud would.
	for len(conn.out) >= cap(conn.out)-benchHeadroom {
		select {
		case <-conn.done:
			return errors.New("socket closed")
		case <-time.After(100 * time.Microsecond):
		}
	}
	if !conn.pushWait(b) {
		return errors.New("socket closed")
	}
	return nil
}

// powerFrame is the StatusOnChange frame of one component's apower:
// encoding/json writes its head (everything before the number) once per
// device, the number is appended to it.
func (d *device) powerFrame(id, comp string, watts float64) []byte {
	if d.head == nil || d.headID != id || d.headComp != comp {
		h, _ := json.Marshal(powerChange{Event: "Shelly:StatusOnChange", DeviceID: id, Status: map[string]apower{comp: {}}})
		d.head, d.headID, d.headComp = h[:len(h)-len(`0}}}`)], id, comp
	}
	b := make([]byte, 0, len(d.head)+32)
	b = strconv.AppendFloat(append(b, d.head...), watts, 'f', -1, 64)
	return append(b, "}}}"...)
}
