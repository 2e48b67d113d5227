package config

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxSecretFile bounds what a *_file key reads.
const maxSecretFile = 1 << 20

// resolveFiles replaces "foo_file: /path" by "foo: <file content>" wherever
// the target struct has a field foo and no field foo_file (so ca_file stays a
// path). It is driven by the target type, the same way at the top level and
// inside an account. Empty or null *_file values count as unset.
func resolveFiles(n *yaml.Node, t reflect.Type, path string, c *collector, done map[checkKey]bool) {
	n = resolve(n)
	if n == nil {
		return
	}
	t = deref(t)
	if opaque(t) || done[checkKey{n, t}] {
		return
	}
	done[checkKey{n, t}] = true
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return
		}
		sf := fieldsOf(t)
		fileKeys(n, sf, path, c)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if ft, ok := sf.fields[n.Content[i].Value]; ok {
				resolveFiles(n.Content[i+1], ft, joinPath(path, n.Content[i].Value), c, done)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				resolveFiles(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), c, done)
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				resolveFiles(item, t.Elem(), path, c, done)
			}
		}
	}
}

// fileKeys rewrites the *_file pairs of one mapping.
func fileKeys(n *yaml.Node, sf structFields, path string, c *collector) {
	index := map[string]int{} // key → position of its pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		if _, dup := index[n.Content[i].Value]; !dup {
			index[n.Content[i].Value] = i
		}
	}
	drop := map[int]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], resolve(n.Content[i+1])
		base, ok := strings.CutSuffix(key.Value, "_file")
		if !ok || base == "" {
			continue
		}
		if _, isField := sf.fields[key.Value]; isField {
			continue
		}
		if _, ok := sf.fields[base]; !ok {
			continue // unknown key: the checker reports it
		}
		p := joinPath(path, key.Value)
		if isNull(val) {
			drop[i] = true
			continue
		}
		if val.Kind != yaml.ScalarNode {
			c.add(key.Line, "%s: want a file path", p)
			continue
		}
		if j, both := index[base]; both {
			if !isNull(n.Content[j+1]) {
				c.add(key.Line, "%s and %s are both set; keep one", joinPath(path, base), key.Value)
				continue
			}
			drop[j] = true
		}
		content, err := readSecretFile(val.Value)
		if err != nil {
			c.add(key.Line, "%s: %v", p, err)
			continue
		}
		n.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: base, Line: key.Line, Column: key.Column}
		n.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: content, Line: val.Line, Column: val.Column}
	}
	if len(drop) == 0 {
		return
	}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !drop[i] {
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
	}
	n.Content = kept
}

// readSecretFile returns a regular file's content without trailing newlines.
// Errors name the file, never its content.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("secret file %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read secret file %s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFile)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
