package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
)

func TestV2Refreshes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var reqs []benchReq
	at := func(s float64, op string) {
		reqs = append(reqs, benchReq{at: t0.Add(time.Duration(s * float64(time.Second))), op: op, http: true})
	}
	for _, s := range []float64{0, 1.1, 2.2} { // refresh 1
		at(s, "POST /v2/devices/api/get")
	}
	at(3, "POST /v2/devices/api/set/switch") // not a read
	for _, s := range []float64{13, 14.2, 15.3} {
		at(s, "POST /v2/devices/api/get")
	}
	for _, s := range []float64{26, 27.1} { // may still be running at the end
		at(s, "POST /v2/devices/api/get")
	}
	if got := v2Refreshes(reqs, t0.Add(28*time.Second)); !slices.Equal(got, []int{3, 3}) {
		t.Errorf("refreshes %v, want [3 3]", got)
	}
	if got := v2Refreshes(reqs, t0.Add(40*time.Second)); !slices.Equal(got, []int{3, 3, 2}) {
		t.Errorf("refreshes %v, want [3 3 2]", got)
	}
}

func TestSharesAndSplit(t *testing.T) {
	s := sharesFor(10000, "")
	total := s.ewelink + s.shelly + s.shellyV2 + 3*s.expeed + 7*s.ezviz
	if total != 10000 || s.shellyV2 != 50 || s.ewelink < 7000 {
		t.Errorf("shares %+v add up to %d", s, total)
	}
	if s := sharesFor(50, "shelly"); s.ewelink != 0 || s.expeed != 0 || s.ezviz != 0 || s.shelly+s.shellyV2 != 50 {
		t.Errorf("shelly only: %+v", s)
	}
	parts := splitN(2487, shellyPerAccount)
	sum := 0
	for _, p := range parts {
		sum += p
	}
	if slices.Max(parts) > shellyPerAccount || slices.Max(parts)-slices.Min(parts) > 1 {
		t.Errorf("unbalanced split %v", parts)
	}
	if sum != 2487 || len(parts) != 10 {
		t.Errorf("split %v", parts)
	}
	if splitN(0, 10) != nil {
		t.Error("split of nothing")
	}
}

func TestEwelinkDevicesUniqueAcrossAccounts(t *testing.T) {
	seen := map[string]bool{}
	for k := 0; k < 3; k++ {
		devs := ewelinkDevices(100, k)
		ids := map[string]bool{}
		for _, d := range devs {
			if seen[d.ID] {
				t.Fatalf("id %s in two accounts", d.ID)
			}
			seen[d.ID], ids[d.ID] = true, true
		}
		for _, d := range devs {
			if p, ok := d.Params["parentid"].(string); ok && !ids[p] {
				t.Errorf("account %d: %s points at gateway %s outside the account", k, d.ID, p)
			}
		}
	}
}

func TestCollectorSortsMessages(t *testing.T) {
	c := newCollector("b", "ha")
	now := time.Now()
	c.onMsg("ha/device/b_shelly_x/config", []byte("{}"), now)
	c.onMsg("ha/device/b_shelly_y/config", nil, now) // cleared: not a config
	c.onMsg("b/bridge/state", []byte("online"), now)
	c.onMsg("b/shelly/x/availability", []byte("online"), now)
	if !c.expect("shelly/x", now.Add(-time.Millisecond)) || c.expect("shelly/x", now) {
		t.Fatal("expect: one change in flight per device")
	}
	c.onMsg("b/shelly/x", []byte(`{"power":1}`), now)
	c.onMsg("b/baseline/0", []byte("xx"), now)
	if n, _ := c.configCount(); n != 1 || !c.hasConfig("b_shelly_x") {
		t.Errorf("configs %d", n)
	}
	if n, bytes, _ := c.stateStats(); n != 1 || bytes != 11 || !c.hasState("shelly/x") {
		t.Errorf("states %d (%d bytes)", n, bytes)
	}
	if n, _ := c.baselineStats(); n != 1 {
		t.Errorf("baseline %d", n)
	}
	if lat, lost := c.takeLatencies(); len(lat) != 1 || lost != 0 || lat[0].took != time.Millisecond || lat[0].device != "shelly/x" {
		t.Errorf("latencies %v, %d lost", lat, lost)
	}
	if n := len(c.topicList()); n != 6 {
		t.Errorf("%d topics to clear", n)
	}
}

