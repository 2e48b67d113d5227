package shellysim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// device is one simulated Shelly device: its cloud identity and its own
// status document (Gen2 RPC components or the Gen1 /status shape).
type device struct {
	ID, Code, Type, Gen, Host string
	Access                    string
	Online                    bool
	Names                     []string
	UserID                    int
	Status                    map[string]any
	Settings                  map[string]any
	// load is the power a switched-on output draws, for realistic meters.
	load   float64
	motion map[int]*move
	// head is the start of the frame PushPower sends (see powerFrame).
	head             []byte
	headID, headComp string
}

type move struct {
	target float64
	slat   bool
}

func (d *device) gen1() bool { return d.Gen == "G1" }

// wire renders the id as the socket sends it: Gen1 ids as decimal strings.
func (d *device) wire(decimal bool) string {
	if decimal && d.gen1() {
		n, err := strconv.ParseUint(d.ID, 16, 64)
		if err == nil {
			return strconv.FormatUint(n, 10)
		}
	}
	return d.ID
}

func (d *device) info(decimal bool) DeviceInfo {
	return DeviceInfo{ID: d.ID, Code: d.Code, Type: d.Type, Gen: d.Gen, Host: d.Host, Wire: d.wire(decimal), Online: d.Online, Access: d.Access}
}

type fixture struct {
	id, code, typ, gen string
	names              []string
	load               float64
	status             func(mac string) map[string]any
	settings           func(name string) map[string]any
}

func sys(mac string) map[string]any {
	return map[string]any{
		"mac": strings.ToUpper(mac), "restart_required": false, "uptime": 86400.0,
		"unixtime": float64(time.Now().Unix()), "available_updates": map[string]any{},
	}
}

func wifi(rssi float64) map[string]any {
	return map[string]any{"sta_ip": "192.168.1.50", "status": "got ip", "ssid": "home", "rssi": rssi}
}

func gen2Settings(name, profile string, comps map[string]string) map[string]any {
	dev := map[string]any{"name": name, "fw_id": "20240625-122245/1.3.3-gbdfd9b3"}
	if profile != "" {
		dev["profile"] = profile
	}
	s := map[string]any{"sys": map[string]any{"device": dev}}
	for k, v := range comps {
		s[k] = map[string]any{"id": 0.0, "name": v}
	}
	return s
}

