package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cloud2mqtt/cloud2mqtt/vendors"
)

// Account is one entry of a vendor's list under vendors:.
type Account struct {
	Vendor string
	Name   string
	Line   int // line of the entry's first key

	source string
	node   *yaml.Node
}

// Path names the account in messages: "vendors.ewelink[home]".
func (a Account) Path() string { return "vendors." + a.Vendor + "[" + a.Name + "]" }

// Decode strictly decodes the account's mapping (name included) into into, a
// pointer to the adapter's config struct: unknown keys are errors, *_file keys
// become their secret, and every error carries its line in the config file.
// Decode may be called more than once and concurrently.
func (a Account) Decode(into any) error {
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Ptr || rv.IsNil() {
		return fmt.Errorf("config: Account.Decode needs a non-nil pointer, got %T", into)
	}
	if a.node == nil {
		return errors.New("config: account was not read from a config file")
	}
	n := copyNode(a.node, map[*yaml.Node]*yaml.Node{})
	c := newCollector(a.source)
	t := rv.Type().Elem()
	resolveFiles(n, t, a.Path(), c, map[checkKey]bool{})
	c.nextStage()
	ck := newChecker(c)
	ck.check(n, t, a.Path())
	c.nextStage()
	if err := n.Decode(into); err != nil {
		c.addYAML(err, a.Line, ck)
	}
	return c.err()
}

var accountNameRe = regexp.MustCompile(`^[a-z0-9_-]+$`)

// parseVendors reads vendors: (vendor → list of account mappings).
func parseVendors(v *yaml.Node, source string, c *collector) []Account {
	if v.Kind == 0 || isNull(v) {
		return nil
	}
	m := resolve(v)
	if m == nil || m.Kind != yaml.MappingNode {
		c.add(v.Line, "vendors: want a mapping of vendor name to a list of accounts, got %s", describeKind(v))
		return nil
	}
	var out []Account
	seenVendor := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, list := m.Content[i], m.Content[i+1]
		vendor := key.Value
		if first, dup := seenVendor[vendor]; dup {
			c.add(key.Line, "vendors: %q is listed twice (first at line %d); put all its accounts in one list", vendor, first)
			continue
		}
		seenVendor[vendor] = key.Line
		if _, ok := vendors.Lookup(vendor); !ok {
			c.add(key.Line, "vendors: unknown vendor %q (known: %s)", clip(vendor), knownVendors())
			continue
		}
		out = append(out, parseAccounts(vendor, list, source, c)...)
	}
	return out
}

func parseAccounts(vendor string, v *yaml.Node, source string, c *collector) []Account {
	path := "vendors." + vendor
	if isNull(v) {
		return nil
	}
	list := resolve(v)
	if list == nil || list.Kind != yaml.SequenceNode {
		c.add(v.Line, "%s: want a list of accounts (start each with \"- name: ...\"), got %s", path, describeKind(v))
		return nil
	}
	var out []Account
	names := map[string]int{}
	for idx, item := range list.Content {
		m := resolve(item)
		if m == nil || m.Kind != yaml.MappingNode {
			c.add(item.Line, "%s[%d]: want an account mapping with a name, got %s", path, idx, describeKind(item))
			continue
		}
		nameNode := lookupKey(m, "name")
		switch {
		case nameNode == nil || isNull(nameNode):
			c.add(m.Line, "%s[%d]: name is required (lowercase letters, digits, _ and -)", path, idx)
			continue
		case resolve(nameNode).Kind != yaml.ScalarNode:
			c.add(nameNode.Line, "%s[%d].name: want a string", path, idx)
			continue
		}
		name := resolve(nameNode).Value
		if !accountNameRe.MatchString(name) {
			c.add(nameNode.Line, "%s[%d].name: %q is not a valid account name (lowercase letters, digits, _ and -)", path, idx, clip(name))
			continue
		}
		if first, dup := names[name]; dup {
			c.add(nameNode.Line, "%s: duplicate account name %q (first at line %d)", path, name, first)
			continue
		}
		names[name] = nameNode.Line
		out = append(out, Account{Vendor: vendor, Name: name, Line: m.Line, source: source, node: m})
	}
	return out
}

func lookupKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func knownVendors() string {
	names := vendors.Names()
	if len(names) == 0 {
		return "none registered"
	}
	return strings.Join(names, ", ")
}

// clip shortens a user-typed word for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
