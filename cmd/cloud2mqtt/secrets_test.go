package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendortest"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/bridge/bridgetest"
	"github.com/cloud2mqtt/cloud2mqtt/bridge/config"
	"github.com/cloud2mqtt/cloud2mqtt/vendors/vendorkit"
)

// secretKeys are the account settings holding credentials, in every
// vendor's config.
var secretKeys = map[string]bool{
	"password": true, "app_secret": true, "secret_key": true, "push_secret": true,
	"push_token": true, "device_key": true, "token": true, "auth_key": true,
}

// accountSecrets collects the credential values of account YAML entries.
func accountSecrets(t *testing.T, accounts []string) []string {
	t.Helper()
	var out []string
	var walk func(k string, v any)
	walk = func(k string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, v := range x {
				walk(k, v)
			}
		case []any:
			for _, v := range x {
				walk(k, v)
			}
		case string:
			if secretKeys[k] && x != "" {
				out = append(out, x)
			}
		}
	}
	for _, a := range accounts {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(a), &m); err != nil {
			t.Fatalf("account yaml: %v", err)
		}
		walk("", m)
	}
	return out
}

// secretForms are the ways a secret could show: raw, URL-escaped (query and
// path) and JSON-escaped.
func secretForms(s string) []string {
	j, _ := json.Marshal(s)
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.Trim(string(j), `"`)}
	out := forms[:0]
	seen := map[string]bool{}
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// withPassword puts user and password into a tcp:// broker URL.
func withPassword(raw, user, pass string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// TestSecretsNeverLeak runs the demo with every vendor's credentials known
// to the test, injects faults (a refused and
// refreshed eWeLink token, a dropped stream, a 5xx, invalid and valid
// commands), and scans everything it can see: the logs at debug
// level, /metrics, /healthz, every message under the base topic (state,
// bridge/info, bridge/devices, results) and the discovery configs, and the
// demo's banner. No secret may appear, raw or escaped.
func TestSecretsNeverLeak(t *testing.T) {
	plain := bridgetest.BrokerURL(t)
	w := startFaultWorld(t, plain, faultWorldOptions{})
	all := bridgetest.Subscribe(t, plain, w.base+"/#")
	configs := bridgetest.Subscribe(t, plain, w.prefix+"/#")
	w.settle()

	// Faults: tokens expire and streams drop; the cloud errors and throttles.
	w.ew.ExpireTokens()
	w.ew.FailNext(500, 1)
	w.ew.DropStreams()
	dcfg := w.d.cfg.Discovery(version)
	dev := dcfg.DeviceTopic("ewelink", "1000a00002")
	for _, p := range []string{`{"switch_2":"ON"}`, `{"switch_2":7}`, `{"nope":1}`, `not json`} {
		bridgetest.Publish(t, plain, dev+"/set", 1, false, []byte(p))
	}
	all.Wait(dev+"/result", nil, 20*time.Second)
	// The faults went through the token refresh path: new tokens were issued.
	// (The reconnect waits for the cloud's userOnline spacing, 15 s.)
	faultStart := time.Now()
	deadline := faultStart.Add(90 * time.Second)
	for len(w.ew.Tokens()) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("no eWeLink token refresh after the expiry: tokens %d", len(w.ew.Tokens()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("tokens refreshed %s after the expiry", time.Since(faultStart).Round(time.Second))
	w.waitComplete("after faults", nil, 60*time.Second)
	all.Sync()
	configs.Sync()

	secrets := accountSecrets(t, w.accounts)
	if len(secrets) < 8 {
		t.Fatalf("found only %d secrets in the account entries: the scan would prove little", len(secrets))
	}
	secrets = append(secrets, w.ew.Tokens()...)

	var banner bytes.Buffer
	w.d.banner(&banner)
	captured := map[string]string{
		"logs":    w.logs.String(),
		"metrics": httpGet(t, w.d.bridgeURL+"/metrics"),
		"healthz": httpGet(t, w.d.bridgeURL+"/healthz"),
		"banner":  banner.String(),
	}
	for _, m := range all.Messages() {
		captured["mqtt "+m.Topic] += string(m.Payload) + "\n"
	}
	for _, m := range configs.Messages() {
		captured["mqtt "+m.Topic] += string(m.Payload) + "\n"
	}
	for _, must := range []string{"mqtt " + dcfg.BridgeTopic("info"), "mqtt " + dcfg.BridgeTopic("devices"), "mqtt " + dev + "/result"} {
		if captured[must] == "" {
			t.Errorf("nothing captured on %s", strings.TrimPrefix(must, "mqtt "))
		}
	}
	scanned := 0
	for where, text := range captured {
		scanned += len(text)
		for _, s := range secrets {
			if len(s) < 6 {
				continue
			}
			for _, f := range secretForms(s) {
				if i := strings.Index(text, f); i >= 0 {
					lo, hi := max(0, i-80), min(len(text), i+len(f)+40)
					t.Errorf("secret %.4s… found in %s: …%s…", s, where, text[lo:hi])
				}
			}
		}
	}
	t.Logf("scanned %d bytes from %d sources for %d secrets (%d forms each at most)", scanned, len(captured), len(secrets), 4)
	if !strings.Contains(w.logs.String(), `"level":"debug"`) {
		t.Error("no debug lines logged: the scan did not see the most verbose level")
	}
}

// TestSecretsMQTTPassword: the broker password is refused inside mqtt.url
// without being echoed, and given as mqtt.password it appears nowhere the
// bridge writes: logs at debug level, /metrics, bridge/info.
func TestSecretsMQTTPassword(t *testing.T) {
	plain := bridgetest.BrokerURL(t)
	base, prefix := bridgetest.Topics(t, plain)
	pass := "mqtt-pw-" + bridgetest.RandomID(8) + "/+&%"
	noEnv := func(string) (string, bool) { return "", false }

	yml := demoConfig(withPassword(plain, "c2muser", pass), base, prefix, "127.0.0.1:0", "http://127.0.0.1:1", t.TempDir(), "debug", nil, nil)
	_, err := config.Parse([]byte(yml), "test config", noEnv)
	if err == nil {
		t.Error("a password inside mqtt.url was accepted")
	} else {
		for _, f := range secretForms(pass) {
			if strings.Contains(err.Error(), f) {
				t.Errorf("the config error shows the password: %v", err)
			}
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	yml = demoConfig(plain, base, prefix, ln.Addr().String(), "http://"+ln.Addr().String(), t.TempDir(), "debug", nil, nil)
	yml = strings.Replace(yml, "mqtt:\n", fmt.Sprintf("mqtt:\n  username: c2muser\n  password: %q\n", pass), 1)
	cfg, err := config.Parse([]byte(yml), "test config", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	logs := &vendortest.LogBuffer{}
	red := &vendorkit.Redactor{}
	log, err := newLogger(logs, "debug", "json", red)
	if err != nil {
		t.Fatal(err)
	}
	a, err := buildApp(cfg, log, red, ln)
	if err != nil {
		t.Fatal(err)
	}
	states := bridgetest.Subscribe(t, plain, base+"/bridge/#")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	states.WaitPayload(base+"/bridge/state", "online", 15*time.Second)
	states.Wait(base+"/bridge/info", nil, 15*time.Second)
	metrics := httpGet(t, "http://"+ln.Addr().String()+"/metrics")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	var mqttText strings.Builder
	for _, m := range states.Messages() {
		mqttText.Write(m.Payload)
	}
	for where, text := range map[string]string{"logs": logs.String(), "metrics": metrics, "mqtt": mqttText.String()} {
		for _, f := range secretForms(pass) {
			if strings.Contains(text, f) {
				t.Errorf("the mqtt password shows in %s", where)
			}
		}
	}
}
