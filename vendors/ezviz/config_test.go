package ezviz

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// TestSampleConfig: the documented sample decodes strictly and passes the
// factory, as sample-config promises.
func TestSampleConfig(t *testing.T) {
	var items []yaml.Node
	if err := yaml.Unmarshal([]byte(sampleYAML), &items); err != nil {
		t.Fatalf("sample is not a YAML list: %v", err)
	}
	if len(items) == 0 {
		t.Fatal("sample has no entry")
	}
	for _, line := range strings.Split(strings.TrimSpace(sampleYAML), "\n") {
		if !strings.Contains(line, "#") {
			t.Errorf("sample line without a comment: %q", line)
		}
	}
	for i := range items {
		decode := func(v any) error {
			b, err := yaml.Marshal(&items[i])
			if err != nil {
				return err
			}
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			dec.KnownFields(true)
			return dec.Decode(v)
		}
		a, err := New(vendors.Env{PublicURL: "https://bridge.example"}, decode)
		if err != nil {
			t.Fatalf("sample entry %d: %v", i, err)
		}
		if a.(*Adapter).cfg.PollInterval.Seconds() != 30 {
			t.Errorf("sample poll_interval %s", a.(*Adapter).cfg.PollInterval)
		}
	}
	if len(regions) != 8 {
		t.Errorf("%d regions", len(regions))
	}
}

// TestConfigErrors: every problem is reported at once.
func TestConfigErrors(t *testing.T) {
	cfg := `name: x
app_key: ""
region: mars
mode: borrowed
snapshot_interval: 1s
ptz_presets: -1
api_url: "ftp://x"
rate_burst: 0
`
	_, err := New(vendors.Env{}, func(v any) error { return yaml.Unmarshal([]byte(cfg), v) })
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"app_key", "app_secret", "region", "mode", "snapshot_interval", "ptz_presets", "api_url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "rate_burst") {
		t.Errorf("rate_burst 0 takes the default: %v", err)
	}
}

// TestAcceptableArea: the token only goes to EZVIZ hosts unless api_url was
// set by hand.
func TestAcceptableArea(t *testing.T) {
	c := &config{Region: "global"}
	for u, want := range map[string]bool{
		"https://iusopen.ezvizlife.com":      true,
		"https://open.ys7.com":               true,
		"http://iusopen.ezvizlife.com":       false,
		"https://evil.example":               false,
		"https://ezvizlife.com.evil.example": false,
		"https://user@iusopen.ezvizlife.com": false,
	} {
		if got := c.acceptableArea(u); got != want {
			t.Errorf("%s: %v", u, got)
		}
	}
	c.APIURL = "http://127.0.0.1:1"
	if !c.acceptableArea("http://127.0.0.1:2") {
		t.Error("custom api_url: area refused")
	}
}

// TestCodeMapping: EZVIZ codes become the bridge's result codes.
func TestCodeMapping(t *testing.T) {
	for code, want := range map[string]string{
		"20007": vendors.CodeOffline, "2003": vendors.CodeOffline,
		"20008": vendors.CodeNoResponse, "60020": vendors.CodeNotSupported,
		"10001": vendors.CodeInvalidValue, "60058": vendors.CodeForbidden,
		"10030": vendors.CodeAuth, "60017": vendors.CodeCloud, "20002": vendors.CodeUnknownDevice,
		"50000": vendors.CodeUnavailable, "60004": vendors.CodeOutOfRange,
	} {
		if got := vendors.Code(coded(&apiError{Op: "x", Code: code})); got != want {
			t.Errorf("%s → %s, want %s", code, got, want)
		}
	}
	for _, code := range []string{"10029", "10007", "110029"} {
		if !isRateCode(code) {
			t.Errorf("%s is a rate code", code)
		}
	}
	e := &apiError{Op: "capture", Code: "60017", Msg: strings.Repeat("长", 200)}
	if n := len([]rune(e.Error())); n > 120 {
		t.Errorf("error text not truncated: %d runes", n)
	}
}

func TestSDState(t *testing.T) {
	for in, want := range map[string]string{"0---": "ok", "": "none", "----": "none", "01": "error", "2-": "unformatted", "03": "formatting"} {
		if got := sdState(in); got != want {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}

// TestPollDefaults: status and alarms are polled every 30 s unless
// configured, motion holds 60 s, snapshots are on demand (issue #5).
func TestPollDefaults(t *testing.T) {
	a, err := New(vendors.Env{}, func(v any) error {
		return yaml.Unmarshal([]byte("name: x\napp_key: k\napp_secret: s\n"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := a.(*Adapter).cfg
	if c.PollInterval.String() != "30s" || c.StatusInterval.String() != "30s" || c.MotionHold.String() != "1m0s" || c.SnapshotInterval != 0 {
		t.Errorf("defaults: alarms %s, status %s, motion hold %s, snapshots %s", c.PollInterval, c.StatusInterval, c.MotionHold, c.SnapshotInterval)
	}
	a, err = New(vendors.Env{}, func(v any) error {
		return yaml.Unmarshal([]byte("name: x\napp_key: k\napp_secret: s\npoll_interval: 45s\nstatus_interval: 5m\n"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := a.(*Adapter).cfg; c.PollInterval.String() != "45s" || c.StatusInterval.String() != "5m0s" {
		t.Errorf("configured intervals not kept: %s %s", c.PollInterval, c.StatusInterval)
	}
}
