package discovery

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// jinjaHarness renders templates the way Home Assistant's MQTT integration
// does: an immutable sandbox, value/value_json/this variables, the output
// stripped, and an Undefined that logs a warning when it is printed, iterated
// or tested for truth (HA's LoggingUndefined) — those warnings are returned so
// tests can demand that a missing key renders silently.
const jinjaHarness = `
import json, sys
from jinja2 import Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

warnings = []
class LoggingUndefined(Undefined):
    def _log(self):
        warnings.append(self._undefined_message)
    def __str__(self):
        self._log(); return super().__str__()
    def __iter__(self):
        self._log(); return super().__iter__()
    def __bool__(self):
        self._log(); return super().__bool__()

class This:
    def __init__(self, state): self.state = state

env = ImmutableSandboxedEnvironment(undefined=LoggingUndefined)
out = []
for case in json.load(sys.stdin):
    del warnings[:]
    variables = {"value": case["payload"], "this": This(case.get("this", "unknown"))}
    if "value" in case:
        variables["value"] = case["value"]
    try:
        variables["value_json"] = json.loads(case["payload"])
    except ValueError:
        pass
    try:
        text = env.from_string(case["template"]).render(variables).strip()
        out.append({"out": text, "warnings": list(warnings)})
    except Exception as e:
        out.append({"error": repr(e)})
json.dump(out, sys.stdout)
`

type jinjaCase struct {
	Template string `json:"template"`
	Payload  string `json:"payload"`
	This     string `json:"this,omitempty"`
	Value    any    `json:"value,omitempty"`
	want     string
}

type jinjaResult struct {
	Out      string   `json:"out"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error"`
}

func renderJinja(t *testing.T, cases []jinjaCase) []jinjaResult {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	if exec.Command(py, "-c", "import jinja2").Run() != nil {
		t.Skip("python3 has no jinja2")
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", jinjaHarness)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jinja harness: %v: %s", err, stderr.String())
	}
	var res []jinjaResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("jinja harness output %q: %v", out, err)
	}
	return res
}

