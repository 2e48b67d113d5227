package shellysim

import (
	"encoding/json"
	"errors"
	"fmt"
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

// powerChange is the frame PushPower sends, as structs: encoding nested
// maps for every event made the simulator a third of the bench's CPU.
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
	b, err := json.Marshal(powerChange{Event: "Shelly:StatusOnChange", DeviceID: d.wire(!s.opt.NoDecimal),
		Status: map[string]apower{kind: {watts}}})
	s.mu.Unlock()
	if err != nil {
		return err
	}
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
