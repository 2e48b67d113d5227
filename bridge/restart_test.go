package bridge

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
)

// mosquitto is a private Mosquitto the test can stop and start again.
type mosquitto struct {
	t    *testing.T
	bin  string
	conf string
	port int
	cmd  *exec.Cmd
}

func startMosquitto(t *testing.T) *mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		t.Skip("mosquitto not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	// Mosquitto started as root drops to user mosquitto, who cannot write
	// the test's directory; "user" keeps the current user.
	me := "mosquitto"
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	body := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\nuser %s\npersistence true\npersistence_location %s/\nautosave_interval 0\n", port, me, dir)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &mosquitto{t: t, bin: bin, conf: conf, port: port}
	m.start()
	t.Cleanup(func() { m.stop(syscall.SIGKILL) })
	return m
}

func (m *mosquitto) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", m.port) }

func (m *mosquitto) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mosquitto did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the broker: SIGTERM saves its state, SIGKILL loses what is not saved.
func (m *mosquitto) stop(sig syscall.Signal) {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(sig)
	_ = m.cmd.Wait()
	m.cmd = nil
}

// TestBrokerRestarts restarts the broker under the bridge: each time the
// bridge reconnects and every retained topic is back; a QoS 1 command sent
// before the bridge is back (the broker kept its session) runs once.
func TestBrokerRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a broker")
	}
	mq := startMosquitto(t)
	h := &harness{t: t, url: mq.url(), connURL: mq.url(), clientID: "c2mtest-bridge-" + bridgetest.RandomID(6)}
	base, prefix := bridgetest.Topics(t, h.url)
	h.cfg = discovery.Config{BaseTopic: base, Prefix: prefix, Version: "test"}
	f := newFake(plug("p1"), plug("p2"))
	h.add("fake", "home", f)
	h.start(nil)
	s := f.Sink(t)
	for _, id := range []string{"p1", "p2"} {
		s.Update(id, map[string]any{"switch": "OFF", "power": 3})
		s.Availability(id, true)
	}
	retained := []string{
		h.cfg.BridgeTopic("state"), h.cfg.BridgeConfigTopic(),
		h.cfg.ConfigTopic("fake", "p1"), h.cfg.ConfigTopic("fake", "p2"),
		h.topic("fake", "p1"), h.topic("fake", "p2"),
		h.topic("fake", "p1", "availability"), h.topic("fake", "p2", "availability"),
	}
	allBack := func(what string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := bridgetest.RetainedUnder(t, h.url, base+"/#")
			for k, v := range bridgetest.RetainedUnder(t, h.url, prefix+"/#") {
				got[k] = v
			}
			missing := ""
			for _, topic := range retained {
				if _, ok := got[topic]; !ok {
					missing = topic
				}
			}
			if missing == "" && string(got[h.cfg.BridgeTopic("state")]) == "online" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s not back within 5s", what, missing)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	allBack("start")

	for i := 0; i < 3; i++ {
		// Lost: a broker killed without saving forgets every retained message.
		if err := os.RemoveAll(filepath.Join(filepath.Dir(mq.conf), "mosquitto.db")); err != nil {
			t.Fatal(err)
		}
		mq.stop(syscall.SIGKILL)
		_ = os.Remove(filepath.Join(filepath.Dir(mq.conf), "mosquitto.db"))
		mq.start()
		allBack(fmt.Sprintf("restart %d", i+1))
	}

	// Saved: the session survives; a command sent before the bridge is back
	// is delivered to it once.
	mq.stop(syscall.SIGTERM)
	mq.start()
	bridgetest.Publish(t, h.url, h.cfg.SetTopic("fake", "p1", "switch"), 1, false, []byte("ON"))
	allBack("graceful restart")
	eventually(t, func() bool { return len(f.Execs()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if ex := f.Execs(); len(ex) != 1 || ex[0].Value != true {
		t.Fatalf("execs %v", ex)
	}
}