// The six fixtures of the issue: a Gen2 Plus 1PM, a Plus 2PM in cover mode,
// a Gen1 RGBW2, a Gen2 Plus H&T, a Pro 3EM and a Gen1 Plug S.
var fixtureSet = []fixture{
	{
		id: "a8032ab12c30", code: "SNSW-001P16EU", typ: "relay", gen: "G2", names: []string{"Desk lamp"}, load: 58,
		status: func(mac string) map[string]any {
			return map[string]any{
				"switch:0": map[string]any{
					"id": 0.0, "source": "init", "output": false, "apower": 0.0, "voltage": 230.4, "current": 0.0,
					"freq": 50.0, "pf": 0.0, "aenergy": map[string]any{"total": 12345.678, "by_minute": []any{0.0, 0.0, 0.0}, "minute_ts": 1700000000.0},
					"temperature": map[string]any{"tC": 41.2, "tF": 106.2},
				},
				"input:0": map[string]any{"id": 0.0, "state": false},
				"sys":     sys(mac), "wifi": wifi(-58), "cloud": map[string]any{"connected": true},
			}
		},
		settings: func(name string) map[string]any {
			return gen2Settings(name, "", map[string]string{"switch:0": "Desk lamp"})
		},
	},
	{
		id: "c4d8d5a1b2c4", code: "SNSW-102P16EU", typ: "roller", gen: "G2", names: []string{"Blinds"}, load: 120,
		status: func(mac string) map[string]any {
			return map[string]any{
				"cover:0": map[string]any{
					"id": 0.0, "source": "init", "state": "stopped", "apower": 0.0, "voltage": 231.0, "current": 0.0,
					"pf": 0.0, "freq": 50.0, "aenergy": map[string]any{"total": 3456.7, "by_minute": []any{0.0, 0.0, 0.0}, "minute_ts": 1700000000.0},
					"temperature": map[string]any{"tC": 38.5, "tF": 101.3}, "pos_control": true, "last_direction": "open", "current_pos": 50.0,
				},
				"input:0": map[string]any{"id": 0.0, "state": false},
				"input:1": map[string]any{"id": 1.0, "state": false},
				"sys":     sys(mac), "wifi": wifi(-64), "cloud": map[string]any{"connected": true},
			}
		},
		settings: func(name string) map[string]any {
			return gen2Settings(name, "cover", map[string]string{"cover:0": "Blinds"})
		},
	},
	{
		id: "a4cf12", code: "SHRGBW2", typ: "light", gen: "G1", names: []string{"Kitchen strip"}, load: 24,
		status: func(mac string) map[string]any {
			return map[string]any{
				"lights": []any{map[string]any{
					"ison": false, "source": "cloud", "has_timer": false, "mode": "color", "red": 255.0, "green": 120.0,
					"blue": 40.0, "white": 0.0, "gain": 60.0, "effect": 0.0, "transition": 500.0, "power": 0.0, "overpower": false,
				}},
				"meters":          []any{map[string]any{"power": 0.0, "is_valid": true}},
				"inputs":          []any{map[string]any{"input": 0.0, "event": "", "event_cnt": 0.0}},
				"overtemperature": false,
				"wifi_sta":        map[string]any{"connected": true, "ssid": "home", "ip": "192.168.1.61", "rssi": -61.0},
				"serial":          1.0, "has_update": false, "mac": strings.ToUpper(mac),
				"update": map[string]any{"status": "idle", "has_update": false, "old_version": "20230913-114244/v1.14.0-gcb84623"},
			}
		},
		settings: func(name string) map[string]any {
			return map[string]any{"name": name, "mode": "color", "fw": "20230913-114244/v1.14.0-gcb84623",
				"device": map[string]any{"type": "SHRGBW2", "hostname": "shellyrgbw2"}}
		},
	},
	{
		id: "e8db84c5d6e7", code: "SNSN-0013A", typ: "sensor", gen: "G2", names: []string{"Bedroom"},
		status: func(mac string) map[string]any {
			return map[string]any{
				"temperature:0": map[string]any{"id": 0.0, "tC": 21.4, "tF": 70.5},
				"humidity:0":    map[string]any{"id": 0.0, "rh": 48.2},
				"devicepower:0": map[string]any{"id": 0.0, "battery": map[string]any{"V": 5.9, "percent": 87.0}, "external": map[string]any{"present": false}},
				"sys":           sys(mac), "wifi": wifi(-70),
			}
		},
		settings: func(name string) map[string]any { return gen2Settings(name, "", nil) },
	},
	{
		id: "fce8c0d1e2f3", code: "SPEM-003CEBEU", typ: "emeter", gen: "G2", names: []string{"House meter"},
		status: func(mac string) map[string]any {
			em := map[string]any{"id": 0.0, "n_current": nil, "user_calibrated_phase": []any{}}
			for i, p := range []string{"a", "b", "c"} {
				w := []float64{120.5, 340.2, 80.1}[i]
				em[p+"_voltage"] = 230.0 + float64(i)
				em[p+"_act_power"] = w
				em[p+"_aprt_power"] = w * 1.08
				em[p+"_current"] = w / 230
				em[p+"_pf"] = 0.93
				em[p+"_freq"] = 50.0
			}
			em["total_act_power"] = 540.8
			em["total_aprt_power"] = 584.1
			em["total_current"] = 2.35
			return map[string]any{
				"em:0": em,
				"emdata:0": map[string]any{
					"id": 0.0, "a_total_act_energy": 402345.1, "a_total_act_ret_energy": 0.0,
					"b_total_act_energy": 802311.9, "b_total_act_ret_energy": 1520.3,
					"c_total_act_energy": 201001.4, "c_total_act_ret_energy": 0.0,
					"total_act": 1405658.4, "total_act_ret": 1520.3,
				},
				"temperature:0": map[string]any{"id": 0.0, "tC": 44.0, "tF": 111.2},
				"eth":           map[string]any{"ip": "192.168.1.70"},
				"modbus":        map[string]any{"enabled": false},
				"sys":           sys(mac), "wifi": wifi(-55), "cloud": map[string]any{"connected": true},
			}
		},
		settings: func(name string) map[string]any { return gen2Settings(name, "triphase", nil) },
	},
	{
		id: "b923fa", code: "SHPLG-S", typ: "relay", gen: "G1", names: []string{"Coffee machine"}, load: 1250,
		status: func(mac string) map[string]any {
			return map[string]any{
				"relays": []any{map[string]any{
					"ison": true, "has_timer": false, "timer_started": 0.0, "timer_duration": 0.0, "timer_remaining": 0.0,
					"overpower": false, "source": "cloud",
				}},
				"meters": []any{map[string]any{
					"power": 12.5, "overpower": 0.0, "is_valid": true, "timestamp": 1700000000.0,
					"counters": []any{12.4, 12.5, 12.6}, "total": 456789.0,
				}},
				"temperature": 34.1, "overtemperature": false,
				"tmp":      map[string]any{"tC": 34.1, "tF": 93.4, "is_valid": true},
				"wifi_sta": map[string]any{"connected": true, "ssid": "home", "ip": "192.168.1.62", "rssi": -49.0},
				"serial":   1.0, "has_update": false, "mac": strings.ToUpper(mac),
				"update": map[string]any{"status": "idle", "has_update": false, "old_version": "20230913-112003/v1.14.0-gcb84623"},
			}
		},
		settings: func(name string) map[string]any {
			return map[string]any{"name": name, "fw": "20230913-112003/v1.14.0-gcb84623",
				"relays": []any{map[string]any{"name": name}}, "device": map[string]any{"type": "SHPLG-S"}}
		},
	},
}

