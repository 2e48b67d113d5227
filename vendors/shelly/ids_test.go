package shelly

import "testing"

func TestNormID(t *testing.T) {
	known := map[string]bool{"b923fa": true, "062fa0": true, "405408": false}
	isKnown := func(id string) bool { return known[id] }
	for _, c := range []struct{ in, want string }{
		{"B48A0A1CD978", "b48a0a1cd978"},
		{"12133370", "b923fa"},              // decimal rendering of a Gen1 id
		{"224830197357980", "cc7b5c0c5d9c"}, // decimal rendering of a Gen2 id
		{"405408", "062fa0"},                // ambiguous: the known decimal reading wins
		{"123456", "123456"},                // ambiguous, neither known: hex
		{"XB1234", "XB1234"},                // BLE ids stay as they are
		{" b923fa ", "b923fa"},
		{"", ""},
		{"shelly-plug", ""},
		{"99999999999999999999", ""},
	} {
		if got := normID(c.in, isKnown); got != c.want {
			t.Errorf("normID(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := rawID([]byte(`12133370`)); got != "12133370" {
		t.Errorf("rawID of a JSON number: %q", got)
	}
	if got := normHost("https://Shelly-42-EU.shelly.cloud/"); got != "shelly-42-eu.shelly.cloud" {
		t.Errorf("normHost: %q", got)
	}
}
