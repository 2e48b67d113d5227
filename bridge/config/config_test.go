package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

var noEnv = env(nil)

// lineOf is the 1-based line of the first line of src containing needle.
func lineOf(t *testing.T, src, needle string) int {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	t.Fatalf("%q not in source", needle)
	return 0
}

func mustParse(t *testing.T, src string, getenv func(string) (string, bool)) *Config {
	t.Helper()
	cfg, err := Parse([]byte(src), "c.yaml", getenv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestParseFullConfig(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`mqtt:
  url: mqtts://broker.example.com:8883
  base_topic: home/c2m
  client_id: c2m-one
  username: bridge
  password: pw-1234
  ca_file: %[1]s
  cert_file: %[1]s
  key_file: %[1]s
  insecure_skip_verify: true
  keep_alive: 1m
  connect_timeout: 3s
  write_timeout: 4s
homeassistant:
  discovery: false
  discovery_prefix: ha
  status_topic: ha/birth
  birth_delay: 0s
http:
  listen: 0.0.0.0:9000
  public_url: https://bridge.example.com/
metrics:
  device_values: true
log:
  level: DEBUG
  format: json
cloud:
  timeout: 2s
  ca_file: %[1]s
  insecure_skip_verify: true
state_dir: /var/lib/c2m
devices:
  testvendor/abc_1:
    name: Kitchen
    area: Downstairs
    disabled: true
vendors:
  testvendor:
    - name: home
      token: t1
    - name: office
      token: t2
  testother:
    - name: home
`, ca)
	got := mustParse(t, src, noEnv)
	want := &Config{
		MQTT: MQTT{URL: "mqtts://broker.example.com:8883", BaseTopic: "home/c2m", ClientID: "c2m-one",
			Username: "bridge", Password: "pw-1234", CAFile: ca, CertFile: ca, KeyFile: ca,
			InsecureSkipVerify: true, KeepAlive: Duration(time.Minute), ConnectTimeout: Duration(3 * time.Second),
			WriteTimeout: Duration(4 * time.Second)},
		HomeAssistant: HomeAssistant{Discovery: false, DiscoveryPrefix: "ha", StatusTopic: "ha/birth", BirthDelay: 0},
		HTTP:          HTTP{Listen: "0.0.0.0:9000", PublicURL: "https://bridge.example.com"},
		Metrics:       Metrics{DeviceValues: true},
		Log:           Log{Level: "debug", Format: "json"},
		Cloud:         Cloud{Timeout: Duration(2 * time.Second), CAFile: ca, InsecureSkipVerify: true},
		StateDir:      "/var/lib/c2m",
		Devices:       map[string]Device{"testvendor/abc_1": {Name: "Kitchen", Area: "Downstairs", Disabled: true}},
	}
	accounts := got.Accounts
	got.Accounts = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config\n got %#v\nwant %#v", got, want)
	}
	var ids []string
	for _, a := range accounts {
		ids = append(ids, fmt.Sprintf("%s/%s@%d", a.Vendor, a.Name, a.Line))
	}
	wantIDs := []string{
		fmt.Sprintf("testvendor/home@%d", lineOf(t, src, "name: home")),
		fmt.Sprintf("testvendor/office@%d", lineOf(t, src, "name: office")),
		fmt.Sprintf("testother/home@%d", strings.Count(src[:strings.LastIndex(src, "name: home")], "\n")+1),
	}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("accounts %v, want %v", ids, wantIDs)
	}
	if d, ok := got.DeviceOverride("testvendor", "abc.1"); !ok || d.Name != "Kitchen" {
		t.Errorf("DeviceOverride(abc.1) = %v, %v", d, ok)
	}
	if dc := got.Discovery("v1"); dc.BaseTopic != "home/c2m" || dc.Prefix != "ha" || dc.Version != "v1" {
		t.Errorf("Discovery = %+v", dc)
	}
	if !got.MQTT.UsesTLS() {
		t.Error("mqtts URL: UsesTLS false")
	}
}

