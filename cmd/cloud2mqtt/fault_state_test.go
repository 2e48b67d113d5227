package main

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
)

// stateDoc is a state document that proves its own integrity.
type stateDoc struct {
	Seq  int    `json:"seq"`
	Data string `json:"data"`
	Sum  string `json:"sum"`
}

func stateSum(seq int, data string) string {
	h := sha256.Sum256([]byte(string(rune(seq)) + data))
	return hex.EncodeToString(h[:])
}

const envStateWriter = "CLOUD2MQTT_TEST_STATE_WRITER"

// TestFaultStateWriterChild is the process TestFaultStateKilledDuringWrites
// kills: it saves state documents through the bridge's store as fast as it
// can, forever. It does nothing in a normal run.
func TestFaultStateWriterChild(t *testing.T) {
	dir := os.Getenv(envStateWriter)
	if dir == "" {
		t.Skip("run by TestFaultStateKilledDuringWrites")
	}
	cfg := &config.Config{StateDir: dir}
	store := cfg.Store().Scoped("ewelink-home")
	data := strings.Repeat("0123456789abcdef", 8<<10) // 128 KiB: kills land mid-write
	var prev stateDoc
	if _, err := store.Load("tokens", &prev); err != nil {
		t.Fatal(err)
	}
	for seq := prev.Seq + 1; ; seq++ {
		d := data[:len(data)-seq%1000]
		if err := store.Save("tokens", stateDoc{Seq: seq, Data: d, Sum: stateSum(seq, d)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFaultStateKilledDuringWrites kills a process writing state files
// through the bridge's store (the one every adapter's tokens, grants and
// quota counters go through) with SIGKILL at random moments,
// CLOUD2MQTT_FAULT_STATE_KILLS times (default 30): after every kill the state
// file is a complete document, old or new, with mode 0600.
func TestFaultStateKilledDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	kills := faultEnvInt(t, "CLOUD2MQTT_FAULT_STATE_KILLS", 30)
	dir := t.TempDir()
	cfg := &config.Config{StateDir: dir}
	store := cfg.Store().Scoped("ewelink-home")
	lastSeq, temps := 0, 0
	for i := 0; i < kills; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultStateWriterChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envStateWriter+"="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Once it has saved at least once, kill it at a random moment.
		for start := time.Now(); ; {
			var d stateDoc
			if ok, _ := store.Load("tokens", &d); ok && d.Seq > lastSeq {
				break
			}
			if time.Since(start) > 30*time.Second {
				_ = cmd.Process.Kill()
				t.Fatal("the writer saved nothing within 30s")
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(50)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()

		var d stateDoc
		ok, err := store.Load("tokens", &d)
		if err != nil {
			t.Fatalf("kill %d: state unreadable: %v", i+1, err)
		}
		if !ok {
			t.Fatalf("kill %d: the state file is gone", i+1)
		}
		if d.Sum != stateSum(d.Seq, d.Data) {
			t.Fatalf("kill %d: torn state: seq %d, %d bytes of data, checksum mismatch", i+1, d.Seq, len(d.Data))
		}
		if d.Seq <= lastSeq {
			t.Fatalf("kill %d: state went back from seq %d to %d", i+1, lastSeq, d.Seq)
		}
		lastSeq = d.Seq
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("kill %d: %s has mode %v, want 0600", i+1, e.Name(), info.Mode().Perm())
			}
			if strings.Contains(e.Name(), ".tmp") {
				temps++
				// A restart would find it; it must never be taken for state.
				_ = os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	if lastSeq == 0 {
		t.Fatal("the writer never saved a document")
	}
	t.Logf("%d kills: state always whole (last seq %d); %d kills interrupted a write and left its temporary file", kills, lastSeq, temps)
}
