package vendors

import (
	"regexp"
	"testing"
)

// keyRule is the rule ValidKey implements by hand: lower-case letters, digits
// and underscores, not a word reserved by the topic layout.
var keyRule = regexp.MustCompile(`^[a-z0-9_]+$`)

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{
		"power": true, "switch_0": true, "energy_2": true, "0": true,
		"": false, "Power": false, "power-1": false, "pow er": false,
		"set": false, "availability": false, "get": false, "result": false,
		"ä": false, "power/set": false, "a\x00": false,
	} {
		if got := ValidKey(key); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"power", "Power", "set", "", "a_b_9", "a-b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := keyRule.MatchString(s) && !reservedKeys[s]
		if got := ValidKey(s); got != want {
			t.Fatalf("ValidKey(%q) = %v, the rule says %v", s, got, want)
		}
	})
}
