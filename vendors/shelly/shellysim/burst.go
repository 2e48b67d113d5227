package shellysim

import (
	"encoding/json"
	"errors"
)

// Burst pushes frames StatusOnChange events spread round-robin over the
// first devices granted, online devices, as fast as their sockets take
// them (for benchmarks). Each frame changes one power reading. It returns
// how many frames were queued.
func (s *Sim) Burst(devices, frames int) (int, error) {
	type target struct {
		d    *device
		conn *wsConn
	}
	s.mu.Lock()
	var ts []target
	for _, id := range s.order {
		d := s.devs[id]
		if len(ts) == devices {
			break
		}
		if conn := s.conns[d.Host]; conn != nil && s.granted[id] && d.Online {
			ts = append(ts, target{d, conn})
		}
	}
	s.mu.Unlock()
	if len(ts) == 0 {
		return 0, errors.New("no granted, online device has a connected server")
	}
	sent := 0
	for i := 0; i < frames; i++ {
		t := ts[i%len(ts)]
		s.mu.Lock()
		delta := burstDelta(t.d, i)
		b, _ := json.Marshal(map[string]any{"event": "Shelly:StatusOnChange", "deviceId": t.d.wire(!s.opt.NoDecimal), "status": delta})
		s.mu.Unlock()
		if !t.conn.pushWait(b) {
			return sent, errors.New("socket closed during the burst")
		}
		sent++
	}
	return sent, nil
}

// burstDelta changes a reading the adapter publishes, in the device's shape.
func burstDelta(d *device, i int) map[string]any {
	v := float64(i%1000) / 10
	switch {
	case d.comp("switch", 0) != nil:
		return map[string]any{"switch:0": map[string]any{"apower": v}}
	case d.comp("cover", 0) != nil:
		return map[string]any{"cover:0": map[string]any{"apower": v}}
	case d.comp("em", 0) != nil:
		return map[string]any{"em:0": map[string]any{"a_act_power": v}}
	case d.comp("temperature", 0) != nil:
		return map[string]any{"temperature:0": map[string]any{"tC": 15 + v/10}}
	case d.item("meters", 0) != nil:
		m := clone(d.Status["meters"]).([]any)
		m[0].(map[string]any)["power"] = v
		return map[string]any{"meters": m}
	}
	return map[string]any{"sys": map[string]any{"uptime": float64(i)}}
}
