package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// deviceEntities reads bridge/devices into id → entities.
type entityInfo struct {
	Key      string `json:"key"`
	Platform string `json:"platform"`
	Writable bool   `json:"writable"`
}

func devicesWithEntities(t *testing.T, payload []byte) map[string][]entityInfo {
	t.Helper()
	var list []struct {
		ID       string       `json:"id"`
		Entities []entityInfo `json:"entities"`
	}
	if err := json.Unmarshal(payload, &list); err != nil {
		t.Fatalf("bridge/devices: %v", err)
	}
	out := map[string][]entityInfo{}
	for _, d := range list {
		out[d.ID] = d.Entities
	}
	return out
}

// pickDevice finds a device of vendor with a writable switch and a
// read-only entity.
func pickDevice(devs map[string][]entityInfo, vendor string) (id, sw, ro string) {
	for did, ents := range devs {
		if !strings.HasPrefix(did, vendor+"/") {
			continue
		}
		sw, ro = "", ""
		for _, e := range ents {
			if e.Platform == "switch" && e.Writable && sw == "" {
				sw = e.Key
			}
			if !e.Writable && ro == "" {
				ro = e.Key
			}
		}
		if sw != "" && ro != "" {
			return strings.TrimPrefix(did, vendor+"/"), sw, ro
		}
	}
	return "", "", ""
}

