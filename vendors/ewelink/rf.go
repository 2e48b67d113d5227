package ewelink

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// rfBridge is the RF Bridge 433 (uiid 28): a button per learned code
// (rfList) that transmits it, and an "action" event when the bridge receives
// one (rfTrig<N> timestamps).
type rfBridge struct{}

// codes lists the learned channels.
func (rfBridge) codes(t *thing) []int {
	list, _ := t.params()["rfList"].([]any)
	seen := map[int]bool{}
	var out []int
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		ch, ok := integer(m["rfChl"])
		if !ok || ch < 0 || ch > 255 || seen[ch] {
			continue
		}
		seen[ch] = true
		out = append(out, ch)
	}
	sort.Ints(out)
	return out
}

// names reads tags.zyx_info: [{"name":"Remote","buttonName":[{"0":"On"}]}].
func (rfBridge) names(t *thing) map[int]string {
	out := map[int]string{}
	remotes, _ := t.tags["zyx_info"].([]any)
	for _, r := range remotes {
		rm, ok := r.(map[string]any)
		if !ok {
			continue
		}
		remote, _ := text(rm["name"])
		buttons, _ := rm["buttonName"].([]any)
		for _, b := range buttons {
			bm, ok := b.(map[string]any)
			if !ok {
				continue
			}
			for k, v := range bm {
				ch, ok := integer(k)
				name, _ := text(v)
				if !ok || name == "" {
					continue
				}
				out[ch] = strings.TrimSpace(remote + " " + name)
			}
		}
	}
	return out
}

func rfKey(ch int) string { return fmt.Sprintf("rf_%d", ch) }

func (f rfBridge) entities(t *thing) []vendors.Entity {
	codes := f.codes(t)
	if len(codes) == 0 {
		return nil
	}
	names := f.names(t)
	var out []vendors.Entity
	types := make([]string, 0, len(codes))
	for _, ch := range codes {
		name := names[ch]
		if name == "" {
			name = fmt.Sprintf("RF %d", ch)
		}
		out = append(out, vendors.Entity{Key: rfKey(ch), Name: name, Platform: vendors.Button, Writable: true})
		types = append(types, rfKey(ch))
	}
	out = append(out, vendors.Entity{Key: "action", Name: "Received", Platform: vendors.Event, Options: types})
	return out
}

func (rfBridge) values(*thing, map[string]any) {}

func (f rfBridge) command(t *thing, key string, v any) (plan, error) {
	var ch int
	if _, err := fmt.Sscanf(key, "rf_%d", &ch); err != nil {
		return plan{}, vendors.ErrUnknownKey
	}
	return plan{msgs: []params{{"cmd": "transmit", "rfChl": ch}}, keep: true}, nil
}

func (f rfBridge) observe(t *thing, upd params, live bool) []firedEvent {
	var out []firedEvent
	learned := f.codes(t)
	for k, v := range upd {
		if !strings.HasPrefix(k, "rfTrig") {
			continue
		}
		ch, ok := integer(strings.TrimPrefix(k, "rfTrig"))
		stamp, _ := text(v)
		if !ok || stamp == "" || !t.remember(k, stamp) {
			continue
		}
		if live && containsInt(learned, ch) {
			out = append(out, firedEvent{key: "action", typ: rfKey(ch), attrs: map[string]any{"time": stamp}})
		}
	}
	return out
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}
