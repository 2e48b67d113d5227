package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretFileTopLevel(t *testing.T) {
	dir := t.TempDir()
	pw := writeFile(t, dir, "pw", "file-secret\r\n\n")
	ca := writeFile(t, dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n")
	src := fmt.Sprintf("mqtt:\n  url: ssl://h:8883\n  username: u\n  password_file: %s\n  ca_file: %s\n", pw, ca)
	cfg := mustParse(t, src, noEnv)
	if cfg.MQTT.Password.Reveal() != "file-secret" {
		t.Errorf("password %q", cfg.MQTT.Password.Reveal())
	}
	if cfg.MQTT.CAFile != ca { // ca_file is a field of its own: a path, not read
		t.Errorf("ca_file %q", cfg.MQTT.CAFile)
	}

	// The path may come from the environment; empty means unset.
	cfg = mustParse(t, "mqtt:\n  username: u\n  password: inline\n  password_file: ${PW_FILE:-}\n", noEnv)
	if cfg.MQTT.Password.Reveal() != "inline" {
		t.Errorf("empty password_file: password %q", cfg.MQTT.Password.Reveal())
	}
	cfg = mustParse(t, "mqtt:\n  username: u\n  password: ${PW:-}\n  password_file: ${PW_FILE}\n", env(map[string]string{"PW_FILE": pw}))
	if cfg.MQTT.Password.Reveal() != "file-secret" {
		t.Errorf("empty password + file: password %q", cfg.MQTT.Password.Reveal())
	}
}

func TestAccountDecode(t *testing.T) {
	dir := t.TempDir()
	tok := writeFile(t, dir, "token", "tok-from-file\n")
	src := fmt.Sprintf(`log:
  level: info
vendors:
  testvendor:
    - name: home
      token_file: %s
      interval: 90s
      port: 8443
      cert_file: /etc/client.pem
      nested:
        host: api.example.com
        key: nested-key
      tags: [a, b]
    - name: office
      token: inline-token
`, tok)
	cfg := mustParse(t, src, noEnv)
	if len(cfg.Accounts) != 2 {
		t.Fatalf("accounts: %+v", cfg.Accounts)
	}
	home := cfg.Accounts[0]
	if home.Vendor != "testvendor" || home.Name != "home" || home.Line != 5 || home.Path() != "vendors.testvendor[home]" {
		t.Errorf("account %+v path %s", home, home.Path())
	}
	for i := 0; i < 2; i++ { // repeatable: the *_file rewrite works on a copy
		var a fakeAccount
		if err := home.Decode(&a); err != nil {
			t.Fatal(err)
		}
		if a.Name != "home" || a.Token != "tok-from-file" || a.Interval != 90*time.Second || a.Port != 8443 ||
			a.CertFile != "/etc/client.pem" || a.Nested.Host != "api.example.com" || a.Nested.Key != "nested-key" ||
			strings.Join(a.Tags, ",") != "a,b" {
			t.Errorf("decoded %+v", a)
		}
	}
	// Concurrent decodes (adapters start in parallel).
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var a fakeAccount
			if err := home.Decode(&a); err != nil || a.Token != "tok-from-file" {
				t.Errorf("concurrent decode: %v %q", err, a.Token)
			}
		}()
	}
	wg.Wait()

	// Through a registered factory, as the CLI does.
	reg, _ := vendors.Lookup("testvendor")
	ad, err := reg.Factory(vendors.Env{}, cfg.Accounts[1].Decode)
	if err != nil || ad.(fakeAdapter).cfg.Token != "inline-token" {
		t.Errorf("factory: %v %+v", err, ad)
	}

	if err := home.Decode(fakeAccount{}); err == nil {
		t.Error("non-pointer accepted")
	}
	if err := (Account{}).Decode(&fakeAccount{}); err == nil {
		t.Error("account without node accepted")
	}
}

func TestAccountDecodeErrors(t *testing.T) {
	dir := t.TempDir()
	src := `mqtt:
  url: tcp://h:1
vendors:
  testother:
    - name: other
  testvendor:
    - name: home
      token: t
      interval: soon
      port: many
      nested:
        host: h
        hots: typo
      tokn: typo
      token_file: /nonexistent/token
      cert_file_file: /x
    - name: office
      token: inline
      token_file: ` + writeFile(t, dir, "t", "x") + `
`
	cfg := mustParse(t, src, noEnv)
	var a fakeAccount
	err := cfg.Accounts[1].Decode(&a)
	es := errList(t, err)
	want := []struct {
		needle, msg string
	}{
		{"interval: soon", "vendors.testvendor[home].interval: want a duration such as 30s or 5m, got a string"},
		{"port: many", "vendors.testvendor[home].port: want a whole number, got a string"},
		{"hots", `unknown key "hots" in vendors.testvendor[home].nested (known: host, key)`},
		{"tokn", `unknown key "tokn" in vendors.testvendor[home] (known: cert_file, interval, name, nested, port, tags, token)`},
		{"token_file", "vendors.testvendor[home].token and token_file are both set; keep one"},
		{"cert_file_file", "vendors.testvendor[home].cert_file_file: cannot read secret file: open /x"}, // any foo_file works
	}
	if len(es) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(es), len(want), err)
	}
	for i, w := range want {
		line := lineOf(t, src, w.needle)
		if i >= len(es) || es[i].Line != line || es[i].Source != "c.yaml" || !strings.Contains(es[i].Msg, w.msg) {
			t.Errorf("error %d: want c.yaml:%d: …%s, got:\n%v", i, line, w.msg, err)
		}
	}
	if strings.Contains(err.Error(), "soon") || strings.Contains(err.Error(), "many") {
		t.Errorf("values echoed: %v", err)
	}
	err = cfg.Accounts[2].Decode(&a)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("c.yaml:%d: vendors.testvendor[office].token and token_file are both set", lineOf(t, src, "token_file: "+dir))) {
		t.Errorf("office: %v", err)
	}
}

// The "both set" check above hides the missing token file; alone it is
// reported with its line.
func TestAccountSecretFileMissing(t *testing.T) {
	src := "vendors:\n  testvendor:\n    - name: home\n      token_file: /nonexistent/token\n"
	cfg := mustParse(t, src, noEnv)
	err := cfg.Accounts[0].Decode(&fakeAccount{})
	if err == nil || !strings.Contains(err.Error(), "c.yaml:4: vendors.testvendor[home].token_file: cannot read secret file: open /nonexistent/token") {
		t.Errorf("err %v", err)
	}
}

// Anchors and merge keys inside accounts are checked key by key too.
func TestAccountMergeKeys(t *testing.T) {
	src := `vendors:
  testvendor:
    - &base
      name: home
      interval: 10s
    - <<: *base
      name: office
      port: 1
    - <<: *base
      name: lab
      bogus: 1
`
	cfg := mustParse(t, src, noEnv)
	var a fakeAccount
	if err := cfg.Accounts[1].Decode(&a); err != nil || a.Interval != 10*time.Second || a.Name != "office" || a.Port != 1 {
		t.Errorf("merge: %v %+v", err, a)
	}
	err := cfg.Accounts[2].Decode(&fakeAccount{})
	if err == nil || !strings.Contains(err.Error(), `c.yaml:11: unknown key "bogus"`) {
		t.Errorf("merge with unknown key: %v", err)
	}
}
