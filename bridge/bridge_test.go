package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func TestInventoryPublishesDiscoveryStateAvailability(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("a1"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	s.Update("a1", map[string]any{"switch": "ON", "power": 12.5})
	s.Availability("a1", true)

	want, err := h.cfg.DevicePayload("fake", &f.devices[0], discoveryOverride(""))
	if err != nil {
		t.Fatal(err)
	}
	h.ha.Wait(h.cfg.ConfigTopic("fake", "a1"), func(m mqttx.Message) bool { return bytes.Equal(m.Payload, want) }, 10*time.Second)
	st := h.waitJSON(h.rec, h.topic("fake", "a1"), func(v map[string]any) bool { return v["switch"] == "ON" })
	if st["power"] != 12.5 {
		t.Errorf("state %v", st)
	}
	if ls, _ := st["last_seen"].(string); ls == "" {
		t.Errorf("no last_seen in %v", st)
	} else if _, err := time.Parse(time.RFC3339, ls); err != nil {
		t.Errorf("last_seen %q: %v", ls, err)
	}
	h.rec.WaitPayload(h.topic("fake", "a1", "availability"), "online", 10*time.Second)

	// Retained on the broker, as a newcomer (Home Assistant) sees them.
	for topic, want := range map[string]string{
		h.topic("fake", "a1", "availability"): "online",
		h.cfg.BridgeTopic("state"):            "online",
		h.cfg.ConfigTopic("fake", "a1"):       string(want),
	} {
		if got, ok := bridgetest.Retained(t, h.url, topic); !ok || string(got) != want {
			t.Errorf("retained %s = %q, want %q", topic, got, want)
		}
	}
	if got, ok := bridgetest.Retained(t, h.url, h.topic("fake", "a1")); !ok || !strings.Contains(string(got), `"switch":"ON"`) {
		t.Errorf("retained state %q", got)
	}
	if _, ok := bridgetest.Retained(t, h.url, h.cfg.BridgeConfigTopic()); !ok {
		t.Error("no bridge discovery config")
	}

	info := h.waitJSON(h.rec, h.cfg.BridgeTopic("info"), func(v map[string]any) bool {
		accts, _ := v["accounts"].([]any)
		if len(accts) != 1 {
			return false
		}
		a := accts[0].(map[string]any)
		return a["status"] == "connected" && a["devices"] == 1.0
	})
	a := info["accounts"].([]any)[0].(map[string]any)
	if a["id"] != "fake/home" || a["vendor"] != "fake" || a["account"] != "home" || info["version"] != "test" ||
		info["base_topic"] != h.cfg.BaseTopic || info["discovery_prefix"] != h.cfg.Prefix || info["devices"] != 1.0 {
		t.Errorf("info %v", info)
	}
	for _, k := range []string{"commit", "start_time", "last_error", "reauth_needed", "reauth_url", "budget", "info"} {
		if _, ok := info[k]; !ok {
			if _, ok := a[k]; !ok {
				t.Errorf("info lacks %s", k)
			}
		}
	}

	m := h.rec.Wait(h.cfg.BridgeTopic("devices"), func(m mqttx.Message) bool { return bytes.Contains(m.Payload, []byte(`"online":true`)) }, 10*time.Second)
	var list []map[string]any
	if err := json.Unmarshal(m.Payload, &list); err != nil || len(list) != 1 {
		t.Fatalf("devices %s", m.Payload)
	}
	d := list[0]
	if d["id"] != "fake/a1" || d["vendor_id"] != "a1" || d["account"] != "home" || d["name"] != "Plug a1" || d["manufacturer"] != "Acme" {
		t.Errorf("device entry %v", d)
	}
	ents := d["entities"].([]any)
	if e := ents[0].(map[string]any); e["key"] != "switch" || e["platform"] != "switch" || e["writable"] != true {
		t.Errorf("entity %v", e)
	}
}

func TestPublishesOnlyChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("a1"), plug("marker"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	state := h.topic("fake", "a1")

	s.Update("a1", map[string]any{"switch": "ON", "power": 10})
	h.rec.Wait(state, nil, 10*time.Second)
	for i := 0; i < 5; i++ {
		s.Update("a1", map[string]any{"switch": "ON", "power": 10.0}) // last_seen moves, nothing else
		s.Availability("a1", true)
		s.Inventory(f.devices)
	}
	s.Update("marker", map[string]any{"switch": "OFF"})
	h.rec.Wait(h.topic("fake", "marker"), nil, 10*time.Second)
	h.ha.Sync()
	if n := len(h.rec.On(state)); n != 1 {
		t.Errorf("%d state messages for one change", n)
	}
	if n := len(h.rec.On(h.topic("fake", "a1", "availability"))); n != 1 {
		t.Errorf("%d availability messages for one change", n)
	}
	if n := len(h.ha.On(h.cfg.ConfigTopic("fake", "a1"))); n != 1 {
		t.Errorf("%d config messages for an unchanged device", n)
	}

	// Coalescing: many changes before the publisher runs may be sent once;
	// the last one always arrives.
	for i := 0; i < 50; i++ {
		s.Update("a1", map[string]any{"power": float64(100 + i)})
	}
	h.waitJSON(h.rec, state, func(v map[string]any) bool { return v["power"] == 149.0 })
	if n := len(h.rec.On(state)); n > 51 {
		t.Errorf("%d state messages", n)
	}

	// A changed device is published again.
	changed := plug("a1")
	changed.SWVersion = "2.0"
	s.Inventory([]vendors.Device{changed, plug("marker")})
	h.ha.Wait(h.cfg.ConfigTopic("fake", "a1"), func(m mqttx.Message) bool { return bytes.Contains(m.Payload, []byte(`"2.0"`)) }, 10*time.Second)
}

func TestSameDeviceFromTwoAccountsIsOneDevice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	home, work := newFake(plug("shared"), plug("h1")), newFake(plug("shared"))
	h.add("fake", "home", home)
	h.add("fake", "work", work)
	h.start(nil)
	hs, ws := home.Sink(t), work.Sink(t)

	h.rec.Wait(h.cfg.BridgeTopic("devices"), func(m mqttx.Message) bool {
		var list []map[string]any
		return json.Unmarshal(m.Payload, &list) == nil && len(list) == 2
	}, 10*time.Second)

	// Commands go to the account that reported the device last.
	ws.Update("shared", map[string]any{"switch": "OFF"})
	h.publish(h.cfg.SetTopic("fake", "shared", "switch"), "ON", false)
	if r := h.resultN("fake", "shared", 1); r["status"] != "ok" {
		t.Fatalf("result %v", r)
	}
	if len(work.Execs()) != 1 || len(home.Execs()) != 0 {
		t.Fatalf("work %v home %v", work.Execs(), home.Execs())
	}
	hs.Update("shared", map[string]any{"switch": "ON"})
	h.publish(h.cfg.SetTopic("fake", "shared", "switch"), "OFF", false)
	h.resultN("fake", "shared", 2)
	if len(home.Execs()) != 1 {
		t.Fatalf("home %v", home.Execs())
	}

	// Gone from one account only: kept, no event.
	hs.Inventory([]vendors.Device{plug("h1")})
	ws.Update("shared", map[string]any{"switch": "OFF"})
	h.waitJSON(h.rec, h.topic("fake", "shared"), func(v map[string]any) bool { return v["switch"] == "OFF" })
	for _, m := range h.rec.On(h.cfg.BridgeTopic("event")) {
		if bytes.Contains(m.Payload, []byte("device_removed")) {
			t.Fatalf("removed while another account has it: %s", m.Payload)
		}
	}
	// Gone from both: removed.
	ws.Inventory(nil)
	ev := h.waitJSON(h.rec, h.cfg.BridgeTopic("event"), func(v map[string]any) bool { return v["type"] == "device_removed" })
	if d := ev["data"].(map[string]any); d["id"] != "fake/shared" {
		t.Errorf("event %v", ev)
	}
}

