package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/mqttx"
)

// restartBound is how soon after the broker is reachable again the full
// retained picture must be back (issue 8: 5 s).
const restartBound = 5 * time.Second

// TestFaultBrokerRestarts restarts a real Mosquitto under the demo (every
// simulator and real adapter) CLOUD2MQTT_FAULT_RESTARTS times (default 20),
// alternating a broker killed with its database lost (every retained message
// gone) and a graceful one that keeps the bridge's persistent session. After
// each, the bridge state, every device's state, availability and discovery
// config are retained again within 5 s and no config appears that was not
// there before; a QoS 1 command published while the bridge was cut off is
// carried out exactly once at the cloud, with exactly one result (QoS 1 may
// deliver that result message twice, never two different results).
func TestFaultBrokerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a broker many times")
	}
	n := faultEnvInt(t, "CLOUD2MQTT_FAULT_RESTARTS", 20)
	mq := startMosquittoChild(t)
	proxy := bridgetest.NewProxy(t, mq.url())
	w := startFaultWorld(t, mq.url(), faultWorldOptions{bridgeURL: proxy.URL()})
	want := w.settle()
	wantConfigs := w.configTopics(w.retained())
	t.Logf("settled: %d devices, %d retained topics, %d discovery configs", len(want.devices), len(want.topics), len(wantConfigs))

	dcfg := w.d.cfg.Discovery(version)
	const dev, key = "1000a00002", "switch_2"
	setTopic, resultTopic := dcfg.SetTopic("ewelink", dev, ""), dcfg.DeviceTopic("ewelink", dev)+"/result"
	setTopic = strings.TrimSuffix(setTopic, "/")
	type sent struct {
		tx  string
		rec *bridgetest.Recorder
	}
	var commands []sent
	writesBefore := ewelinkWrites(w.ew)
	var took []time.Duration

	for i := 1; i <= n; i++ {
		graceful := i%2 == 0
		proxy.Cut()
		if graceful {
			mq.stop(syscall.SIGTERM)
		} else {
			mq.stop(syscall.SIGKILL)
		}
		mq.start()
		if graceful {
			// The bridge is still cut off: its session on the broker queues this.
			tx := fmt.Sprintf("restart-%d-%s", i, bridgetest.RandomID(3))
			rec := bridgetest.Subscribe(t, mq.url(), resultTopic)
			value := "ON"
			if i%4 == 0 {
				value = "OFF"
			}
			payload := fmt.Sprintf(`{%q:%q,"transaction":%q}`, key, value, tx)
			bridgetest.Publish(t, mq.url(), setTopic, 1, false, []byte(payload))
			commands = append(commands, sent{tx, rec})
		}
		proxy.Restore()
		_, d := w.waitComplete(fmt.Sprintf("restart %d (graceful=%v)", i, graceful), &want, restartBound)
		took = append(took, d)
		got := w.retained()
		for topic := range w.configTopics(got) {
			if !wantConfigs[topic] {
				t.Errorf("restart %d: a discovery config appeared that was not there before: %s", i, topic)
			}
		}
		for topic := range wantConfigs {
			if _, ok := got[topic]; !ok {
				t.Errorf("restart %d: discovery config %s missing", i, topic)
			}
		}
		if graceful {
			c := commands[len(commands)-1]
			res := c.rec.Wait(resultTopic, hasTx(c.tx), 20*time.Second)
			if !strings.Contains(string(res.Payload), `"status":"ok"`) {
				t.Errorf("restart %d: queued command result %s", i, res.Payload)
			}
		}
	}

	// Give a replay every chance to show: another graceful restart, then
	// count what the cloud and the results saw.
	proxy.Cut()
	mq.stop(syscall.SIGTERM)
	mq.start()
	proxy.Restore()
	w.waitComplete("final restart", &want, restartBound)
	// A replayed command would reach the cloud right after the reconnect.
	time.Sleep(time.Second)
	for _, c := range commands {
		// QoS 1 may deliver the one result twice (its acknowledgement lost
		// in the next cut); a second execution would be a different result.
		distinct := map[string]bool{}
		for _, m := range filterMsgs(c.rec.On(resultTopic), hasTx(c.tx)) {
			distinct[string(m.Payload)] = true
		}
		if len(distinct) != 1 {
			t.Errorf("command %s: %d distinct results, want exactly 1", c.tx, len(distinct))
		}
	}
	if got := ewelinkWrites(w.ew) - writesBefore; got != len(commands) {
		t.Errorf("the eWeLink cloud received %d device writes for %d queued commands, want exactly one each", got, len(commands))
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	if len(took) > 0 {
		t.Logf("%d restarts: picture back after median %s, max %s (bound %s); %d queued commands each ran once",
			n, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), restartBound, len(commands))
	}
}

func hasTx(tx string) func(mqttx.Message) bool {
	return func(m mqttx.Message) bool {
		var r struct {
			Transaction json.RawMessage `json:"transaction"`
		}
		if json.Unmarshal(m.Payload, &r) != nil {
			return false
		}
		var s string
		return json.Unmarshal(r.Transaction, &s) == nil && s == tx
	}
}

func filterMsgs(ms []mqttx.Message, pred func(mqttx.Message) bool) []mqttx.Message {
	var out []mqttx.Message
	for _, m := range ms {
		if pred(m) {
			out = append(out, m)
		}
	}
	return out
}

// TestFaultHomeAssistantRestart: when Home Assistant announces itself
// (offline then online on its status topic), the bridge sends every
// discovery config, every device state and availability again.
func TestFaultHomeAssistantRestart(t *testing.T) {
	url := bridgetest.BrokerURL(t)
	w := startFaultWorld(t, url, faultWorldOptions{})
	want := w.settle()
	rec := bridgetest.Subscribe(t, url, w.base+"/#")
	cfgRec := bridgetest.Subscribe(t, url, w.prefix+"/#")
	rec.Reset()
	cfgRec.Reset()

	status := w.d.cfg.HomeAssistant.StatusTopic
	bridgetest.Publish(t, url, status, 1, false, []byte("offline"))
	bridgetest.Publish(t, url, status, 1, false, []byte("online"))

	dcfg := w.d.cfg.Discovery(version)
	for _, id := range want.devices {
		vendor, vid, _ := strings.Cut(id, "/")
		if _, ok := cfgRec.WaitOK(dcfg.ConfigTopic(vendor, vid), nil, 15*time.Second); !ok {
			t.Errorf("%s: discovery config not sent again", id)
		}
		if _, ok := rec.WaitOK(dcfg.DeviceTopic(vendor, vid), nil, 15*time.Second); !ok {
			t.Errorf("%s: state not sent again", id)
		}
		if _, ok := rec.WaitOK(dcfg.AvailabilityTopic(vendor, vid), nil, 15*time.Second); !ok {
			t.Errorf("%s: availability not sent again", id)
		}
	}
	rec.WaitPayload(dcfg.BridgeTopic("state"), "online", 15*time.Second)
	// No config for anything Home Assistant should not know.
	for _, m := range cfgRec.Messages() {
		if strings.HasSuffix(m.Topic, "/config") && len(m.Payload) > 0 && !want.configs[m.Topic] {
			t.Errorf("config sent for %s, which is not a known device", m.Topic)
		}
	}
}
