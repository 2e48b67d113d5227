package config

import (
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	getenv := env(map[string]string{"A": "alpha", "EMPTY": "", "DOLLAR": "$B"})
	cases := []struct {
		in, want, err string
	}{
		{"plain", "plain", ""},
		{"${A}", "alpha", ""},
		{"x-${A}-${A}", "x-alpha-alpha", ""},
		{"${MISSING:-fallback}", "fallback", ""},
		{"${EMPTY:-fallback}", "fallback", ""},
		{"${A:-fallback}", "alpha", ""},
		{"${EMPTY}", "", ""},
		{"${MISSING:-}", "", ""},
		{"${MISSING:-a:-b}", "a:-b", ""},
		{"$${A}", "${A}", ""},
		{"$$$$", "$$", ""},
		{"pa$word$", "pa$word$", ""},
		{"${DOLLAR}", "$B", ""}, // values are not expanded again
		{"${MISSING}", "", "environment variable MISSING is not set"},
		{"a ${A", "", "unterminated ${"},
		{"${}", "", "invalid variable reference"},
		{"${1A}", "", "invalid variable reference"},
		{"${A B}", "", "invalid variable reference"},
	}
	for _, c := range cases {
		got, err := expand(c.in, getenv)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("expand(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("expand(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestEnvExpansionInConfig(t *testing.T) {
	src := `mqtt:
  url: ${BROKER:-tcp://127.0.0.1:1883}
  username: ${USER_NAME}
  password: ${PW}
  keep_alive: ${KA}
  base_topic: "${BT}"
homeassistant:
  discovery: ${DISC}
metrics:
  device_values: ${DV:-true}
log:
  level: ${LEVEL:-warn}
state_dir: $${literal}
vendors:
  testvendor:
    - name: ${ACCOUNT}
      token: ${TOKEN}
`
	vars := map[string]string{
		"USER_NAME": "bridge", "PW": "null", "KA": "45s", "BT": "home/c2m", "DISC": "false",
		"ACCOUNT": "home", "TOKEN": "123456",
	}
	cfg := mustParse(t, src, env(vars))
	checks := []struct {
		name      string
		got, want any
	}{
		{"url default", cfg.MQTT.URL, "tcp://127.0.0.1:1883"},
		{"username", cfg.MQTT.Username, "bridge"},
		{"password 'null' stays a string", cfg.MQTT.Password.Reveal(), "null"},
		{"duration", cfg.MQTT.KeepAlive.Std(), 45 * time.Second},
		{"quoted", cfg.MQTT.BaseTopic, "home/c2m"},
		{"bool from env", cfg.HomeAssistant.Discovery, false},
		{"bool from default", cfg.Metrics.DeviceValues, true},
		{"string default", cfg.Log.Level, "warn"},
		{"$$ escape", cfg.StateDir, "${literal}"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(cfg.Accounts) != 1 || cfg.Accounts[0].Name != "home" {
		t.Fatalf("accounts %+v", cfg.Accounts)
	}
	var acc fakeAccount
	if err := cfg.Accounts[0].Decode(&acc); err != nil {
		t.Fatal(err)
	}
	if acc.Token != "123456" { // a number-looking value still fills a string field
		t.Errorf("token %q", acc.Token)
	}
}

// A variable's value is one scalar: it cannot add keys or structure.
func TestEnvCannotInjectYAML(t *testing.T) {
	evil := "x\nlog: {level: debug}\nmqtt: {url: tcp://evil:1}"
	cfg := mustParse(t, "mqtt:\n  username: u\n  password: ${PW}\n", env(map[string]string{"PW": evil}))
	if cfg.MQTT.Password.Reveal() != evil || cfg.MQTT.URL != DefaultMQTTURL || cfg.Log.Level != "info" {
		t.Errorf("injection: %+v %+v", cfg.MQTT, cfg.Log)
	}
	_, err := Parse([]byte("mqtt:\n  keep_alive: ${KA}\n"), "c.yaml", env(map[string]string{"KA": "[1, 2]"}))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:2: mqtt.keep_alive: invalid duration") {
		t.Errorf("list-looking value: %v", err)
	}
}

func TestEnvMissingVariable(t *testing.T) {
	src := "mqtt:\n  url: tcp://h:1\n  username: u\n  password: ${SET_ONE}\nvendors:\n  testvendor:\n    - name: home\n      token: pre-${UNSET_TOKEN}-post\n"
	_, err := Parse([]byte(src), "c.yaml", env(map[string]string{"SET_ONE": "visible-secret-value"}))
	es := errList(t, err)
	if len(es) != 1 || es[0].Line != 8 || !strings.Contains(es[0].Msg, "UNSET_TOKEN") {
		t.Fatalf("errors: %v", err)
	}
	for _, leak := range []string{"visible-secret-value", "pre-", "-post"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error shows %q: %v", leak, err)
		}
	}
}

// An unset variable is reported once, not again as the empty value's
// consequences on the same line.
func TestEnvErrorHidesConsequences(t *testing.T) {
	_, err := Parse([]byte("mqtt:\n  url: ${BROKER}\n"), "c.yaml", noEnv)
	es := errList(t, err)
	if len(es) != 1 || !strings.Contains(es[0].Msg, "BROKER is not set") {
		t.Errorf("errors: %v", err)
	}
}

// Anchors are expanded once, where they are defined.
func TestEnvWithAnchors(t *testing.T) {
	src := "mqtt:\n  username: &u ${U}$$\n  client_id: *u\n"
	cfg := mustParse(t, src, env(map[string]string{"U": "me"}))
	if cfg.MQTT.Username != "me$" || cfg.MQTT.ClientID != "me$" {
		t.Errorf("username %q client_id %q", cfg.MQTT.Username, cfg.MQTT.ClientID)
	}
}