func TestRemovedDeviceIsCleared(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("keep"), plug("gone"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	s.Update("gone", map[string]any{"switch": "ON"})
	s.Availability("gone", true)
	h.rec.WaitPayload(h.topic("fake", "gone", "availability"), "online", 10*time.Second)
	h.ha.Wait(h.cfg.ConfigTopic("fake", "gone"), nil, 10*time.Second)

	s.Inventory([]vendors.Device{plug("keep")})
	ev := h.waitJSON(h.rec, h.cfg.BridgeTopic("event"), func(v map[string]any) bool { return v["type"] == "device_removed" })
	if ev["data"].(map[string]any)["id"] != "fake/gone" {
		t.Errorf("event %v", ev)
	}
	h.rec.WaitPayload(h.topic("fake", "gone", "availability"), "", 10*time.Second)
	h.ha.WaitPayload(h.cfg.ConfigTopic("fake", "gone"), "", 10*time.Second)
	for _, topic := range []string{h.topic("fake", "gone"), h.topic("fake", "gone", "availability"), h.cfg.ConfigTopic("fake", "gone")} {
		if p, ok := bridgetest.Retained(t, h.url, topic); ok {
			t.Errorf("%s still retained: %q", topic, p)
		}
	}
	if _, ok := bridgetest.Retained(t, h.url, h.cfg.ConfigTopic("fake", "keep")); !ok {
		t.Error("kept device lost its config")
	}
	// Commands to it now fail.
	h.publish(h.cfg.SetTopic("fake", "gone", "switch"), "ON", false)
	if r := h.resultN("fake", "gone", 1); r["error"] != vendors.CodeUnknownDevice {
		t.Errorf("result %v", r)
	}
	// It comes back: device_added.
	s.Inventory([]vendors.Device{plug("keep"), plug("gone")})
	h.waitJSON(h.rec, h.cfg.BridgeTopic("event"), func(v map[string]any) bool { return v["type"] == "device_added" })
	h.ha.Wait(h.cfg.ConfigTopic("fake", "gone"), func(m mqttx.Message) bool { return len(m.Payload) > 0 }, 10*time.Second)
}

func TestInvalidCommandsNeverReachTheCloud(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(kitchen("k1"), plug("off1"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	s.Availability("k1", true)
	s.Availability("off1", false)
	h.rec.WaitPayload(h.topic("fake", "off1", "availability"), "offline", 10*time.Second)

	set := func(key string) string { return h.cfg.SetTopic("fake", "k1", key) }
	cases := []struct {
		name, topic, payload, code string
	}{
		{"invalid json", h.topic("fake", "k1", "set"), `{"switch": "ON"`, vendors.CodeInvalidJSON},
		{"not an object", h.topic("fake", "k1", "set"), `["switch"]`, vendors.CodeInvalidJSON},
		{"broken light json", set("light"), `{"state": `, vendors.CodeInvalidJSON},
		{"unknown device", h.cfg.SetTopic("fake", "nope", "switch"), "ON", vendors.CodeUnknownDevice},
		{"unknown key", set("nope"), "ON", vendors.CodeUnknownKey},
		{"unknown key in object", h.topic("fake", "k1", "set"), `{"switch":"ON","nope":1}`, vendors.CodeUnknownKey},
		{"read-only sensor", set("temperature"), "21", vendors.CodeReadOnly},
		{"read-only binary sensor", h.topic("fake", "k1", "set"), `{"door":"ON"}`, vendors.CodeReadOnly},
		{"wrong type switch", set("switch"), "MAYBE", vendors.CodeInvalidValue},
		{"wrong type number", set("target"), "warm", vendors.CodeInvalidValue},
		{"number out of range", set("target"), "31", vendors.CodeOutOfRange},
		{"number off step", set("target"), "20.2", vendors.CodeInvalidValue},
		{"position out of range", set("position"), "101", vendors.CodeOutOfRange},
		{"brightness out of range", set("light"), `{"brightness": 256}`, vendors.CodeOutOfRange},
		{"kelvin out of range", set("light"), `{"color_temp": 9000}`, vendors.CodeOutOfRange},
		{"unknown effect", set("light"), `{"effect": "disco"}`, vendors.CodeInvalidValue},
		{"no white channel", set("light"), `{"color": {"r":1,"g":2,"b":3,"w":4}}`, vendors.CodeNotSupported},
		{"select option", set("mode"), "turbo", vendors.CodeInvalidValue},
		{"gate cannot stop", set("gate"), "STOP", vendors.CodeNotSupported},
		{"toggle unknown state", set("switch"), "TOGGLE", vendors.CodeInvalidValue},
		{"oversized", set("switch"), strings.Repeat("x", MaxCommandSize+1), vendors.CodeTooLarge},
		{"offline device", h.cfg.SetTopic("fake", "off1", "switch"), "ON", vendors.CodeOffline},
	}
	for i, c := range cases {
		h.publish(c.topic, c.payload, false)
		parts := strings.Split(strings.TrimPrefix(c.topic, h.cfg.BaseTopic+"/"), "/")
		r := h.waitJSON(h.rec, h.topic(parts[0], parts[1], "result"), func(v map[string]any) bool { return v["error"] == c.code })
		if r["status"] != "error" || r["message"] == "" {
			t.Errorf("%d %s: %v", i, c.name, r)
		}
		h.rec.Reset()
	}
	if n := len(f.Execs()); n != 0 {
		t.Fatalf("%d commands reached the adapter: %v", n, f.Execs())
	}
	// command_failed events accompany error results.
	h.publish(set("nope"), "ON", false)
	h.waitJSON(h.rec, h.cfg.BridgeTopic("event"), func(v map[string]any) bool {
		d, _ := v["data"].(map[string]any)
		return v["type"] == "command_failed" && d["error"] == vendors.CodeUnknownKey && d["device"] == "fake/k1"
	})
}

// TestRetainedCommandsAreNotReplayed: a retained command left on the broker
// reaches the bridge flagged retained when it subscribes; it is refused.
func TestRetainedCommandsAreNotReplayed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	h.add("fake", "home", f)
	h.publish(h.cfg.SetTopic("fake", "p1", "switch"), "ON", true)
	h.publish(h.topic("fake", "p1", "set"), `{"switch":"OFF","transaction":7}`, true)
	h.start(nil)
	r := h.waitJSON(h.rec, h.topic("fake", "p1", "result"), func(v map[string]any) bool { return v["transaction"] == 7.0 })
	if r["error"] != CodeRetained {
		t.Errorf("result %v", r)
	}
	h.resultN("fake", "p1", 2)
	// Clearing them (empty retained payloads) is no command either.
	h.publish(h.cfg.SetTopic("fake", "p1", "switch"), "", true)
	h.publish(h.topic("fake", "p1", "set"), "", true)
	h.publish(h.cfg.SetTopic("fake", "p1", "switch"), "ON", false)
	if r := h.resultN("fake", "p1", 3); r["status"] != "ok" {
		t.Errorf("result %v", r)
	}
	h.rec.Sync()
	if n := len(h.rec.On(h.topic("fake", "p1", "result"))); n != 3 {
		t.Errorf("%d results", n)
	}
	if ex := f.Execs(); len(ex) != 1 || ex[0].Value != true {
		t.Fatalf("execs %v", ex)
	}
}

func TestCommandsReachTheAdapter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(kitchen("k1"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	s.Update("k1", map[string]any{"switch": "ON", "light": vendors.LightState{State: "OFF"}, "fan": "ON"})
	h.rec.Wait(h.topic("fake", "k1"), nil, 10*time.Second)

	n := 0
	send := func(topic, payload string) map[string]any {
		h.publish(topic, payload, false)
		n++
		return h.resultN("fake", "k1", n)
	}
	set := func(key string) string { return h.cfg.SetTopic("fake", "k1", key) }
	i255 := func(v int) *int { return &v }
	btrue, bfalse := true, false
	cases := []struct {
		topic, payload string
		want           vendors.Command
	}{
		{set("switch"), "TOGGLE", vendors.Command{Key: "switch", Value: false}},
		{set("switch"), "true", vendors.Command{Key: "switch", Value: true}},
		{set("light"), "TOGGLE", vendors.Command{Key: "light", Value: vendors.LightCommand{On: &btrue}}},
		{set("light"), `{"state":"ON","brightness":128,"color_temp":3000,"transition":2}`, vendors.Command{Key: "light", Value: vendors.LightCommand{On: &btrue, Brightness: i255(128), ColorTemp: i255(3000), Transition: ptr(2.0)}}},
		{set("light"), `{"color_temp":250}`, vendors.Command{Key: "light", Value: vendors.LightCommand{ColorTemp: i255(4000)}}}, // mireds
		{set("light"), `{"color":{"r":255,"g":0,"b":10},"effect":"rainbow"}`, vendors.Command{Key: "light", Value: vendors.LightCommand{Color: &vendors.Color{R: 255, B: 10}, Effect: "rainbow"}}},
		{set("position"), "40", vendors.Command{Key: "blind", Value: vendors.CoverCommand{Position: i255(40)}}},
		{set("tilt"), "15", vendors.Command{Key: "blind", Value: vendors.CoverCommand{Tilt: i255(15)}}},
		{set("blind"), "stop", vendors.Command{Key: "blind", Value: vendors.CoverCommand{Action: "STOP"}}},
		{set("fan"), "TOGGLE", vendors.Command{Key: "fan", Value: vendors.FanCommand{On: &bfalse}}},
		{set("fan_speed"), "66", vendors.Command{Key: "fan", Value: vendors.FanCommand{Percentage: i255(66)}}},
		{set("fan_mode"), "sleep", vendors.Command{Key: "fan", Value: vendors.FanCommand{Preset: "sleep"}}},
		{set("target"), "21.5", vendors.Command{Key: "target", Value: 21.5}},
		{set("mode"), `"comfort"`, vendors.Command{Key: "mode", Value: "comfort"}},
		{set("restart"), "PRESS", vendors.Command{Key: "restart"}},
		{set("alarm"), "arm_away", vendors.Command{Key: "alarm", Value: "ARM_AWAY"}},
		{set("firmware"), "install", vendors.Command{Key: "firmware"}},
	}
	for _, c := range cases {
		if r := send(c.topic, c.payload); r["status"] != "ok" {
			t.Errorf("%s %s: %v", c.topic, c.payload, r)
			continue
		}
		ex := f.Execs()
		got := ex[len(ex)-1]
		c.want.DeviceID = "k1"
		if !equalJSON(got, c.want) {
			t.Errorf("%s %s: executed %+v, want %+v", c.topic, c.payload, jsonString(got), jsonString(c.want))
		}
	}

	// One /set object with several keys: one result, executed in order.
	before := len(f.Execs())
	r := send(h.topic("fake", "k1", "set"), `{"target": 20, "switch": "OFF", "transaction": "t-1"}`)
	if r["status"] != "ok" || r["transaction"] != "t-1" {
		t.Fatalf("result %v", r)
	}
	if cmd, _ := r["command"].(map[string]any); cmd["target"] != 20.0 || cmd["switch"] != "OFF" || cmd["transaction"] != nil {
		t.Errorf("command echo %v", r["command"])
	}
	if _, ok := r["latency_ms"].(float64); !ok {
		t.Errorf("no latency in %v", r)
	}
	if _, ok := r["error"]; ok {
		t.Errorf("ok result with error field: %v", r)
	}
	ex := f.Execs()[before:]
	if len(ex) != 2 || ex[0].Key != "target" || ex[1].Key != "switch" {
		t.Errorf("execs %v", ex)
	}

	// Cloud errors come back with their code.
	f.mu.Lock()
	f.execErr = vendors.Errorf(vendors.CodeNoResponse, "device did not answer")
	f.mu.Unlock()
	r = send(set("switch"), "ON")
	if r["status"] != "error" || r["error"] != vendors.CodeNoResponse || !strings.Contains(r["message"].(string), "did not answer") {
		t.Errorf("result %v", r)
	}
	f.mu.Lock()
	f.execErr = &vendors.RateLimitError{RetryAfter: time.Second}
	f.mu.Unlock()
	if r = send(set("switch"), "ON"); r["error"] != vendors.CodeRateLimited {
		t.Errorf("result %v", r)
	}
}

func ptr[T any](v T) *T { return &v }

// eventually polls cond (for state with no message to wait for).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func equalJSON(a, b any) bool {
	return jsonString(a) == jsonString(b)
}

func jsonString(v any) string {
	p, _ := json.Marshal(v)
	return string(p)
}

func TestQueueFull(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	f.block = make(chan struct{})
	h.add("fake", "home", f)
	h.start(func(o *Options) { o.CommandQueue, o.CommandWorkers = 1, 1 })
	f.Sink(t)
	set := h.cfg.SetTopic("fake", "p1", "switch")

	h.publish(set, "ON", false)
	<-f.started // the worker holds the first command
	h.publish(set, "OFF", false)
	h.publish(h.topic("fake", "p1", "set"), `{"switch":"ON","transaction":3}`, false)
	r := h.resultN("fake", "p1", 1)
	if r["error"] != vendors.CodeQueueFull || r["transaction"] != 3.0 {
		t.Fatalf("result %v", r)
	}
	close(f.block)
	h.resultN("fake", "p1", 3)
	for _, m := range h.rec.On(h.topic("fake", "p1", "result"))[1:] {
		if v := decode(t, m.Payload); v["status"] != "ok" {
			t.Errorf("result %v", v)
		}
	}
	if ex := f.Execs(); len(ex) != 2 || ex[0].Value != true || ex[1].Value != false {
		t.Errorf("execs %v", ex)
	}
}

func TestGetAndRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	plain := newFake(plug("x1"))
	h.add("fake", "home", f)
	h.add("plain", "home", bare{plain})
	h.start(nil)
	f.Sink(t)
	plain.Sink(t)

	h.publish(h.topic("fake", "p1", "get"), "", false)
	if r := h.resultN("fake", "p1", 1); r["status"] != "ok" {
		t.Errorf("get: %v", r)
	}
	h.publish(h.topic("plain", "x1", "get"), "", false)
	if r := h.resultN("plain", "x1", 1); r["error"] != vendors.CodeNotSupported {
		t.Errorf("get without refresher: %v", r)
	}

	req := func(action, payload string) map[string]any {
		t.Helper()
		tx := bridgetest.RandomID(4)
		if payload == "" {
			payload = `{"transaction":"` + tx + `"}`
		} else {
			payload = strings.Replace(payload, "{", `{"transaction":"`+tx+`",`, 1)
		}
		h.publish(h.cfg.BridgeTopic("request/"+action), payload, false)
		return h.waitJSON(h.rec, h.cfg.BridgeTopic("response/"+action), func(v map[string]any) bool { return v["transaction"] == tx })
	}
	if r := req("refresh", `{"device":"fake/p1"}`); r["status"] != "ok" {
		t.Errorf("refresh device: %v", r)
	}
	if r := req("refresh", ""); r["status"] != "ok" {
		t.Errorf("refresh all: %v", r)
	}
	if got := f.Refreshes(); len(got) != 3 || got[0] != "p1" || got[1] != "p1" || got[2] != "" {
		t.Errorf("refreshes %q", got)
	}
	if r := req("refresh", `{"device":"fake/none"}`); r["status"] != "error" {
		t.Errorf("refresh unknown: %v", r)
	}
	before := len(h.ha.On(h.cfg.ConfigTopic("fake", "p1")))
	if r := req("discovery/republish", ""); r["status"] != "ok" {
		t.Errorf("republish: %v", r)
	}
	h.ha.Wait(h.cfg.ConfigTopic("fake", "p1"), func(mqttx.Message) bool { return len(h.ha.On(h.cfg.ConfigTopic("fake", "p1"))) > before }, 10*time.Second)
	r := req("health", "")
	if d, _ := r["data"].(map[string]any); r["status"] != "ok" || d["status"] != "ok" || d["mqtt_connected"] != true {
		t.Errorf("health: %v", r)
	}
	r = req("fake/echo", `{"account":"home","x":1}`)
	if d, _ := r["data"].(map[string]any); r["status"] != "ok" || d["action"] != "echo" {
		t.Errorf("vendor request: %v", r)
	}
	if r := req("fake/fail", ""); r["status"] != "error" || r["error"] != "asked to fail" {
		t.Errorf("vendor failure: %v", r)
	}
	if r := req("fake/echo", `{"account":"nobody"}`); r["status"] != "error" {
		t.Errorf("unknown account: %v", r)
	}
	if r := req("plain/echo", ""); r["status"] != "error" {
		t.Errorf("no requester: %v", r)
	}
	if r := req("nonsense", ""); r["status"] != "error" || !strings.Contains(r["error"].(string), "unknown action") {
		t.Errorf("unknown action: %v", r)
	}
	h.publish(h.cfg.BridgeTopic("request/health"), "{bad", false)
	h.waitJSON(h.rec, h.cfg.BridgeTopic("response/health"), func(v map[string]any) bool { return v["status"] == "error" })
}

func TestHomeAssistantBirthRepublishes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	s.Update("p1", map[string]any{"switch": "ON"})
	s.Availability("p1", true)
	cfgTopic, state, avail := h.cfg.ConfigTopic("fake", "p1"), h.topic("fake", "p1"), h.topic("fake", "p1", "availability")
	h.rec.WaitPayload(avail, "online", 10*time.Second)
	h.rec.Wait(state, nil, 10*time.Second)
	h.ha.Wait(cfgTopic, nil, 10*time.Second)

	h.publish(h.cfg.Prefix+"/status", "offline", false)
	h.publish(h.cfg.Prefix+"/status", "online", false)
	for _, w := range []struct {
		r     *bridgetest.Recorder
		topic string
	}{{h.ha, cfgTopic}, {h.rec, state}, {h.rec, avail}, {h.rec, h.cfg.BridgeTopic("state")}, {h.ha, h.cfg.BridgeConfigTopic()}} {
		w.r.Wait(w.topic, func(mqttx.Message) bool { return len(w.r.On(w.topic)) >= 2 }, 10*time.Second)
	}
}