func TestDefaults(t *testing.T) {
	for _, src := range []string{"", "\n# only a comment\n", "{}", "---\n", "mqtt: {}\nhomeassistant:\nhttp: {}\nvendors:\n"} {
		cfg := mustParse(t, src, noEnv)
		cases := []struct {
			name      string
			got, want any
		}{
			{"mqtt.url", cfg.MQTT.URL, "tcp://127.0.0.1:1883"},
			{"mqtt.base_topic", cfg.MQTT.BaseTopic, "cloud2mqtt"},
			{"mqtt.client_id", cfg.MQTT.ClientID, "cloud2mqtt-cloud2mqtt"},
			{"mqtt.username", cfg.MQTT.Username, ""},
			{"mqtt.keep_alive", cfg.MQTT.KeepAlive.Std(), 30 * time.Second},
			{"mqtt.connect_timeout", cfg.MQTT.ConnectTimeout.Std(), 10 * time.Second},
			{"mqtt.write_timeout", cfg.MQTT.WriteTimeout.Std(), 10 * time.Second},
			{"homeassistant.discovery", cfg.HomeAssistant.Discovery, true},
			{"homeassistant.discovery_prefix", cfg.HomeAssistant.DiscoveryPrefix, "homeassistant"},
			{"homeassistant.status_topic", cfg.HomeAssistant.StatusTopic, "homeassistant/status"},
			{"homeassistant.birth_delay", cfg.HomeAssistant.BirthDelay.Std(), 5 * time.Second},
			{"http.listen", cfg.HTTP.Listen, "127.0.0.1:8080"},
			{"http.public_url", cfg.HTTP.PublicURL, "http://127.0.0.1:8080"},
			{"http enabled", cfg.HTTP.Enabled(), true},
			{"metrics.device_values", cfg.Metrics.DeviceValues, false},
			{"log.level", cfg.Log.Level, "info"},
			{"log.format", cfg.Log.Format, "auto"},
			{"cloud.timeout", cfg.Cloud.Timeout.Std(), 15 * time.Second},
			{"state_dir", cfg.StateDir, "./state"},
			{"accounts", len(cfg.Accounts), 0},
			{"devices", len(cfg.Devices), 0},
		}
		for _, c := range cases {
			if c.got != c.want {
				t.Errorf("%q: %s = %v, want %v", src, c.name, c.got, c.want)
			}
		}
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("%q: differs from Default()", src)
		}
	}
}

func TestDerivedDefaults(t *testing.T) {
	cases := []struct {
		src   string
		check func(*Config) string
	}{
		{"mqtt: {base_topic: home/c2m}", func(c *Config) string { return c.MQTT.ClientID + "|cloud2mqtt-home_c2m" }},
		{"homeassistant: {discovery_prefix: ha}", func(c *Config) string { return c.HomeAssistant.StatusTopic + "|ha/status" }},
		{"http: {listen: '0.0.0.0:9000'}", func(c *Config) string { return c.HTTP.PublicURL + "|http://localhost:9000" }},
		{"http: {listen: ':9000'}", func(c *Config) string { return c.HTTP.PublicURL + "|http://localhost:9000" }},
		{"http: {listen: '[::]:9000'}", func(c *Config) string { return c.HTTP.PublicURL + "|http://localhost:9000" }},
		{"http: {listen: 'bridge.lan:80'}", func(c *Config) string { return c.HTTP.PublicURL + "|http://bridge.lan:80" }},
		{"http: {listen: off}", func(c *Config) string {
			return fmt.Sprint(c.HTTP.Enabled(), c.HTTP.Listen, c.HTTP.PublicURL) + "|false"
		}},
		{"http: {listen: ''}", func(c *Config) string { return fmt.Sprint(c.HTTP.Enabled()) + "|false" }},
		{"log: {level: WARN}", func(c *Config) string { return c.Log.Level + "|warn" }},
	}
	for _, c := range cases {
		got, want, _ := strings.Cut(c.check(mustParse(t, c.src, noEnv)), "|")
		if got != want {
			t.Errorf("%s: got %q, want %q", c.src, got, want)
		}
	}
}

