package ewelinksim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// BenchTargets lists up to n online metering devices (POW, POWR2, POWR3,
// POWR320D): the devices PushPower can change.
func (s *Server) BenchTargets(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.order {
		if len(ids) == n {
			break
		}
		switch d := s.devices[id]; d.UIID {
		case 5, 32, 182, 190:
			if d.online {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// powerReport is the update frame PushPower sends. Only its head is
// encoded by encoding/json, once per device (powerFrame): encoding the whole
// frame for every event cost the bench process a tenth of a core.
type powerReport struct {
	Action    string      `json:"action"`
	DeviceID  string      `json:"deviceid"`
	APIKey    string      `json:"apikey"`
	UserAgent string      `json:"userAgent"`
	Params    powerParams `json:"params"`
	From      string      `json:"from"`
	TS        int         `json:"ts"`
	DSeq      int64       `json:"d_seq"`
}

type powerParams struct {
	Power any `json:"power"`
}

// PushPower makes a metering device report watts, stored and sent as an
// update frame to every authenticated socket. Unlike Report it waits for
// room in a socket's queue instead of dropping the client, so a benchmark
// can push as fast as the bridge reads.
func (s *Server) PushPower(id string, watts float64) error {
	s.mu.Lock()
	d := s.devices[id]
	if d == nil {
		s.mu.Unlock()
		return fmt.Errorf("no device %q", id)
	}
	var power any
	switch d.UIID {
	case 5, 32, 182:
		power = strconv.FormatFloat(watts, 'f', 2, 64)
	case 190:
		power = int(watts * 100) // POWR320D reports hundredths of a watt
	default:
		s.mu.Unlock()
		return fmt.Errorf("device %q does not meter power", id)
	}
	d.params["power"] = power
	b := d.powerFrame(s.ownerOf(d), power, time.Now().UnixMilli())
	var to []*client
	for c := range s.clients {
		if c.authed && !c.killed {
			to = append(to, c)
		}
	}
	s.mu.Unlock()
	if len(to) == 0 {
		return errors.New("no authenticated socket")
	}
	for _, c := range to {
		// Leave room for the simulator's own frames (replies, pongs): a
		// full queue makes it drop the client, as the cloud would.
		for len(c.out) >= cap(c.out)-benchHeadroom && c.ctx.Err() == nil {
			time.Sleep(100 * time.Microsecond)
		}
		select {
		case c.out <- b:
		case <-c.ctx.Done():
		}
	}
	return nil
}

// benchHeadroom is the part of a socket's send queue PushPower leaves free.
const benchHeadroom = 64

// powerFrame is the update frame of a power reading (a decimal string, or
// an int for the POWR320D): encoding/json writes its head (everything
// before the value) once per device, the rest is appended to it.
func (d *device) powerFrame(owner string, power any, seq int64) []byte {
	if d.head == nil || d.headOwner != owner {
		h, _ := json.Marshal(powerReport{Action: "update", DeviceID: d.ID, APIKey: owner, UserAgent: "device", Params: powerParams{0}})
		d.head, d.headOwner = h[:bytes.Index(h, []byte(`"power":`))+len(`"power":`)], owner
	}
	b := make([]byte, 0, len(d.head)+64)
	b = append(b, d.head...)
	switch v := power.(type) {
	case string: // digits, a point and a sign: nothing to escape
		b = append(append(append(b, '"'), v...), '"')
	case int:
		b = strconv.AppendInt(b, int64(v), 10)
	}
	b = append(b, `},"from":"device","ts":0,"d_seq":`...)
	return append(strconv.AppendInt(b, seq, 10), '}')
}