// TestRepublishSendsConfigsFirst: after a birth, every config goes out
// before any state or availability (the contract's order).
func TestRepublishSendsConfigsFirst(t *testing.T) {
	b, a, mem := benchBridge(t, 300)
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("dev%05d", i)
		a.Update(id, map[string]any{"switch": "ON"})
		a.Availability(id, true)
	}
	b.step()
	mem.keep = true
	b.republish(configsAndStates)
	b.step()
	configs, states, lastConfig, firstState := 0, 0, -1, -1
	for i, topic := range mem.order {
		switch {
		case strings.HasSuffix(topic, "/config") && strings.Contains(topic, "fake_dev"):
			configs++
			lastConfig = i
		case strings.HasPrefix(topic, "bench/fake/"):
			states++
			if firstState < 0 {
				firstState = i
			}
		}
	}
	if configs != 300 || states != 600 {
		t.Fatalf("%d configs and %d states/availability published, want 300 and 600", configs, states)
	}
	if firstState < lastConfig {
		t.Errorf("a state went out (at %d) before the last config (at %d)", firstState, lastConfig)
	}
	if !slices.Contains(mem.order[lastConfig:], "bench/bridge/state") {
		t.Error("bridge/state not published again after the configs")
	}
}

// TestBirthLeavesDeviceListAlone: a Home Assistant birth sends configs and
// states again but not bridge/devices (retained, megabytes with many
// devices, and nothing Home Assistant reads); a reconnect sends it too.
func TestBirthLeavesDeviceListAlone(t *testing.T) {
	b, _, mem := benchBridge(t, 20)
	b.opts.ListInterval = 0
	b.step()
	mem.keep = true
	list := "bench/bridge/devices"
	b.republish(configsAndStates)
	b.step()
	if slices.Contains(mem.order, list) {
		t.Error("a birth republished bridge/devices")
	}
	if !slices.Contains(mem.order, "bench/bridge/state") {
		t.Error("a birth did not republish bridge/state")
	}
	b.republish(everything)
	b.step()
	if !slices.Contains(mem.order, list) {
		t.Error("a reconnect did not republish bridge/devices")
	}
}

