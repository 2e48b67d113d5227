package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

func TestSeveralErrorsAtOnce(t *testing.T) {
	src := `state_dir: ''
mqtt:
  url: http://h:1
  keep_alive: forever
  colour: blue
log:
  level: loud
devices:
  nonsense:
    name: x
vendors:
  testvendor:
    - name: Home
  nosuch: []
`
	_, err := Parse([]byte(src), "/etc/c2m.yaml", noEnv)
	es := errList(t, err)
	wantLines := []int{1, 3, 4, 5, 7, 9, 13, 14}
	var got []int
	for _, e := range es {
		got = append(got, e.Line)
		if e.Source != "/etc/c2m.yaml" {
			t.Errorf("source %q", e.Source)
		}
	}
	if !reflect.DeepEqual(got, wantLines) {
		t.Errorf("lines %v, want %v:\n%v", got, wantLines, err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(wantLines) || !strings.HasPrefix(lines[0], "/etc/c2m.yaml:1: state_dir:") {
		t.Errorf("printed form:\n%v", err)
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 1 {
		t.Errorf("errors.As *Error: %v", one)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("log:\n  level: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, noEnv)
	if err == nil || !strings.HasPrefix(err.Error(), p+":2: log.level:") {
		t.Errorf("Load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load missing: %v", err)
	}
	os.WriteFile(p, []byte("log:\n  level: debug\n"), 0o600)
	if cfg, err := Load(p, nil); err != nil || cfg.Log.Level != "debug" {
		t.Errorf("Load: %v %+v", err, cfg)
	}
}

type inner struct {
	Key    vendors.Secret
	hidden vendors.Secret
	Plain  string
}

type outer struct {
	A     vendors.Secret
	Ptr   *inner
	List  []inner
	Map   map[string]vendors.Secret
	Any   any
	Arr   [2]vendors.Secret
	Empty vendors.Secret
	Self  *outer
	Nil   *inner
}

func TestSecrets(t *testing.T) {
	o := &outer{
		A:    "a-secret",
		Ptr:  &inner{Key: "ptr-key", hidden: "unexported", Plain: "not-secret"},
		List: []inner{{Key: "list-key"}, {Key: "a-secret"}},
		Map:  map[string]vendors.Secret{"x": "map-secret"},
		Any:  inner{Key: "iface-key"},
		Arr:  [2]vendors.Secret{"arr-secret", ""},
	}
	o.Self = o
	got := Secrets(o)
	sort.Strings(got)
	want := []string{"a-secret", "arr-secret", "iface-key", "list-key", "map-secret", "ptr-key", "unexported"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets = %v, want %v", got, want)
	}
	if s := Secrets(nil); len(s) != 0 {
		t.Errorf("Secrets(nil) = %v", s)
	}
	cfg := mustParse(t, "mqtt:\n  username: u\n  password: mqtt-pw\n", noEnv)
	if s := Secrets(cfg); !reflect.DeepEqual(s, []string{"mqtt-pw"}) {
		t.Errorf("Secrets(cfg) = %v", s)
	}
}

// Known secrets put into a broken config never show in any message.
func TestSecretsNeverInErrors(t *testing.T) {
	const (
		mqttPW   = "Zq8-mqtt-pass-771"
		tokenEnv = "Zq8-env-token-552"
		fileSec  = "Zq8-file-secret-913"
		inline   = "Zq8-inline-998"
	)
	dir := t.TempDir()
	secFile := writeFile(t, dir, "sec", fileSec+"\n")
	src := fmt.Sprintf(`mqtt:
  url: tcp://user:%[1]s@broker:1883/x
  password: %[1]s
  password_file: %[2]s
  keep_alive: %[1]s
  base_topic: '%[1]s#'
http:
  public_url: https://u:%[1]s@h
log:
  level: %[1]s
  format: ${TOKEN}
state_dir: [%[1]s]
devices:
  testvendor/%[4]s: {name: x}
vendors:
  testvendor:
    - name: home
      token: ${TOKEN}
      port: %[4]s
      interval: %[3]s
      bogus: %[4]s
      nested: %[4]s
      tags: %[4]s
    - name: office
      token_file: %[2]s
      port: ${TOKEN}
      nested:
        key_file: %[2]s
        host: [%[3]s]
`, mqttPW, secFile, fileSec, inline)
	getenv := env(map[string]string{"TOKEN": tokenEnv})
	cfg, err := Parse([]byte(src), "c.yaml", getenv)
	if err == nil {
		t.Fatal("no error")
	}
	msgs := []string{err.Error()}
	for _, a := range cfg.Accounts {
		if err := a.Decode(&fakeAccount{}); err != nil {
			msgs = append(msgs, err.Error())
		} else {
			t.Errorf("%s decoded without error", a.Path())
		}
	}
	all := strings.Join(msgs, "\n")
	t.Logf("messages:\n%s", all)
	if n := strings.Count(all, "\n") + 1; n < 15 {
		t.Errorf("only %d messages", n)
	}
	for _, s := range []string{mqttPW, tokenEnv, fileSec, inline} {
		for _, form := range []string{s, s[:7], url.QueryEscape(s)} {
			if strings.Contains(all, form) {
				t.Errorf("secret %q shows in the errors", form)
			}
		}
	}
}

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cfg := mustParse(t, "state_dir: "+dir+"\n", noEnv)
	st := cfg.Store().Scoped("testvendor-home")
	if err := st.Save("tokens", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if ok, err := st.Load("tokens", &got); !ok || err != nil || got["a"] != "b" {
		t.Errorf("Load: %v %v %v", ok, err, got)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode: %v %v", fi.Mode(), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, fi.Mode())
		}
	}
	if len(files) != 1 {
		t.Errorf("files %v", files)
	}
}

func TestSetListen(t *testing.T) {
	cfg := Default()
	cfg.SetListen("127.0.0.1:18080")
	if cfg.HTTP.Listen != "127.0.0.1:18080" || cfg.HTTP.PublicURL != "http://127.0.0.1:18080" {
		t.Errorf("derived: %+v", cfg.HTTP)
	}
	cfg.SetListen("off")
	if cfg.HTTP.Enabled() || cfg.HTTP.PublicURL != "" {
		t.Errorf("off: %+v", cfg.HTTP)
	}
	cfg = mustParse(t, "http:\n  public_url: https://bridge.example.com\n", noEnv)
	cfg.SetListen(":9000")
	if cfg.HTTP.PublicURL != "https://bridge.example.com" {
		t.Errorf("explicit public_url changed: %+v", cfg.HTTP)
	}
}

// Independent problems on one line are all reported; only the consequences
// of a failed ${VAR} or *_file are not.
func TestErrorsOnOneLine(t *testing.T) {
	_, err := Parse([]byte("mqtt: {url: 'http://h:1', bogus: 1, keep_alive: x}\n"), "c.yaml", noEnv)
	if es := errList(t, err); len(es) != 3 {
		t.Errorf("want 3 errors:\n%v", err)
	}
	_, err = Parse([]byte("mqtt: {username: u, password_file: /nonexistent}\n"), "c.yaml", noEnv)
	if es := errList(t, err); len(es) != 1 || !strings.Contains(es[0].Msg, "cannot read secret file") {
		t.Errorf("want only the file error:\n%v", err)
	}
}