// errLines parses the error into "line: msg" strings, checking the format.
func errList(t *testing.T, err error) Errors {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T %v is not Errors", err, err)
	}
	return es
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		src  string
		// want: needle in src whose line the error must carry → message substring
		want map[string]string
	}{
		{"unknown top-level key", "mqtt:\n  url: tcp://h:1\nmqt:\n  url: x\n",
			map[string]string{"mqt:": `unknown key "mqt" at the top level (known: cloud, devices, homeassistant, http, log, metrics, mqtt, state_dir, vendors)`}},
		{"unknown nested key", "mqtt:\n  url: tcp://h:1\n  pasword: x\n",
			map[string]string{"pasword": `unknown key "pasword" in mqtt (known: base_topic, ca_file`}},
		{"unknown key in device override", "devices:\n  testvendor/a:\n    nam: x\n",
			map[string]string{"nam:": `unknown key "nam" in devices.testvendor/a (known: area, disabled, name)`}},
		{"bad duration", "mqtt:\n  keep_alive: 30\n",
			map[string]string{"keep_alive": "mqtt.keep_alive: invalid duration: want a number with a unit"}},
		{"duration as list", "cloud:\n  timeout: [1]\n",
			map[string]string{"timeout": "cloud.timeout: want a duration such as 30s or 5m, got a list"}},
		{"zero duration", "mqtt:\n  write_timeout: 0s\n",
			map[string]string{"write_timeout": "mqtt.write_timeout: must be a positive duration"}},
		{"negative duration", "cloud:\n  timeout: -1s\n",
			map[string]string{"timeout": "cloud.timeout: must be a positive duration"}},
		{"short keep alive", "mqtt:\n  keep_alive: 500ms\n",
			map[string]string{"keep_alive": "mqtt.keep_alive: must be at least 1s"}},
		{"wrong type", "homeassistant:\n  discovery: maybe\n",
			map[string]string{"discovery": "homeassistant.discovery: want true or false, got a string"}},
		{"mapping for string", "state_dir: {a: 1}\n",
			map[string]string{"state_dir": "state_dir: want a string, got a mapping"}},
		{"duplicate key", "log:\n  level: info\n  level: debug\n",
			map[string]string{"level: debug": `mapping key "level" already defined at line 2`}},
		{"url scheme", "mqtt:\n  url: http://h:1883\n",
			map[string]string{"url": "mqtt.url: scheme must be one of tcp, mqtt, ssl, tls, mqtts, ws, wss"}},
		{"url no scheme", "mqtt:\n  url: 127.0.0.1:1883\n",
			map[string]string{"url": "mqtt.url: not a valid broker URL"}},
		{"url port", "mqtt:\n  url: tcp://h:99999\n",
			map[string]string{"url": "mqtt.url: invalid port"}},
		{"empty url", "mqtt:\n  url: ''\n",
			map[string]string{"url": "mqtt.url: is required"}},
		{"tls settings on tcp", "mqtt:\n  url: tcp://h:1\n  insecure_skip_verify: true\n",
			map[string]string{"url:": "mqtt.url: TLS settings are given but the scheme is not"}},
		{"cert without key", fmt.Sprintf("mqtt:\n  url: ssl://h:1\n  cert_file: %s\n", os.Args[0]),
			map[string]string{"cert_file": "mqtt.cert_file: cert_file and key_file go together"}},
		{"missing ca file", "mqtt:\n  url: ssl://h:1\n  ca_file: /nonexistent/ca.pem\n",
			map[string]string{"ca_file": "mqtt.ca_file: stat /nonexistent/ca.pem: no such file"}},
		{"ca file is dir", fmt.Sprintf("cloud:\n  ca_file: %s\n", dir),
			map[string]string{"ca_file": "is a directory"}},
		{"password without username", "mqtt:\n  password: abcd\n",
			map[string]string{"password": "mqtt.password: needs mqtt.username"}},
		{"base topic wildcard", "mqtt:\n  base_topic: a/+/b\n",
			map[string]string{"base_topic": "mqtt.base_topic: must not contain the wildcards + or #"}},
		{"base topic hash", "mqtt:\n  base_topic: 'a#'\n",
			map[string]string{"base_topic": "must not contain the wildcards"}},
		{"base topic leading slash", "mqtt:\n  base_topic: /c2m\n",
			map[string]string{"base_topic": "mqtt.base_topic: must not start or end with /"}},
		{"base topic trailing slash", "mqtt:\n  base_topic: c2m/\n",
			map[string]string{"base_topic": "must not start or end with /"}},
		{"base topic empty", "mqtt:\n  base_topic: ''\n",
			map[string]string{"base_topic": "mqtt.base_topic: must not be empty"}},
		{"discovery prefix", "homeassistant:\n  discovery_prefix: ha//x\n",
			map[string]string{"discovery_prefix": "empty level"}},
		{"status topic", "homeassistant:\n  status_topic: ha/+\n",
			map[string]string{"status_topic": "homeassistant.status_topic: must not contain + or #"}},
		{"negative birth delay", "homeassistant:\n  birth_delay: -1s\n",
			map[string]string{"birth_delay": "must not be negative"}},
		{"listen", "http:\n  listen: localhost\n",
			map[string]string{"listen": "http.listen: not host:port"}},
		{"public url", "http:\n  public_url: ftp://x\n",
			map[string]string{"public_url": "http.public_url: scheme must be http or https"}},
		{"log level", "log:\n  level: verbose\n",
			map[string]string{"level": "log.level: must be one of debug, info, warn, error"}},
		{"log format", "log:\n  format: xml\n",
			map[string]string{"format": "log.format: must be one of auto, console, json"}},
		{"state dir", "state_dir: ''\n",
			map[string]string{"state_dir": "state_dir: must not be empty"}},
		{"device key without slash", "devices:\n  kitchen:\n    name: K\n",
			map[string]string{"kitchen": "devices.kitchen: want a key of the form <vendor>/<id>"}},
		{"device key empty id", "devices:\n  testvendor/:\n    name: K\n",
			map[string]string{"testvendor/": "want a key of the form <vendor>/<id>"}},
		{"device key unknown vendor", "devices:\n  nosuch/a1:\n    name: K\n",
			map[string]string{"nosuch": `devices.nosuch/a1: unknown vendor "nosuch" (known: `}},
		{"device key unsanitized id", "devices:\n  testvendor/aa:bb:\n    name: K\n",
			map[string]string{"aa:bb": "write the id as it appears in topics: testvendor/aa_bb"}},
		{"unknown vendor", "vendors:\n  nosuch:\n    - name: a\n",
			map[string]string{"nosuch": `vendors: unknown vendor "nosuch" (known: testempty, testother, testvendor)`}},
		{"vendors not mapping", "vendors:\n  - testvendor\n",
			map[string]string{"- testvendor": "vendors: want a mapping of vendor name to a list of accounts, got a list"}},
		{"accounts not a list", "vendors:\n  testvendor:\n    name: home\n",
			map[string]string{"name: home": `vendors.testvendor: want a list of accounts (start each with "- name: ...")`}},
		{"account not a mapping", "vendors:\n  testvendor:\n    - home\n",
			map[string]string{"- home": "vendors.testvendor[0]: want an account mapping with a name, got a string"}},
		{"account without name", "vendors:\n  testvendor:\n    - token: x\n",
			map[string]string{"token": "vendors.testvendor[0]: name is required"}},
		{"account bad name", "vendors:\n  testvendor:\n    - name: My Home\n",
			map[string]string{"My Home": `vendors.testvendor[0].name: "My Home" is not a valid account name`}},
		{"account name not scalar", "vendors:\n  testvendor:\n    - name: [a]\n",
			map[string]string{"name:": "vendors.testvendor[0].name: want a string"}},
		{"duplicate account names", "vendors:\n  testvendor:\n    - name: home\n    - name: office\n    - name: home\n      token: x\n",
			map[string]string{"- name: home\n      token": `vendors.testvendor: duplicate account name "home" (first at line 3)`}},
		{"vendor twice", "vendors:\n  testvendor:\n    - name: a\n  testvendor:\n    - name: b\n",
			map[string]string{"testvendor:\n    - name: b": `vendors: "testvendor" is listed twice (first at line 2)`}},
		{"unset env", "mqtt:\n  url: tcp://h:1\n  username: ${MQTT_USER}\n",
			map[string]string{"MQTT_USER": "environment variable MQTT_USER is not set (use ${MQTT_USER:-default} to give a default)"}},
		{"bad env syntax", "mqtt:\n  username: ${MQTT-USER}\n",
			map[string]string{"MQTT-USER": "invalid variable reference"}},
		{"unterminated env", "mqtt:\n  username: ${MQTT_USER\n",
			map[string]string{"MQTT_USER": "unterminated ${"}},
		{"secret file both set", "mqtt:\n  username: u\n  password: abcd\n  password_file: /x\n",
			map[string]string{"password_file": "mqtt.password and password_file are both set; keep one"}},
		{"secret file missing", "mqtt:\n  username: u\n  password_file: /nonexistent/pw\n",
			map[string]string{"password_file": "mqtt.password_file: cannot read secret file: open /nonexistent/pw: no such file or directory"}},
		{"secret file is dir", fmt.Sprintf("mqtt:\n  username: u\n  password_file: %s\n", dir),
			map[string]string{"password_file": "is not a regular file"}},
		{"secret file not a path", "mqtt:\n  username: u\n  password_file: [a]\n",
			map[string]string{"password_file": "mqtt.password_file: want a file path"}},
		{"unknown _file key", "mqtt:\n  nothing_file: /x\n",
			map[string]string{"nothing_file": `unknown key "nothing_file" in mqtt`}},
		{"yaml syntax", "mqtt:\n  url: tcp://h:1\n   bad: indent\n",
			map[string]string{"bad: indent": "mapping values are not allowed in this context"}},
		{"tab indent", "mqtt:\n\turl: x\n",
			map[string]string{"\turl": "found character that cannot start any token"}},
		{"two documents", "log: {}\n---\nlog: {}\n",
			map[string]string{"---": "only one YAML document is allowed"}},
		{"root is a list", "- a\n- b\n",
			map[string]string{"- a": "the config must be a mapping of keys such as mqtt: and vendors:, got a list"}},
		{"root is a string", "hello\n",
			map[string]string{"hello": "the config must be a mapping"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.src), "c.yaml", env(map[string]string{"MQTT_PASSWORD": "x"}))
			if err == nil {
				t.Fatal("no error")
			}
			es := errList(t, err)
			if len(es) != len(c.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(es), len(c.want), err)
			}
			for needle, msg := range c.want {
				line := lineOf(t, c.src, strings.SplitN(needle, "\n", 2)[0])
				if strings.Contains(needle, "\n") {
					line = strings.Count(c.src[:strings.Index(c.src, needle)], "\n") + 1
				}
				prefix := fmt.Sprintf("c.yaml:%d: ", line)
				found := false
				for _, e := range es {
					if strings.HasPrefix(e.Error(), prefix) && strings.Contains(e.Error(), msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("want an error %q…%q, got:\n%v", prefix, msg, err)
				}
			}
		})
	}
}
