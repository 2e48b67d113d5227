package config

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"{}",
		Sample("fuzz"),
		"mqtt:\n  url: ssl://h:8883\n  keep_alive: 1m\n  password_file: /nonexistent\nvendors:\n  testvendor:\n    - name: home\n      token: ${TOKEN:-x}\n",
		"mqtt: &m {url: tcp://h:1}\nlog: *m\n",
		"vendors:\n  testvendor:\n    - &a {name: a, port: 1}\n    - <<: *a\n      name: b\n",
		"a: &a [*a]\n",
		"mqtt: &a {<<: *a}\n",
		"mqtt: &a\n  <<: [*a, *a]\n",
		"mqtt:\n  url: tcp://h:1\n   bad: indent\n",
		"- 1\n- 2\n",
		"log: {}\n---\nlog: {}\n",
		"devices:\n  testvendor/aa:bb: {name: x}\n  nosuch/1: {}\n",
		"mqtt:\n  username: ${U\n  password: $$${P}\n",
		"vendors:\n  testvendor:\n    - name: home\n    - name: home\n  nosuch: []\n",
		"<<: {mqtt: {url: x}}\n",
		"!!binary mqtt: x\n",
		"mqtt:\n  keep_alive: !!binary AAAA\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	getenv := env(map[string]string{"TOKEN": "t", "U": "u", "P": "p"})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		cfg, err := Parse(data, "fuzz.yaml", getenv)
		if err != nil {
			for _, e := range errList(t, err) {
				if !strings.HasPrefix(e.Error(), "fuzz.yaml") {
					t.Fatalf("error without source: %q", e.Error())
				}
			}
		}
		if cfg == nil {
			return
		}
		_ = Secrets(cfg)
		for _, a := range cfg.Accounts {
			_ = a.Decode(&fakeAccount{})
			var anything map[string]any
			_ = a.Decode(&anything)
		}
	})
}
