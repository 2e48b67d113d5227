package vendorkit

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// DecodeJSON decodes one JSON value as json.Unmarshal does into an any:
// objects become map[string]any, arrays []any, strings string, true/false
// bool, null nil, and numbers float64 (json.Number with useNumber). Bytes
// after the value other than white space are an error, as for Unmarshal.
//
// It exists for the per-event paths: it reads the input once, without
// reflection, where Unmarshal validates it first and then decodes it again.
// FuzzDecodeJSON holds it to Unmarshal's results.
func DecodeJSON(b []byte, useNumber bool) (any, error) {
	p := jsonParser{b: b, useNumber: useNumber}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(b) {
		return nil, p.fail("after the value")
	}
	return v, nil
}

// EachJSONField calls fn with the key and the raw value of each field of the
// JSON object b, in order; keys are unescaped, values are valid JSON. Nothing
// is called unless the whole input is one valid object.
func EachJSONField(b []byte, fn func(key string, raw []byte) error) error {
	p := jsonParser{b: b}
	p.space()
	if p.i >= len(b) || b[p.i] != '{' {
		return p.fail("looking for an object")
	}
	// Validate first, so fn never sees a part of a broken frame.
	if err := p.skip(0); err != nil {
		return err
	}
	p.space()
	if p.i < len(b) {
		return p.fail("after the value")
	}
	p.i = 0
	p.space()
	p.i++ // '{'
	for {
		p.space()
		if b[p.i] == '}' {
			return nil
		}
		if b[p.i] == ',' {
			p.i++
			p.space()
		}
		key, err := p.key()
		if err != nil {
			return err
		}
		p.space()
		p.i++ // ':'
		p.space()
		start := p.i
		if err := p.skip(0); err != nil {
			return err
		}
		if err := fn(key, b[start:p.i]); err != nil {
			return err
		}
	}
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

type jsonParser struct {
	b         []byte
	i         int
	useNumber bool
}

// jsonError says where the input stopped being JSON.
type jsonError struct {
	Offset int
	What   string
}

func (e *jsonError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.What
}

func (p *jsonParser) fail(what string) error {
	if p.i >= len(p.b) {
		what = "unexpected end " + what
	} else {
		what = "unexpected " + strconv.QuoteRune(rune(p.b[p.i])) + " " + what
	}
	return &jsonError{Offset: p.i, What: what}
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) { return p.decode(0) }

func (p *jsonParser) decode(depth int) (any, error) {
	p.space()
	if p.i >= len(p.b) {
		return nil, p.fail("looking for a value")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.word("true")
	case c == 'f':
		return false, p.word("false")
	case c == 'n':
		return nil, p.word("null")
	}
	return nil, p.fail("looking for a value")
}

func (p *jsonParser) object(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("beyond the nesting limit")
	}
	p.i++ // '{'
	m := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.fail("looking for a key")
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.fail("after a key")
		}
		p.i++
		v, err := p.decode(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.space()
		if p.i >= len(p.b) {
			return nil, p.fail("in an object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return m, nil
		default:
			return nil, p.fail("in an object")
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("beyond the nesting limit")
	}
	p.i++ // '['
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		v, err := p.decode(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, p.fail("in an array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return a, nil
		default:
			return nil, p.fail("in an array")
		}
	}
}

func (p *jsonParser) word(w string) error {
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		return p.fail("in a literal")
	}
	p.i += len(w)
	return nil
}

// str reads a string. Plain ASCII is copied as it is; escapes and other
// bytes go to encoding/json, so invalid UTF-8 and lone surrogates become
// U+FFFD exactly as Unmarshal makes them.
func (p *jsonParser) str() (string, error) {
	start := p.i
	plain, err := p.scanString()
	if err != nil {
		return "", err
	}
	if plain {
		return string(p.b[start+1 : p.i-1]), nil
	}
	return p.unquote(start, p.i)
}

// key reads an object key, shared with every earlier use of the same key.
func (p *jsonParser) key() (string, error) {
	start := p.i
	plain, err := p.scanString()
	if err != nil {
		return "", err
	}
	if plain {
		return internKey(p.b[start+1 : p.i-1]), nil
	}
	return p.unquote(start, p.i)
}