// TestFaultInvalidCommands sends every kind of invalid command to a device
// of every vendor through the broker: each yields exactly one error result
// with its code (a command left retained on the broker included), and the
// simulated clouds whose request logs the test reads
// (eWeLink, Shelly Integrator) receive zero device writes. Device state
// stays as it was.
func TestFaultInvalidCommands(t *testing.T) {
	url := bridgetest.BrokerURL(t)
	base, prefix := bridgetest.Topics(t, url)
	// A command left retained on the broker (mosquitto_pub -r) reaches the
	// bridge with the retain flag when it subscribes: it must not run, at
	// this start or any later one. (A retained publish while the bridge is
	// subscribed arrives without the flag under MQTT 3.1.1 and runs once,
	// like any command; its retained copy is then refused at reconnects.)
	retainedTopic := base + "/ewelink/1000a00002/set/switch_2"
	early := bridgetest.Subscribe(t, url, base+"/ewelink/1000a00002/result")
	bridgetest.Publish(t, url, retainedTopic, 1, true, []byte("ON"))
	w := startFaultWorld(t, url, faultWorldOptions{base: base, prefix: prefix})
	w.settle()
	if res, ok := early.WaitOK(base+"/ewelink/1000a00002/result", nil, 15*time.Second); !ok {
		t.Errorf("no result for the retained command")
	} else if !strings.Contains(string(res.Payload), `"error":"`+bridge.CodeRetained+`"`) {
		t.Errorf("retained command result = %s, want error %s", res.Payload, bridge.CodeRetained)
	}
	// The fixture's channel 2 is off; the retained command said ON.
	if sw, _ := w.ew.Param("1000a00002", "switches").([]any); len(sw) < 2 || fmt.Sprint(sw[1]) != "map[outlet:1 switch:off]" {
		t.Errorf("the retained command reached the eWeLink cloud: switches = %v", sw)
	}
	bridgetest.Publish(t, url, retainedTopic, 1, true, nil)
	got := w.retained()
	dcfg := w.d.cfg.Discovery(version)
	devs := devicesWithEntities(t, got[dcfg.BridgeTopic("devices")])

	type tc struct {
		name    string
		topic   string // relative to the device topic, or absolute when it starts with the base
		payload string
		code    string
	}
	oversized := `{"%s":"ON","pad":"` + strings.Repeat("x", bridge.MaxCommandSize) + `"}`
	generic := func(sw, ro string) []tc {
		return []tc{
			{"invalid JSON", "/set", `{"` + sw + `":`, vendors.CodeInvalidJSON},
			{"not an object", "/set", `["ON"]`, vendors.CodeInvalidJSON},
			{"trailing data", "/set", `{"` + sw + `":"ON"} x`, vendors.CodeInvalidJSON},
			{"unknown key", "/set/no_such_key", `ON`, vendors.CodeUnknownKey},
			{"unknown key in object", "/set", `{"no_such_key":"ON"}`, vendors.CodeUnknownKey},
			{"wrong type number", "/set", `{"` + sw + `":42}`, vendors.CodeInvalidValue},
			{"wrong type word", "/set/" + sw, `MAYBE`, vendors.CodeInvalidValue},
			{"read-only", "/set/" + ro, `1`, vendors.CodeReadOnly},
			{"valid and read-only together", "/set", `{"` + sw + `":"ON","` + ro + `":1}`, vendors.CodeReadOnly},
			{"oversized", "/set", fmt.Sprintf(oversized, sw), vendors.CodeTooLarge},
		}
	}
	type target struct {
		vendor, id string
		cases      []tc
	}
	var targets []target
	for _, v := range []string{"ewelink", "shelly", "ezviz", "expeed"} {
		id, sw, ro := pickDevice(devs, v)
		if id == "" {
			t.Logf("%s: no device with a writable switch and a read-only entity; generic cases skipped", v)
			continue
		}
		targets = append(targets, target{v, id, generic(sw, ro)})
	}
	// Ranges and unknown devices, on eWeLink fixtures.
	targets = append(targets,
		target{"ewelink", "1000a0000c", []tc{
			{"brightness out of range", "/set/light", `{"state":"ON","brightness":300}`, vendors.CodeOutOfRange},
		}},
		target{"ewelink", "1000a00001", []tc{
			{"number out of range", "/set/inching_width", `-5`, vendors.CodeOutOfRange},
		}},
		target{"ewelink", "ffffffff00", []tc{
			{"unknown device", "/set/switch", `ON`, vendors.CodeUnknownDevice},
		}},
		target{"nosuchvendor", "x1", []tc{
			{"unknown vendor", "/set/switch", `ON`, vendors.CodeUnknownDevice},
		}},
	)

	rec := bridgetest.Subscribe(t, url, w.base+"/#")
	ewBefore, shBefore := ewelinkWrites(w.ew), shellyWrites(w.shelly)
	n := 0
	for _, tg := range targets {
		dev := dcfg.DeviceTopic(tg.vendor, tg.id)
		stateBefore, _ := rec.Last(dev)
		for _, c := range tg.cases {
			n++
			t.Run(tg.vendor+"/"+c.name, func(t *testing.T) {
				tx := fmt.Sprintf("bad-%d", n)
				payload := c.payload
				// A transaction id makes each result identifiable; payloads
				// that are not a JSON object cannot carry one.
				if strings.HasPrefix(payload, "{") && strings.HasSuffix(payload, "}") && c.topic == "/set" && c.code != vendors.CodeTooLarge {
					payload = `{"transaction":"` + tx + `",` + payload[1:]
				} else {
					tx = ""
				}
				rec.Reset()
				bridgetest.Publish(t, url, dev+c.topic, 1, false, []byte(payload))
				pred := func(m mqttx.Message) bool { return tx == "" || hasTx(tx)(m) }
				res, ok := rec.WaitOK(dev+"/result", pred, 15*time.Second)
				if !ok {
					t.Fatalf("no result on %s/result", dev)
				}
				var r struct {
					Status, Error, Message string
				}
				if err := json.Unmarshal(res.Payload, &r); err != nil {
					t.Fatalf("result %s: %v", res.Payload, err)
				}
				if r.Status != "error" || r.Error != c.code || r.Message == "" {
					t.Errorf("result = %s, want status error, code %s and a message", res.Payload, c.code)
				}
				rec.Sync()
				if k := len(rec.On(dev + "/result")); k != 1 {
					t.Errorf("%d results, want 1", k)
				}
			})
		}
		if stateBefore.Payload != nil {
			if after, _ := rec.Last(dev); after.Payload != nil {
				var a, b map[string]any
				_ = json.Unmarshal(stateBefore.Payload, &a)
				_ = json.Unmarshal(after.Payload, &b)
				for _, k := range []string{"switch", "switch_1", "switch_2", "light", "cover"} {
					if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
						t.Errorf("%s: %s changed from %v to %v after invalid commands", dev, k, a[k], b[k])
					}
				}
			}
		}
	}
	if d := ewelinkWrites(w.ew) - ewBefore; d != 0 {
		t.Errorf("the eWeLink cloud received %d device writes from %d invalid commands, want 0", d, n)
	}
	if d := shellyWrites(w.shelly) - shBefore; d != 0 {
		t.Errorf("the Shelly cloud received %d device commands from %d invalid commands, want 0", d, n)
	}
	t.Logf("%d invalid commands, %d targets: every one answered with its error code; 0 cloud writes", n, len(targets))
}
