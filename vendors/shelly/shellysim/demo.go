package shellysim

import (
	"fmt"
	"strings"
	"time"
)

// IntegratorConfig is the YAML mapping of an Integrator API account entry
// pointing at this simulator (consent callbacks verified with its test key).
func (s *Sim) IntegratorConfig(name string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", name)
	fmt.Fprintf(&b, "tag: %s\n", s.opt.Tag)
	fmt.Fprintf(&b, "token: %q\n", s.opt.Token)
	fmt.Fprintf(&b, "api_url: %s\n", s.URL())
	fmt.Fprintf(&b, "ws_scheme: ws\n")
	fmt.Fprintf(&b, "ws_port: %d\n", s.Port())
	fmt.Fprintf(&b, "consent_path: /shelly/%s/consent\n", name)
	b.WriteString("consent_public_key: |\n")
	for _, line := range strings.Split(strings.TrimSpace(s.PublicKeyPEM()), "\n") {
		b.WriteString("  " + line + "\n")
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// CloudConfig is the YAML mapping of a Cloud Control API v2 account entry
// pointing at this simulator, listing every device.
func (s *Sim) CloudConfig(name string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", name)
	fmt.Fprintf(&b, "server: %s\n", s.URL())
	fmt.Fprintf(&b, "auth_key: %q\n", s.opt.AuthKey)
	b.WriteString("devices:\n")
	for _, d := range s.Devices() {
		fmt.Fprintf(&b, "  - %s\n", d.ID)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// StartDemo runs the simulated Integrator API with the fixtures (scaled to
// about devices), values drifting every few seconds, and consent callbacks
// sent to the bridge at bridgeURL until it accepts them. It returns the
// integrator account entry; see StartDemoCloud for the v2 account.
func StartDemo(devices int, bridgeURL string) (config string, stop func(), err error) {
	s, err := New(Options{Devices: devices, Drift: 3 * time.Second, Tag: "ITG_DEMO"})
	if err != nil {
		return "", nil, err
	}
	s.ConsentAll(strings.TrimRight(bridgeURL, "/")+"/shelly/demo/consent", "add")
	return s.IntegratorConfig("demo"), s.Close, nil
}

// StartDemoCloud runs the simulated Cloud Control API v2 with its own
// fixtures (other ids than StartDemo's) and returns the account entry.
func StartDemoCloud(devices int) (config string, stop func(), err error) {
	s, err := New(Options{Devices: devices, Drift: 3 * time.Second, IDSeed: 0x5c})
	if err != nil {
		return "", nil, err
	}
	n := max(devices, len(fixtureSet))
	poll := time.Duration((n+9)/10) * 1100 * time.Millisecond
	poll = max(poll+time.Second, 5*time.Second)
	return s.CloudConfig("demo_cloud", "poll_interval: "+poll.String()), s.Close, nil
}