// TestBurstPublishesLatestState: changes that arrive faster than the
// publisher runs coalesce, and what goes out last for each device is its
// newest state.
func TestBurstPublishesLatestState(t *testing.T) {
	b, a, mem := benchBridge(t, 50)
	mem.keep = true
	for round := 0; round < 20; round++ {
		for i := 0; i < 50; i++ {
			a.Update(fmt.Sprintf("dev%05d", i), map[string]any{"power": float64(round*1000 + i)})
		}
		if round%7 == 0 {
			b.step()
		}
	}
	b.step()
	for i := 0; i < 50; i++ {
		var st map[string]any
		if err := json.Unmarshal(mem.last[fmt.Sprintf("bench/fake/dev%05d", i)], &st); err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		if want := float64(19*1000 + i); st["power"] != want {
			t.Errorf("device %d: last published power %v, want the newest %v", i, st["power"], want)
		}
	}
	if n := mem.published.Load(); n >= 20*50 {
		t.Errorf("%d publishes for 1 000 changes: nothing coalesced", n)
	}
}

// TestUnchangedInventoryKeepsDeviceList: a polling cloud hands over the
// same list every poll; only a change rebuilds bridge/devices and info.
func TestUnchangedInventoryKeepsDeviceList(t *testing.T) {
	b, a, mem := benchBridge(t, 100)
	b.opts.ListInterval = 0
	mem.keep = true
	devs := make([]vendors.Device, 100)
	for i := range devs {
		devs[i] = plug(fmt.Sprintf("dev%05d", i))
	}
	lists := func() int { return strings.Count(strings.Join(mem.order, " "), "bench/bridge/devices") }
	a.Inventory(devs)
	b.step()
	if n := lists(); n != 0 {
		t.Fatalf("an unchanged inventory published bridge/devices %d times", n)
	}
	devs[7].Name = "Renamed"
	a.Inventory(devs)
	b.step()
	if n := lists(); n != 1 {
		t.Fatalf("a renamed device published bridge/devices %d times, want 1", n)
	}
	a.Inventory(devs[:99])
	b.step()
	if n := lists(); n != 2 {
		t.Fatalf("a removed device published bridge/devices %d times in all, want 2", n)
	}
}

