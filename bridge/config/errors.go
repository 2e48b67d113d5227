package config

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a config file. Messages never carry a secret value.
type Error struct {
	Source string // file name, or what Parse was told
	Line   int    // 1-based; 0 when the problem has no line
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Source == "" && e.Line == 0:
		return e.Msg
	case e.Line == 0:
		return e.Source + ": " + e.Msg
	default:
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
}

// Errors is every problem found, sorted by line; it prints one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// collector gathers errors of one source in stages. A problem found on a
// line where ${VAR} expansion or a *_file key already failed (stages 0 and
// 1) is a consequence, not news (an empty URL, a leftover password_file
// key), and is dropped.
type collector struct {
	source string
	errs   Errors
	stage  int
	seen   map[int]int // line → first stage with an error there
}

// suppressingStages counts the stages whose errors hide later ones on their line.
const suppressingStages = 2

func newCollector(source string) *collector {
	return &collector{source: source, seen: map[int]int{}}
}

func (c *collector) nextStage() { c.stage++ }

func (c *collector) add(line int, format string, args ...any) {
	if line > 0 {
		if st, ok := c.seen[line]; ok && st < c.stage {
			return
		}
		if c.stage < suppressingStages {
			c.seen[line] = c.stage
		}
	}
	c.errs = append(c.errs, &Error{Source: c.source, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns the errors sorted by line (stable: same line keeps its order), or nil.
func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Line < c.errs[j].Line })
	return c.errs
}

var (
	yamlLineRe  = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlValueRe = regexp.MustCompile(" `[^`]*`")
	unmarshalRe = regexp.MustCompile(`^cannot unmarshal (!!\w+) into (.+)$`)
)

// addYAML turns an error from yaml.v3 into positioned errors. Values quoted
// by yaml.v3 are dropped: they could be secrets.
func (c *collector) addYAML(err error, fallbackLine int, ck *checker) {
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for _, m := range msgs {
		line := fallbackLine
		if sm := yamlLineRe.FindStringSubmatch(m); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		} else {
			m = strings.TrimPrefix(m, "yaml: ")
		}
		m = yamlValueRe.ReplaceAllString(m, "")
		if sm := unmarshalRe.FindStringSubmatch(m); sm != nil {
			want := describeType(sm[2])
			if t := ck.typeAt(line); t != nil && want == sm[2] {
				if k := deref(t).Kind(); k == reflect.Struct || k == reflect.Map {
					want = "a mapping"
				}
			}
			m = fmt.Sprintf("want %s, got %s", want, describeTag(sm[1]))
		}
		if p := ck.pathAt(line); p != "" {
			m = p + ": " + m
		}
		c.add(line, "%s", m)
	}
}

func describeTag(tag string) string {
	switch tag {
	case "!!str":
		return "a string"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "true/false"
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!null":
		return "nothing"
	case "!!timestamp":
		return "a timestamp"
	}
	return tag
}

func describeType(t string) string {
	switch {
	case t == "time.Duration" || t == "config.Duration":
		return "a duration such as 30s or 5m"
	case t == "string" || t == "vendors.Secret":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	}
	return t
}
