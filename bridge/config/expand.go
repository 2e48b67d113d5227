package config

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandTree replaces ${NAME} and ${NAME:-default} in every scalar value
// (mapping keys are left alone). It works on the parsed tree, so a variable's
// value is always one scalar and can never add YAML structure. Each node is
// visited once: an anchored node is expanded where it is defined and its
// aliases share the result.
func expandTree(n *yaml.Node, getenv func(string) (string, bool), c *collector) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, ch := range n.Content {
			expandTree(ch, getenv, c)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			expandTree(n.Content[i], getenv, c)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, err := expand(n.Value, getenv)
		if err != nil {
			c.add(n.Line, "%v", err)
			v = ""
		}
		setExpanded(n, v)
	}
}

// setExpanded stores an expanded value. A plain scalar is typed by its new
// text, as if it had been written in the file (so ${PORT} can feed a number),
// except that text YAML would read as null stays a string.
func setExpanded(n *yaml.Node, v string) {
	n.Value = v
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return
	}
	probe := yaml.Node{Kind: yaml.ScalarNode, Value: v}
	tag := probe.ShortTag()
	if tag == "!!null" && v != "" {
		tag = "!!str"
	}
	n.Tag = tag
}

// expand substitutes variables in s: ${NAME}, ${NAME:-default} (default when
// unset or empty) and $$ for a literal $. Any other $ is kept as it is.
// Errors name the variable, never a value.
func expand(s string, getenv func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ (write $$ for a literal $)")
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !envNameRe.MatchString(name) {
				return "", fmt.Errorf("invalid variable reference: want ${NAME} or ${NAME:-default} with NAME of letters, digits and _ (write $$ for a literal $)")
			}
			val, ok := getenv(name)
			switch {
			case hasDef && val == "":
				val = def
			case !ok:
				return "", fmt.Errorf("environment variable %s is not set (use ${%s:-default} to give a default)", name, name)
			}
			b.WriteString(val)
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), nil
}
