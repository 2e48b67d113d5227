package discovery

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// checkGolden compares payload with testdata/<name>.golden.json (pretty for
// review; compared as JSON values) and checks that rendering again gives the
// same bytes.
func checkGolden(t *testing.T, name string, render func() ([]byte, error)) {
	t.Helper()
	got, err := render()
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	again, err := render()
	if err != nil || !bytes.Equal(got, again) {
		t.Fatalf("not deterministic:\n%s\n%s", got, again)
	}
	if !json.Valid(got) || bytes.ContainsAny(got, "\n\t") {
		t.Fatalf("payload is not compact JSON: %s", got)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./discovery -run Golden -update)", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	if !reflect.DeepEqual(g, w) {
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, got, "", "  ")
		t.Errorf("%s differs from golden; got:\n%s", path, pretty.String())
	}
}

func TestGoldenDevices(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(f.name, func(t *testing.T) {
			checkGolden(t, f.name, func() ([]byte, error) {
				d := f.device
				return testConfig.DevicePayload(f.vendor, &d, f.override)
			})
		})
	}
}

func TestGoldenBridge(t *testing.T) {
	checkGolden(t, "bridge", func() ([]byte, error) { return testConfig.BridgePayload(bridgeAccounts) })
	other := Config{BaseTopic: "c2m/eu", Prefix: "ha", Version: "1.2.3"}
	checkGolden(t, "bridge_other_base", func() ([]byte, error) { return other.BridgePayload(bridgeAccounts[:1]) })
}
