package main

import (
	"encoding/json"
	"fmt"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/discovery"
)

// buildBinary compiles this command once per test into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to build the binary")
	}
	bin := filepath.Join(t.TempDir(), "cloud2mqtt")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// bridgeChild is the demo running as a separate process.
type bridgeChild struct {
	cmd  *exec.Cmd
	logs *vendortest.LogBuffer
	done chan struct{}
}

func startBridgeChild(t *testing.T, bin string, args ...string) *bridgeChild {
	t.Helper()
	c := &bridgeChild{cmd: exec.Command(bin, args...), logs: &vendortest.LogBuffer{}, done: make(chan struct{})}
	c.cmd.Stdout = c.logs
	c.cmd.Stderr = c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill(syscall.SIGKILL) })
	return c
}

func (c *bridgeChild) kill(sig syscall.Signal) {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	<-c.done
}

// settleRetained waits until the broker holds a bridge online with a device
// list, a state, availability and config for every listed device, and that
// list has stopped changing; it returns the retained picture.
func settleRetained(t *testing.T, url string, dcfg discovery.Config, logs *vendortest.LogBuffer, vendors ...string) map[string][]byte {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last, stable := "", 0
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the bridge did not settle within 90s (vendors %v); output:\n%s", vendors, faultTail(logs.String(), 6000))
		}
		got := bridgetest.RetainedUnder(t, url, dcfg.BaseTopic+"/#")
		for k, v := range bridgetest.RetainedUnder(t, url, dcfg.Prefix+"/#") {
			got[k] = v
		}
		ids, err := deviceIDs(got[dcfg.BridgeTopic("devices")])
		ok := err == nil && len(ids) > 0 && string(got[dcfg.BridgeTopic("state")]) == "online"
		for _, id := range ids {
			vendor, vid, _ := strings.Cut(id, "/")
			for _, topic := range []string{dcfg.DeviceTopic(vendor, vid), dcfg.AvailabilityTopic(vendor, vid), dcfg.ConfigTopic(vendor, vid)} {
				if _, have := got[topic]; !have {
					ok = false
				}
			}
		}
		for _, v := range vendors {
			if !strings.Contains(","+strings.Join(ids, ",")+",", ","+v+"/") {
				ok = false
			}
		}
		key := strings.Join(ids, ",")
		if ok && key == last {
			stable++
			if stable == 4 {
				return got
			}
		} else {
			stable = 0
		}
		last = key
		time.Sleep(time.Second)
	}
}

// TestFaultBridgeKilled runs the bridge binary (`run --config`) as a child
// process against the demo's simulators living in the test, kills it with
// SIGKILL and checks the broker published the last will (bridge/state
// offline); then starts it again on the same state directory without the
// EZVIZ account: the picture comes back from the stored state (tokens kept
// with mode 0600, every state file valid JSON), and the removed account's configs
// are cleared — no duplicate or stale discovery config is left.
func TestFaultBridgeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	url := bridgetest.BrokerURL(t)
	base, prefix := bridgetest.Topics(t, url)
	stateDir := t.TempDir()
	dcfg := discovery.Config{BaseTopic: base, Prefix: prefix}
	listen := fmt.Sprintf("127.0.0.1:%d", faultPort(t))
	bridgeURL := "http://" + listen

	accounts := map[string][]string{}
	var order []string
	for _, s := range demoSims {
		acc, stop, err := s.start(3, bridgeURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		if _, seen := accounts[s.vendor]; !seen {
			order = append(order, s.vendor)
		}
		accounts[s.vendor] = append(accounts[s.vendor], acc)
	}
	writeConfig := func(vendors ...string) string {
		path := filepath.Join(t.TempDir(), "config.yaml")
		yml := demoConfig(url, base, prefix, listen, bridgeURL, stateDir, "info", vendors, accounts)
		if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	args := func(vendors ...string) []string { return []string{"run", "--config", writeConfig(vendors...)} }
	states := bridgetest.Subscribe(t, url, dcfg.BridgeTopic("state"))

	first := startBridgeChild(t, bin, args(order...)...)
	before := settleRetained(t, url, dcfg, first.logs, "ewelink", "expeed", "ezviz", "shelly")
	beforeIDs, _ := deviceIDs(before[dcfg.BridgeTopic("devices")])
	var ezviz int
	for _, id := range beforeIDs {
		if strings.HasPrefix(id, "ezviz/") {
			ezviz++
		}
	}
	if ezviz == 0 {
		t.Fatalf("no ezviz device in the first run: %v", beforeIDs)
	}
	states.Reset()
	first.kill(syscall.SIGKILL)
	states.WaitPayload(dcfg.BridgeTopic("state"), "offline", 30*time.Second)
	if p, _ := bridgetest.Retained(t, url, dcfg.BridgeTopic("state")); string(p) != "offline" {
		t.Errorf("retained bridge/state after SIGKILL = %q, want offline (the last will)", p)
	}

	files := stateFiles(t, stateDir)
	if len(files) == 0 {
		t.Errorf("no state file written in %s by the first run", stateDir)
	}
	for name, mode := range files {
		if mode.Perm() != 0o600 {
			t.Errorf("state file %s has mode %v, want 0600", name, mode.Perm())
		}
		if strings.Contains(name, ".tmp") {
			// A write the kill interrupted; the real file is old or new.
			t.Logf("SIGKILL left the temporary file %s", name)
			continue
		}
		b, err := os.ReadFile(filepath.Join(stateDir, name))
		if err != nil || !json.Valid(b) {
			t.Errorf("state file %s is not valid JSON after SIGKILL (%v): %.200s", name, err, b)
		}
	}

	var without []string
	for _, v := range order {
		if v != "ezviz" {
			without = append(without, v)
		}
	}
	second := startBridgeChild(t, bin, args(without...)...)
	after := settleRetained(t, url, dcfg, second.logs, "ewelink", "expeed", "shelly")
	afterIDs, _ := deviceIDs(after[dcfg.BridgeTopic("devices")])
	if len(afterIDs) != len(beforeIDs)-ezviz {
		t.Errorf("second run has %d devices, want %d (the first run's without ezviz)", len(afterIDs), len(beforeIDs)-ezviz)
	}
	// The sweep runs once every account has reported; give it that long.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := bridgetest.RetainedUnder(t, url, prefix+"/#")
		want := map[string]bool{dcfg.BridgeConfigTopic(): true}
		for _, id := range afterIDs {
			vendor, vid, _ := strings.Cut(id, "/")
			want[dcfg.ConfigTopic(vendor, vid)] = true
		}
		var extra, missing []string
		for topic := range got {
			if strings.HasSuffix(topic, "/config") && !want[topic] {
				extra = append(extra, topic)
			}
		}
		for topic := range want {
			if _, ok := got[topic]; !ok {
				missing = append(missing, topic)
			}
		}
		if len(extra) == 0 && len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: stale configs %v, missing configs %v", extra, missing)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// A clean stop publishes offline too.
	states.Reset()
	second.kill(syscall.SIGTERM)
	states.WaitPayload(dcfg.BridgeTopic("state"), "offline", 30*time.Second)
	if out := second.logs.String(); strings.Contains(out, `"level":"error"`) || strings.Contains(out, "panic") {
		t.Errorf("errors logged by the restarted bridge:\n%s", faultTail(out, 4000))
	}
}

// stateFiles lists the files in dir with their modes.
func stateFiles(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	out := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[strings.TrimPrefix(p, dir+string(os.PathSeparator))] = info.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
