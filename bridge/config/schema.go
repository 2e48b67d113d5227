package config

import (
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// structFields is what yaml.v3 accepts in a mapping for a struct type.
type structFields struct {
	fields    map[string]reflect.Type
	inlineMap bool // a ",inline" map takes any other key
}

func (s structFields) names() []string {
	out := make([]string, 0, len(s.fields))
	for k := range s.fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fieldsOf mirrors yaml.v3's getStructInfo: yaml tag name or lowercased field
// name, "-" skipped, ",inline" structs flattened.
func fieldsOf(t reflect.Type) structFields {
	s := structFields{fields: map[string]reflect.Type{}}
	var add func(t reflect.Type, depth int)
	add = func(t reflect.Type, depth int) {
		if depth > 8 {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.PkgPath != "" && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "" && !strings.Contains(string(f.Tag), ":") {
				tag = string(f.Tag)
			}
			if tag == "-" {
				continue
			}
			name, flags, _ := strings.Cut(tag, ",")
			if strings.Contains(","+flags+",", ",inline,") {
				ft := f.Type
				for ft.Kind() == reflect.Ptr {
					ft = ft.Elem()
				}
				switch ft.Kind() {
				case reflect.Struct:
					add(ft, depth+1)
				case reflect.Map:
					s.inlineMap = true
				}
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			s.fields[name] = f.Type
		}
	}
	add(t, 0)
	return s
}

var (
	nodeType          = reflect.TypeOf(yaml.Node{})
	unmarshalerType   = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	obsoleteUnmarshal = reflect.TypeOf((*interface {
		UnmarshalYAML(func(any) error) error
	})(nil)).Elem()
)

// opaque reports types whose keys yaml.v3 does not check against fields:
// they decode themselves or take anything.
func opaque(t reflect.Type) bool {
	if t == nodeType || t.Kind() == reflect.Interface {
		return true
	}
	pt := reflect.PointerTo(t)
	return pt.Implements(unmarshalerType) || pt.Implements(obsoleteUnmarshal)
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	return t
}

// resolve follows aliases and documents to the node that holds the data.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 64; i++ {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!null" || n.Value == "")
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// checker rejects keys the target type does not have (yaml.v3's KnownFields,
// but usable on a node and with the file's own line numbers) and records
// where each key stands, for messages.
type checker struct {
	c     *collector
	lines map[string]int       // path ("mqtt.url") → line of its key
	paths map[int]string       // line → path of the first key on it
	types map[int]reflect.Type // line → the type its value decodes into
	// valPaths and valTypes hold the same for values' lines.
	valPaths map[int]string
	valTypes map[int]reflect.Type
	done     map[checkKey]bool
}

type checkKey struct {
	n *yaml.Node
	t reflect.Type
}

func newChecker(c *collector) *checker {
	return &checker{c: c, lines: map[string]int{}, paths: map[int]string{}, types: map[int]reflect.Type{},
		valPaths: map[int]string{}, valTypes: map[int]reflect.Type{}, done: map[checkKey]bool{}}
}

// record notes a key's path at its line and, as a fallback, at its value's
// line (a block value starts on a later line, and yaml.v3 reports the
// value's); on any line the first key found there wins.
func (k *checker) record(path string, key, val *yaml.Node, t reflect.Type) {
	if _, ok := k.lines[path]; !ok {
		k.lines[path] = key.Line
	}
	if _, ok := k.paths[key.Line]; !ok {
		k.paths[key.Line] = path
		k.types[key.Line] = t
	}
	if _, ok := k.valPaths[val.Line]; !ok {
		k.valPaths[val.Line] = path
		k.valTypes[val.Line] = t
	}
}

func (k *checker) pathAt(line int) string {
	if k == nil {
		return ""
	}
	if p, ok := k.paths[line]; ok {
		return p
	}
	return k.valPaths[line]
}

func (k *checker) typeAt(line int) reflect.Type {
	if k == nil {
		return nil
	}
	if t, ok := k.types[line]; ok {
		return t
	}
	return k.valTypes[line]
}

// line returns the line of path's key, else of its nearest recorded parent.
func (k *checker) line(path string) int {
	for {
		if l, ok := k.lines[path]; ok {
			return l
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
}

func (k *checker) check(n *yaml.Node, t reflect.Type, path string) {
	n = resolve(n)
	if n == nil {
		return
	}
	t = deref(t)
	if opaque(t) {
		return
	}
	ck := checkKey{n, t}
	if k.done[ck] { // aliases share nodes; check each once
		return
	}
	k.done[ck] = true
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			k.checkStruct(n, t, fieldsOf(t), path)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			p := joinPath(path, key.Value)
			k.record(p, key, val, t.Elem())
			k.check(val, t.Elem(), p)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for _, item := range n.Content {
			k.check(item, t.Elem(), path)
		}
	}
}

func (k *checker) checkStruct(n *yaml.Node, t reflect.Type, sf structFields, path string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if isMergeKey(key) {
			k.checkMerge(val, t, sf, path)
			continue
		}
		name := key.Value
		p := joinPath(path, name)
		ft, ok := sf.fields[name]
		if !ok {
			if !sf.inlineMap {
				k.unknown(key, path, sf)
			}
			continue
		}
		k.record(p, key, val, ft)
		k.check(val, ft, p)
	}
}

func (k *checker) checkMerge(v *yaml.Node, t reflect.Type, sf structFields, path string) {
	v = resolve(v)
	if v == nil {
		return
	}
	merged := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		merged = v.Content
	}
	for _, m := range merged {
		m = resolve(m)
		// done also ends merge cycles (&a {<<: *a}).
		if m == nil || m.Kind != yaml.MappingNode || k.done[checkKey{m, t}] {
			continue
		}
		k.done[checkKey{m, t}] = true
		k.checkStruct(m, t, sf, path)
	}
}

func (k *checker) unknown(key *yaml.Node, path string, sf structFields) {
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	name := key.Value
	if len(name) > 60 {
		name = name[:57] + "..."
	}
	known := sf.names()
	if len(known) == 0 {
		k.c.add(key.Line, "unknown key %q %s", name, where)
		return
	}
	k.c.add(key.Line, "unknown key %q %s (known: %s)", name, where, strings.Join(known, ", "))
}

// copyNode deep-copies a tree, keeping shared (aliased) nodes shared.
func copyNode(n *yaml.Node, memo map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := memo[n]; ok {
		return c
	}
	c := new(yaml.Node)
	memo[n] = c
	*c = *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			c.Content[i] = copyNode(ch, memo)
		}
	}
	c.Alias = copyNode(n.Alias, memo)
	return c
}
