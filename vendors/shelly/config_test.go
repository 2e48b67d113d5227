package shelly

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func TestSampleConfigDecodesAndPassesTheFactory(t *testing.T) {
	reg, ok := vendors.Lookup("shelly")
	if !ok {
		t.Fatal("shelly is not registered")
	}
	var entries []yaml.Node
	if err := yaml.Unmarshal([]byte(reg.Sample), &entries); err != nil {
		t.Fatalf("sample is not a YAML list: %v", err)
	}
	if len(entries) != 2 {
		t.Fatalf("sample has %d entries, want one per account type", len(entries))
	}
	kinds := map[string]bool{}
	for i, n := range entries {
		n := n
		a, err := reg.Factory(vendors.Env{Account: "sample"}, func(v any) error {
			b, _ := yaml.Marshal(&n)
			return strictYAML(string(b))(v)
		})
		if err != nil {
			t.Fatalf("sample entry %d refused: %v", i, err)
		}
		switch a.(type) {
		case *integrator:
			kinds["integrator"] = true
		case *cloud:
			kinds["cloud"] = true
		}
	}
	if !kinds["integrator"] || !kinds["cloud"] {
		t.Errorf("sample covers %v, want both account types", kinds)
	}
	for _, line := range strings.Split(reg.Sample, "\n") {
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, "- b48a") || strings.HasPrefix(trim, "- name:") {
			continue
		}
		if strings.Contains(trim, ":") && !strings.Contains(trim, "#") {
			t.Errorf("sample key without a comment: %q", trim)
		}
	}
}

func TestAccountTypeComesFromTheKeys(t *testing.T) {
	build := func(cfg string) (vendors.Adapter, error) {
		return New(vendors.Env{Account: "x"}, strictYAML(cfg))
	}
	if a, err := build("tag: T\ntoken: s3cret\n"); err != nil {
		t.Fatal(err)
	} else if _, ok := a.(*integrator); !ok {
		t.Errorf("tag+token built %T", a)
	}
	if a, err := build("server: shelly-42-eu.shelly.cloud\nauth_key: k3y\ndevices: [b48a0a1cd978]\n"); err != nil {
		t.Fatal(err)
	} else if _, ok := a.(*cloud); !ok {
		t.Errorf("server+auth_key built %T", a)
	}
	for name, cfg := range map[string]string{
		"both":            "tag: T\ntoken: s\nserver: h.example\nauth_key: k\ndevices: [b48a0a1cd978]\n",
		"neither":         "name: empty\n",
		"tag only":        "tag: T\n",
		"key only":        "auth_key: k\ndevices: [b48a0a1cd978]\n",
		"no devices":      "server: h.example\nauth_key: k\n",
		"bad device":      "server: h.example\nauth_key: k\ndevices: [not-an-id]\n",
		"twice":           "server: h.example\nauth_key: k\ndevices: [b48a0a1cd978, B48A0A1CD978]\n",
		"too fast":        "server: h.example\nauth_key: k\ndevices: [b48a0a1cd978]\nrequest_interval: 500ms\n",
		"mixed keys":      "tag: T\ntoken: s\npoll_interval: 5s\n",
		"mixed keys 2":    "server: h.example\nauth_key: k\ndevices: [b48a0a1cd978]\nws_port: 1\n",
		"bad pem":         "tag: T\ntoken: s\nconsent_public_key: nope\n",
		"bad scheme":      "tag: T\ntoken: s\nws_scheme: http\n",
		"bad path":        "tag: T\ntoken: s\nconsent_path: relative\n",
		"unknown key":     "tag: T\ntoken: s\nno_such_key: 1\n",
		"negative":        "tag: T\ntoken: s\ncommand_timeout: -1s\n",
		"backoff order":   "tag: T\ntoken: s\nbackoff_base: 10s\nbackoff_max: 1s\n",
		"server w/ query": "server: https://h.example/?a=1\nauth_key: k\ndevices: [b48a0a1cd978]\n",
	} {
		if _, err := build(cfg); err == nil {
			t.Errorf("%s: config accepted:\n%s", name, cfg)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	a, err := New(vendors.Env{Account: "home office", PublicURL: "https://bridge.example"}, strictYAML("tag: ITG\ntoken: s\n"))
	if err != nil {
		t.Fatal(err)
	}
	i := a.(*integrator)
	if i.cfg.ConsentPath != "/shelly/home_office/consent" {
		t.Errorf("consent path %q", i.cfg.ConsentPath)
	}
	want := "https://my.shelly.cloud/integrator.html?itg=ITG&cb=https%3A%2F%2Fbridge.example%2Fshelly%2Fhome_office%2Fconsent"
	if got := i.consentURL(); got != want {
		t.Errorf("consent URL %s, want %s", got, want)
	}
	if i.cfg.WSScheme != "wss" || i.cfg.WSPort != 6113 || i.cfg.APIURL != "https://api.shelly.cloud" {
		t.Errorf("defaults %s %d %s", i.cfg.WSScheme, i.cfg.WSPort, i.cfg.APIURL)
	}
	if i.trustKey == nil || i.trustKey.X.Cmp(mustKey(t, shellyPublicKey).X) != 0 {
		t.Error("the default SCL-Trust key is not Shelly's")
	}
	c, err := New(vendors.Env{}, strictYAML("server: https://Shelly-42-EU.shelly.cloud/\nauth_key: k\ndevices: [B48A0A1CD978]\n"))
	if err != nil {
		t.Fatal(err)
	}
	cc := c.(*cloud)
	if cc.cfg.Server != "https://shelly-42-eu.shelly.cloud" || cc.cfg.Devices[0] != "b48a0a1cd978" {
		t.Errorf("server %q devices %v", cc.cfg.Server, cc.cfg.Devices)
	}
}

func TestSecretsAreRegisteredForRedaction(t *testing.T) {
	var got []string
	_, err := New(vendors.Env{Redact: func(s ...string) { got = append(got, s...) }}, strictYAML("server: h.example\nauth_key: the-key\ndevices: [b48a0a1cd978]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(got, " "), "the-key") {
		t.Errorf("auth_key not registered for redaction: %v", got)
	}
}