func TestStartupSweep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("current"))
	h.add("fake", "home", f)

	stale, foreign, oldVendor, current := h.cfg.ConfigTopic("fake", "stale"), h.cfg.Prefix+"/device/other_fake_x/config",
		h.cfg.ConfigTopic("gone", "y"), h.cfg.ConfigTopic("fake", "current")
	render := func(vendor string, d vendors.Device) string {
		p, err := h.cfg.DevicePayload(vendor, &d, discoveryOverride(""))
		if err != nil {
			t.Fatal(err)
		}
		return string(p)
	}
	other := h.cfg
	other.BaseTopic = "other"
	foreignPayload, err := other.DevicePayload("fake", ptr(plug("x")), discoveryOverride(""))
	if err != nil {
		t.Fatal(err)
	}
	h.publish(stale, render("fake", plug("stale")), true)
	h.publish(oldVendor, render("gone", plug("y")), true)
	h.publish(current, render("fake", plug("current")), true)
	h.publish(foreign, string(foreignPayload), true)
	h.publish(h.cfg.Prefix+"/device/not_json/config", "{", true)

	h.start(nil)
	h.ha.WaitPayload(stale, "", 10*time.Second)
	h.ha.WaitPayload(oldVendor, "", 10*time.Second)
	h.ha.Sync()
	all := bridgetest.RetainedUnder(t, h.url, h.cfg.Prefix+"/#")
	if _, ok := all[stale]; ok {
		t.Error("stale config kept")
	}
	if _, ok := all[oldVendor]; ok {
		t.Error("config of an unconfigured vendor kept")
	}
	if string(all[foreign]) != string(foreignPayload) {
		t.Error("foreign config touched")
	}
	if _, ok := all[h.cfg.Prefix+"/device/not_json/config"]; !ok {
		t.Error("unparsable foreign config touched")
	}
	if _, ok := all[current]; !ok {
		t.Error("current device lost its config")
	}
	for _, m := range h.ha.On(current) {
		if len(m.Payload) == 0 {
			t.Error("current device's config was cleared")
		}
	}
}