// fixtures builds about n devices (at least the six), with ids varied by
// seed and the copy number, spread over the hosts.
func fixtures(n int, seed byte, hosts []string) []*device {
	if n < len(fixtureSet) {
		n = len(fixtureSet)
	}
	var out []*device
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		f := fixtureSet[i%len(fixtureSet)]
		copyN := i / len(fixtureSet)
		id := variant(f.id, seed, copyN)
		for seen[id] {
			copyN += 7919
			id = variant(f.id, seed, copyN)
		}
		seen[id] = true
		name := f.names[0]
		if i >= len(fixtureSet) {
			name = fmt.Sprintf("%s %d", name, copyN+1)
		}
		mac := id
		if len(mac) == 6 {
			mac = "e8db84" + mac
		}
		d := &device{
			ID: id, Code: f.code, Type: f.typ, Gen: f.gen, Host: hosts[i%len(hosts)], Access: "01",
			Online: true, Names: []string{name}, UserID: 6550 + i%5, load: f.load,
			Status: f.status(mac), Settings: f.settings(name), motion: map[int]*move{},
		}
		out = append(out, d)
	}
	return out
}

// variant derives a distinct id of the same length: the seed changes the
// first byte, the copy number the last bytes. It never yields a decimal-
// looking 6- or 12-digit id, so wire forms stay unambiguous.
func variant(id string, seed byte, copyN int) string {
	n, _ := strconv.ParseUint(id, 16, 64)
	bits := uint(len(id) * 4)
	mask := uint64(1)<<bits - 1
	n ^= uint64(seed) << (bits - 8)
	n = (n + uint64(copyN)*0x1d) & mask
	if n>>(bits-4) == 0 {
		n |= uint64(0xa) << (bits - 4)
	}
	return fmt.Sprintf("%0*x", len(id), n)
}
