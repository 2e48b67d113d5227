package bridgetest

import (
	"testing"
)

// Topics returns a base topic and a discovery prefix unique to this test
// ("c2mtest_<hex>" and "c2mtest_<hex>_ha"). Every retained message left under
// them is cleared when the test ends.
func Topics(t testing.TB, url string) (base, prefix string) {
	t.Helper()
	base = "c2mtest_" + RandomID(6)
	prefix = base + "_ha"
	t.Cleanup(func() { ClearRetained(t, url, base+"/#", prefix+"/#") })
	return base, prefix
}

// ClearRetained publishes an empty retained message on every topic under the
// filters that holds a retained message.
func ClearRetained(t testing.TB, url string, filters ...string) {
	t.Helper()
	c := Client(t, url)
	defer c.Disconnect()
	for _, f := range filters {
		r := subscribe(t, c, f)
		for _, m := range r.Messages() {
			if m.Retained && len(m.Payload) > 0 {
				if err := c.Publish(m.Topic, 1, true, nil); err != nil {
					t.Errorf("clear %s: %v", m.Topic, err)
				}
			}
		}
		r.Sync() // the clears were processed before the marker
	}
}