// TestCommandWhileDisconnected cuts the bridge's connection (no DISCONNECT):
// the broker publishes the last will; a QoS 1 command sent meanwhile is
// carried out exactly once after the automatic reconnect; bridge state,
// device state and availability are published again.
func TestCommandWhileDisconnected(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	proxy := bridgetest.NewProxy(t, h.url)
	h.connURL = proxy.URL()
	f := newFake(plug("p1"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	s.Update("p1", map[string]any{"switch": "OFF"})
	s.Availability("p1", true)
	state, avail := h.topic("fake", "p1"), h.topic("fake", "p1", "availability")
	h.rec.WaitPayload(avail, "online", 10*time.Second)
	h.rec.Wait(state, nil, 10*time.Second)

	proxy.Cut()
	h.rec.WaitPayload(h.cfg.BridgeTopic("state"), "offline", 10*time.Second)
	h.publish(h.cfg.SetTopic("fake", "p1", "switch"), "ON", false)
	if len(f.Execs()) != 0 {
		t.Fatal("executed while disconnected")
	}
	eventually(t, func() bool { return !h.b.Health().OK() })
	proxy.Restore()

	if r := h.resultN("fake", "p1", 1); r["status"] != "ok" {
		t.Fatalf("result %v", r)
	}
	h.rec.Wait(h.cfg.BridgeTopic("state"), func(m mqttx.Message) bool {
		on := h.rec.On(h.cfg.BridgeTopic("state"))
		return string(on[len(on)-1].Payload) == "online"
	}, 10*time.Second)
	h.rec.Wait(state, func(mqttx.Message) bool { return len(h.rec.On(state)) >= 2 }, 10*time.Second)
	h.rec.Wait(avail, func(mqttx.Message) bool { return len(h.rec.On(avail)) >= 2 }, 10*time.Second)
	h.rec.Sync()
	if ex := f.Execs(); len(ex) != 1 || ex[0].Value != true {
		t.Fatalf("execs %v", ex)
	}
	if n := len(h.rec.On(h.topic("fake", "p1", "result"))); n != 1 {
		t.Errorf("%d results", n)
	}
	if !h.b.Health().OK() {
		t.Errorf("unhealthy after reconnect: %+v", h.b.Health())
	}
}

// TestCommandWhileStopped: a QoS 1 command sent while the bridge was not
// running is carried out once by the next run (same client id).
func TestCommandWhileStopped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	h.add("fake", "home", f)
	h.start(nil)
	f.Sink(t)
	h.stop()
	h.rec.WaitPayload(h.cfg.BridgeTopic("state"), "offline", 10*time.Second)
	if got, _ := bridgetest.Retained(t, h.url, h.cfg.BridgeTopic("state")); string(got) != "offline" {
		t.Errorf("retained state %q after shutdown", got)
	}

	h.publish(h.cfg.SetTopic("fake", "p1", "switch"), "ON", false)
	f2 := newFake(plug("p1"))
	h.accounts = nil
	h.add("fake", "home", f2)
	h.rec.Reset()
	h.start(nil)
	if r := h.resultN("fake", "p1", 1); r["status"] != "ok" {
		t.Fatalf("result %v", r)
	}
	h.rec.Sync()
	if ex := f2.Execs(); len(ex) != 1 || len(f.Execs()) != 0 {
		t.Fatalf("execs %v / %v", ex, f.Execs())
	}
}

func TestPermanentErrorStopsAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	f.runErrs = []error{errors.New("stream lost")}
	bad := newFake()
	bad.runErrs = []error{vendors.Permanent(vendors.Errorf(vendors.CodeAuth, "invalid credentials"))}
	h.add("fake", "home", f)
	h.add("fake", "broken", bad)
	h.start(func(o *Options) {
		o.RestartBackoff.Base, o.RestartBackoff.Max, o.RestartBackoff.Floor = 5*time.Millisecond, 10*time.Millisecond, 5*time.Millisecond
	})
	info := h.waitJSON(h.rec, h.cfg.BridgeTopic("info"), func(v map[string]any) bool {
		for _, a := range v["accounts"].([]any) {
			if a := a.(map[string]any); a["id"] == "fake/broken" && a["status"] == "error" {
				return true
			}
		}
		return false
	})
	for _, a := range info["accounts"].([]any) {
		if a := a.(map[string]any); a["id"] == "fake/broken" && (a["last_error"] != "invalid credentials" || a["reauth_needed"] != true) {
			t.Errorf("account %v", a)
		}
	}
	hl := h.b.Health()
	if hl.OK() || len(hl.Problems) != 1 || !strings.Contains(hl.Problems[0], "fake/broken") {
		t.Errorf("health %+v", hl)
	}
	// The other account's adapter failed once and was restarted.
	eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.runs >= 2
	})
	bad.mu.Lock()
	defer bad.mu.Unlock()
	if bad.runs != 1 {
		t.Errorf("permanent failure retried: %d runs", bad.runs)
	}
}