// TestRawSubscriber: the bench's own subscriber receives what a paho
// client publishes, topics and payloads intact.
func TestRawSubscriber(t *testing.T) {
	url := bridgetest.BrokerURL(t)
	base, _ := bridgetest.Topics(t, url)
	got := make(chan string, 10)
	sub, err := dialSub(url, "c2m-test-"+bridgetest.RandomID(4), []string{base + "/#"}, func(topic string, p []byte, _ time.Time) {
		got <- topic + "=" + string(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c, err := newBarePaho(url, "c2m-test-pub-"+bridgetest.RandomID(4))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(100)
	big := strings.Repeat("x", 300) // a remaining length of two bytes
	for _, p := range []string{"a", big} {
		tok := c.Publish(base+"/t", 1, false, p)
		tok.WaitTimeout(5 * time.Second)
		if err := tok.Error(); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m != base+"/t="+p {
				t.Errorf("got %.40q", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("nothing received")
		}
	}
}

func TestMQTTAddr(t *testing.T) {
	addr, user, pass, err := mqttAddr("tcp://u:p@127.0.0.1")
	if err != nil || addr != "127.0.0.1:1883" || user != "u" || pass != "p" {
		t.Errorf("%q %q %q %v", addr, user, pass, err)
	}
	if _, _, _, err := mqttAddr("ssl://broker:8883"); err == nil {
		t.Error("ssl accepted")
	}
}

// TestMedianRatio: each round's bridge rate is divided by the baseline of the
// same round, so a machine that slows down between rounds moves both halves.
func TestMedianRatio(t *testing.T) {
	bridge := []float64{40, 80, 45, 90, 50}
	baseline := []float64{50, 100, 60, 100, 0}
	// rounds' ratios 0.8, 0.8, 0.75, 0.9 (the last has no baseline)
	if got := medianRatio(bridge, baseline); got != 0.8 {
		t.Errorf("medianRatio = %v, want 0.8", got)
	}
	if got := median(bridge) / median(baseline); got != 50.0/60 {
		t.Errorf("ratio of medians = %v, want %v", got, 50.0/60)
	}
	if got := medianRatio(nil, baseline); got != 0 {
		t.Errorf("no rounds: %v", got)
	}
}

func TestParseProcStat(t *testing.T) {
	cases := []struct {
		line string
		comm string
		cpu  time.Duration
		ok   bool
	}{
		{"83 (kdamond.0) I 2 0 0 0 -1 2129984 0 0 0 0 312 187 0 0 20 0 1 0 101750 0", "kdamond.0", 4990 * time.Millisecond, true},
		{"7 (a (b) c) S 1 7 7 0 -1 4194560 0 0 0 0 5 5 0", "a (b) c", 100 * time.Millisecond, true},
		{"7 (short) S 1 7", "", 0, false},
		{"7 (x) S 1 7 7 0 -1 0 0 0 0 0 NaN 5 0", "", 0, false},
		{"no parentheses", "", 0, false},
	}
	for _, c := range cases {
		comm, cpu, ok := parseProcStat(c.line)
		if comm != c.comm || cpu != c.cpu || ok != c.ok {
			t.Errorf("parseProcStat(%q) = %q, %v, %v; want %q, %v, %v", c.line, comm, cpu, ok, c.comm, c.cpu, c.ok)
		}
	}
}

func TestWriteLatencyLog(t *testing.T) {
	t0 := time.UnixMicro(1_000_000)
	path := filepath.Join(t.TempDir(), "lat.txt")
	err := writeLatencyLog(path, []latencySample{
		{t0.Add(2 * time.Millisecond), 300 * time.Microsecond, "ewelink/b"},
		{t0, 4500 * time.Microsecond, "shelly/a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# sent_unix_us latency_us device\n1000000 4500 shelly/a\n1002000 300 ewelink/b\n"
	if string(b) != want {
		t.Errorf("log:\n%s\nwant:\n%s", b, want)
	}
}