func TestTemplatesRenderLikeHomeAssistant(t *testing.T) {
	bridge, err := testConfig.BridgePayload(bridgeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Cmps map[string]map[string]any `json:"cmps"`
	}
	if err := json.Unmarshal(bridge, &b); err != nil {
		t.Fatal(err)
	}
	conn := b.Cmps["shelly_cottage_north_connection"]["value_template"].(string)
	reauth := b.Cmps["shelly_cottage_north_reauth"]["value_template"].(string)
	info := `{"devices": 12, "accounts": [
		{"id": "ewelink/home", "status": "connected", "reauth_needed": false},
		{"id": "shelly/Cottage 'north'", "status": "backoff", "reauth_needed": true}]}`
	info2 := `{"accounts": [{"id": "shelly/Cottage 'north'", "status": "connected", "reauth_needed": false}]}`

	update := `{"firmware": {"installed_version": "1.3.0", "latest_version": "1.4.0", "in_progress": false, "update_percentage": null}}`
	cases := []jinjaCase{
		{Template: valueTemplate("power"), Payload: `{"power": 12.5}`, want: "12.5"},
		{Template: valueTemplate("power"), Payload: `{"energy": 3}`, want: ""},
		{Template: valueTemplate("power"), Payload: `{"power": null}`, want: "None"},
		{Template: valueTemplate("switch"), Payload: `{"switch": "ON"}`, want: "ON"},
		{Template: valueTemplate("items"), Payload: `{}`, want: ""}, // not dict.items
		{Template: valueTemplate("items"), Payload: `{"items": 3}`, want: "3"},
		{Template: valueTemplate("update"), Payload: `{}`, want: ""},
		{Template: keepTemplate("mode"), Payload: `{"mode": "eco"}`, This: "auto", want: "eco"},
		{Template: keepTemplate("mode"), Payload: `{}`, This: "auto", want: "auto"},
		{Template: keepTemplate("mode"), Payload: `{"mode": null}`, This: "unknown", want: "unknown"},
		{Template: keepTemplate("n"), Payload: `{"n": 0}`, This: "5", want: "0"},
		{Template: numberTemplate("position"), Payload: `{"position": 40}`, want: "40"},
		{Template: numberTemplate("position"), Payload: `{}`, want: ""},
		{Template: numberTemplate("position"), Payload: `{"position": null}`, want: ""},
		{Template: numberTemplate("position"), Payload: `{"position": "x"}`, want: ""},
		{Template: jsonTemplate("firmware"), Payload: update, want: `{"installed_version":"1.3.0","latest_version":"1.4.0","in_progress":false,"update_percentage":null}`},
		{Template: jsonTemplate("firmware"), Payload: `{}`, want: "{}"},
		{Template: jsonTemplate("firmware"), Payload: `{"firmware": null}`, want: "{}"},
		{Template: levelTemplate("speed", 3), Payload: `{"speed": 33}`, want: "1"},
		{Template: levelTemplate("speed", 3), Payload: `{"speed": 67}`, want: "2"},
		{Template: levelTemplate("speed", 3), Payload: `{"speed": 100}`, want: "3"},
		{Template: levelTemplate("speed", 3), Payload: `{"speed": 0}`, want: "0"},
		{Template: levelTemplate("speed", 3), Payload: `{}`, want: ""},
		{Template: levelTemplate("speed", 3), Payload: `{"speed": null}`, want: "None"},
		{Template: percentTemplate(3), Payload: "1", Value: 1, want: "33"},
		{Template: percentTemplate(3), Payload: "2", Value: 2, want: "67"},
		{Template: percentTemplate(3), Payload: "3", Value: 3, want: "100"},
		{Template: conn, Payload: info, want: "OFF"},
		{Template: conn, Payload: info2, want: "ON"},
		{Template: reauth, Payload: info, want: "ON"},
		{Template: reauth, Payload: info2, want: "OFF"},
		{Template: conn, Payload: `{"accounts": [{"id": "ewelink/home", "status": "connected"}]}`, want: ""},
		{Template: conn, Payload: `{"accounts": null}`, want: ""},
		{Template: reauth, Payload: `{"version": "1"}`, want: ""},
		{Template: b.Cmps["devices"]["value_template"].(string), Payload: info, want: "12"},
	}
	for i, r := range renderJinja(t, cases) {
		c := cases[i]
		if r.Error != "" {
			t.Errorf("%s on %s: %s", c.Template, c.Payload, r.Error)
			continue
		}
		if !sameOutput(r.Out, c.want) {
			t.Errorf("%s on %s: got %q, want %q", c.Template, c.Payload, r.Out, c.want)
		}
		if len(r.Warnings) > 0 {
			t.Errorf("%s on %s: template warnings %v", c.Template, c.Payload, r.Warnings)
		}
	}
}

// Every template in every golden payload must compile and render on an empty
// state without an error or a warning, and render "" or "{}" (ignored) —
// except non-numeric sensors, which keep this.state.
func TestEveryTemplateIgnoresMissingKeys(t *testing.T) {
	var cases []jinjaCase
	var where []string
	payloads := [][]byte{}
	for _, f := range fixtures() {
		d := f.device
		p, err := testConfig.DevicePayload(f.vendor, &d, f.override)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, p)
	}
	bp, err := testConfig.BridgePayload(bridgeAccounts)
	if err != nil {
		t.Fatal(err)
	}
	payloads = append(payloads, bp)
	for _, p := range payloads {
		var m struct {
			Cmps map[string]map[string]any `json:"cmps"`
		}
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatal(err)
		}
		for key, comp := range m.Cmps {
			for opt, v := range comp {
				s, ok := v.(string)
				if !ok || !strings.HasSuffix(opt, "_template") || strings.HasSuffix(opt, "command_template") {
					continue
				}
				cases = append(cases, jinjaCase{Template: s, Payload: `{}`, This: "kept", want: ""})
				where = append(where, key+"."+opt)
			}
		}
	}
	if len(cases) < 30 {
		t.Fatalf("only %d templates found", len(cases))
	}
	for i, r := range renderJinja(t, cases) {
		if r.Error != "" || len(r.Warnings) > 0 {
			t.Errorf("%s: %q: error %s, warnings %v", where[i], cases[i].Template, r.Error, r.Warnings)
			continue
		}
		if r.Out != "" && r.Out != "{}" && r.Out != "kept" {
			t.Errorf("%s: %q renders %q on an empty state", where[i], cases[i].Template, r.Out)
		}
	}
}

// sameOutput compares renderings, JSON objects as values.
func sameOutput(got, want string) bool {
	if strings.HasPrefix(want, "{\"") {
		var g, w any
		return json.Unmarshal([]byte(got), &g) == nil && json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(g, w)
	}
	return got == want
}