// internedKeys holds the object keys decoded so far. A fleet's statuses
// repeat a few hundred keys for every device: sharing one copy of each
// saves an allocation per key and per frame, and the memory of a copy per
// device. Readers take no lock: a new key copies the map (new keys stop
// coming once every kind of device has reported). Bounded, so odd input
// cannot grow it.
var (
	internedKeys   atomic.Pointer[map[string]string]
	internedKeysMu sync.Mutex
)

const (
	maxInternedKeys   = 4096
	maxInternedKeyLen = 32
)

func internKey(b []byte) string {
	if len(b) > maxInternedKeyLen {
		return string(b)
	}
	if m := internedKeys.Load(); m != nil {
		if s, ok := (*m)[string(b)]; ok {
			return s
		}
	}
	s := string(b)
	internedKeysMu.Lock()
	defer internedKeysMu.Unlock()
	next := map[string]string{}
	if old := internedKeys.Load(); old != nil {
		if v, ok := (*old)[s]; ok { // added meanwhile
			return v
		}
		if len(*old) >= maxInternedKeys {
			return s
		}
		next = maps.Clone(*old)
	}
	next[s] = s
	internedKeys.Store(&next)
	return s
}

// scanString moves past a string (p.i at its opening quote); plain says it
// holds only printable ASCII without escapes.
func (p *jsonParser) scanString() (plain bool, err error) {
	plain = true
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return plain, nil
		case c == '\\':
			plain = false
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			p.i = j
			return false, p.fail("in a string")
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	p.i = len(p.b)
	return false, p.fail("in a string")
}

func (p *jsonParser) unquote(start, end int) (string, error) {
	var s string
	if err := json.Unmarshal(p.b[start:end], &s); err != nil {
		p.i = start
		return "", p.fail("in a string")
	}
	return s, nil
}

// number reads a number.
func (p *jsonParser) number() (any, error) {
	start := p.i
	if err := p.scanNumber(); err != nil {
		return nil, err
	}
	lit := string(p.b[start:p.i])
	if p.useNumber {
		return json.Number(lit), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil { // out of float64's range, which Unmarshal refuses too
		return nil, &jsonError{Offset: start, What: "number " + lit + " out of range"}
	}
	return f, nil
}

// scanNumber moves past a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) scanNumber() error {
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.digits() == 0:
		return p.fail("in a number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return p.fail("in a number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return p.fail("in a number")
		}
	}
	return nil
}

func (p *jsonParser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// skip moves past one value, checking it as decode would, without building it.
func (p *jsonParser) skip(depth int) error {
	p.space()
	if p.i >= len(p.b) {
		return p.fail("looking for a value")
	}
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		if depth+1 > maxJSONDepth {
			return p.fail("beyond the nesting limit")
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == end {
			p.i++
			return nil
		}
		for {
			if end == '}' {
				p.space()
				if p.i >= len(p.b) || p.b[p.i] != '"' {
					return p.fail("looking for a key")
				}
				if err := p.skip(depth + 1); err != nil { // the key
					return err
				}
				p.space()
				if p.i >= len(p.b) || p.b[p.i] != ':' {
					return p.fail("after a key")
				}
				p.i++
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.space()
			if p.i >= len(p.b) {
				return p.fail("in a container")
			}
			switch p.b[p.i] {
			case ',':
				p.i++
			case end:
				p.i++
				return nil
			default:
				return p.fail("in a container")
			}
		}
	case c == '"':
		start := p.i
		plain, err := p.scanString()
		if err == nil && !plain {
			_, err = p.unquote(start, p.i) // checks the escapes
		}
		return err
	case c == '-' || c >= '0' && c <= '9':
		return p.scanNumber()
	default:
		_, err := p.decode(depth)
		return err
	}
}

// JSONName reports whether an object key selects the struct field whose JSON
// name is name, as Unmarshal matches them: exactly, else ignoring case.
func JSONName(key, name string) bool { return key == name || strings.EqualFold(key, name) }

// SetJSONString decodes a raw value into a string field as Unmarshal does:
// null leaves it as it is; anything but a string is an error.
func SetJSONString(raw []byte, dst *string) error {
	if string(raw) == "null" {
		return nil
	}
	v, err := DecodeJSON(raw, false)
	if err != nil {
		return err
	}
	s, ok := v.(string)
	if !ok {
		return &jsonError{What: "a string field holds another kind of value"}
	}
	*dst = s
	return nil
}