func TestEventsImagesAndLights(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(kitchen("k1"))
	h.add("fake", "home", f)
	h.start(func(o *Options) { o.MaxImage = 1000 })
	s := f.Sink(t)

	s.Event("k1", "ring", "press", map[string]any{"button": 1})
	ev := h.waitJSON(h.rec, h.topic("fake", "k1", "ring"), func(map[string]any) bool { return true })
	if ev["event_type"] != "press" || ev["button"] != 1.0 {
		t.Errorf("event %v", ev)
	}
	s.Image("k1", "snapshot", bytes.Repeat([]byte{0xff}, 2000)) // too large: dropped
	s.Image("k1", "snapshot", []byte{0xff, 0xd8, 1, 2})
	m := h.rec.Wait(h.topic("fake", "k1", "snapshot"), nil, 10*time.Second)
	if !bytes.Equal(m.Payload, []byte{0xff, 0xd8, 1, 2}) {
		t.Errorf("image %x", m.Payload)
	}

	bri := 200
	s.Update("k1", map[string]any{"light": &vendors.LightState{State: "ON", Brightness: &bri, ColorMode: "color_temp", ColorTemp: ptr(3000)}})
	l := h.waitJSON(h.rec, h.topic("fake", "k1", "light"), func(map[string]any) bool { return true })
	if l["state"] != "ON" || l["brightness"] != 200.0 || l["color_temp"] != 3000.0 {
		t.Errorf("light topic %v", l)
	}
	st := h.waitJSON(h.rec, h.topic("fake", "k1"), func(v map[string]any) bool { return v["light"] != nil })
	if sl := st["light"].(map[string]any); sl["brightness"] != 200.0 {
		t.Errorf("state %v", st)
	}
	if _, ok := bridgetest.Retained(t, h.url, h.topic("fake", "k1", "ring")); ok {
		t.Error("event retained")
	}
	// Only changed lights are published again.
	s.Update("k1", map[string]any{"switch": "ON"})
	h.waitJSON(h.rec, h.topic("fake", "k1"), func(v map[string]any) bool { return v["switch"] == "ON" })
	if n := len(h.rec.On(h.topic("fake", "k1", "light"))); n != 1 {
		t.Errorf("%d light messages", n)
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"), plug("hidden"))
	h.add("fake", "home", f)
	h.start(func(o *Options) {
		o.Overrides = map[string]DeviceOverride{
			"fake/p1":     {Name: "Desk lamp", Area: "Office"},
			"fake/hidden": {Disabled: true},
		}
	})
	s := f.Sink(t)
	s.Update("hidden", map[string]any{"switch": "ON"})
	cfg := h.ha.Wait(h.cfg.ConfigTopic("fake", "p1"), nil, 10*time.Second)
	if !bytes.Contains(cfg.Payload, []byte("Desk lamp")) || !bytes.Contains(cfg.Payload, []byte("Office")) {
		t.Errorf("config %s", cfg.Payload)
	}
	m := h.rec.Wait(h.cfg.BridgeTopic("devices"), func(m mqttx.Message) bool { return bytes.Contains(m.Payload, []byte("Desk lamp")) }, 10*time.Second)
	if bytes.Contains(m.Payload, []byte("hidden")) {
		t.Errorf("devices %s", m.Payload)
	}
	h.publish(h.cfg.SetTopic("fake", "hidden", "switch"), "ON", false)
	if r := h.resultN("fake", "hidden", 1); r["error"] != vendors.CodeUnknownDevice {
		t.Errorf("result %v", r)
	}
	h.ha.Sync()
	if len(h.ha.On(h.cfg.ConfigTopic("fake", "hidden"))) != 0 || len(h.rec.On(h.topic("fake", "hidden"))) != 0 {
		t.Error("disabled device published")
	}
}

func TestAccountEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := newFake(plug("p1"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	h.waitJSON(h.rec, h.cfg.BridgeTopic("event"), func(v map[string]any) bool { return v["type"] == "account_connected" })
	s.Status(vendors.Status{State: vendors.StateBackoff, LastError: "stream dropped", Budget: map[string]int64{"calls_today": 42}})
	ev := h.waitJSON(h.rec, h.cfg.BridgeTopic("event"), func(v map[string]any) bool { return v["type"] == "account_disconnected" })
	if d := ev["data"].(map[string]any); d["id"] != "fake/home" || d["error"] != "stream dropped" {
		t.Errorf("event %v", ev)
	}
	h.waitJSON(h.rec, h.cfg.BridgeTopic("info"), func(v map[string]any) bool {
		a := v["accounts"].([]any)[0].(map[string]any)
		b, _ := a["budget"].(map[string]any)
		return a["status"] == "backoff" && b["calls_today"] == 42.0
	})
}

// TestStopLeavesNoGoroutines: after Run returns, none of the bridge's or its
// MQTT client's goroutines remain.
func TestStopLeavesNoGoroutines(t *testing.T) {
	h := newHarness(t)
	h.rec = bridgetest.Subscribe(t, h.url, h.cfg.BaseTopic+"/#")
	h.ha = bridgetest.Subscribe(t, h.url, h.cfg.Prefix+"/#")
	before := runtime.NumGoroutine()
	f := newFake(plug("p1"))
	h.add("fake", "home", f)
	h.start(nil)
	f.Sink(t).Update("p1", map[string]any{"switch": "ON"})
	h.publish(h.cfg.BridgeTopic("request/health"), "{}", false)
	h.rec.Wait(h.cfg.BridgeTopic("response/health"), nil, 10*time.Second)
	h.publish(h.cfg.SetTopic("fake", "p1", "switch"), "OFF", false)
	h.resultN("fake", "p1", 1)
	if runtime.NumGoroutine() <= before {
		t.Fatal("a running bridge shows no goroutines")
	}
	h.stop()
	var stacks string
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			stacks = string(buf[:runtime.Stack(buf, true)])
			t.Fatalf("%d goroutines left (had %d):\n%s", runtime.NumGoroutine(), before, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
