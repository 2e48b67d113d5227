package vendorkit

import (
	"encoding/json"
	"strconv"
	"strings"
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
	// Read the whole object before calling fn, so fn never sees a part of a
	// broken frame; a frame's few fields fit in an array on the stack.
	var small [16]rawField
	fields := small[:0]
	done, _ := p.enter(1, '}')
	for !done {
		key, err := p.fieldKey(true)
		if err != nil {
			return err
		}
		p.space()
		start := p.i
		if err := p.skip(1); err != nil {
			return err
		}
		fields = append(fields, rawField{key, b[start:p.i]})
		if done, err = p.next('}'); err != nil {
			return err
		}
	}
	p.space()
	if p.i < len(b) {
		return p.fail("after the value")
	}
	for _, f := range fields {
		if err := fn(f.key, f.raw); err != nil {
			return err
		}
	}
	return nil
}

type rawField struct {
	key string
	raw []byte
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
		return p.readString(false)
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
	m := map[string]any{}
	done, err := p.enter(depth, '}')
	for !done && err == nil {
		key, kerr := p.fieldKey(true)
		if kerr != nil {
			return nil, kerr
		}
		v, verr := p.decode(depth)
		if verr != nil {
			return nil, verr
		}
		m[key] = v
		done, err = p.next('}')
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (p *jsonParser) array(depth int) (any, error) {
	a := []any{}
	done, err := p.enter(depth, ']')
	for !done && err == nil {
		v, verr := p.decode(depth)
		if verr != nil {
			return nil, verr
		}
		a = append(a, v)
		done, err = p.next(']')
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// enter moves past the '{' or '[' that opens a container at depth; done
// says the closing byte followed at once.
func (p *jsonParser) enter(depth int, end byte) (done bool, err error) {
	if depth > maxJSONDepth {
		return false, p.fail("beyond the nesting limit")
	}
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == end {
		p.i++
		return true, nil
	}
	return false, nil
}

// fieldKey reads an object key and the colon after it; without keep it
// only checks the key (skip has no use for it, nor for its interning).
func (p *jsonParser) fieldKey(keep bool) (key string, err error) {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", p.fail("looking for a key")
	}
	if keep {
		key, err = p.readString(true)
	} else {
		err = p.skipString()
	}
	if err != nil {
		return "", err
	}
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != ':' {
		return "", p.fail("after a key")
	}
	p.i++
	return key, nil
}

// next moves past the comma or the closing byte after an element; done
// says it was the closing one.
func (p *jsonParser) next(end byte) (done bool, err error) {
	p.space()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			return false, nil
		case end:
			p.i++
			return true, nil
		}
	}
	return false, p.fail("in a container")
}

func (p *jsonParser) word(w string) error {
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		return p.fail("in a literal")
	}
	p.i += len(w)
	return nil
}

// readString reads a string; keys (intern) share one copy per key. Plain
// ASCII is copied as it is; escapes and other bytes go to encoding/json, so
// invalid UTF-8 and lone surrogates become U+FFFD exactly as Unmarshal
// makes them.
func (p *jsonParser) readString(intern bool) (string, error) {
	start := p.i
	plain, err := p.scanString()
	switch {
	case err != nil:
		return "", err
	case !plain:
		return p.unquote(start, p.i)
	case intern:
		return internKey(p.b[start+1 : p.i-1]), nil
	}
	return string(p.b[start+1 : p.i-1]), nil
}

// jsonKeys holds the object keys decoded so far. A fleet's statuses repeat
// a few hundred keys for every device: sharing one copy of each saves an
// allocation per key and per frame, and the memory of a copy per device.
var jsonKeys Interner

func internKey(b []byte) string { return jsonKeys.Intern(b) }

// skipString moves past a string, checking its escapes.
func (p *jsonParser) skipString() error {
	start := p.i
	plain, err := p.scanString()
	if err == nil && !plain {
		_, err = p.unquote(start, p.i)
	}
	return err
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
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		done, err := p.enter(depth+1, end)
		for !done && err == nil {
			if end == '}' {
				if _, err = p.fieldKey(false); err != nil {
					return err
				}
			}
			if err = p.skip(depth + 1); err != nil {
				return err
			}
			done, err = p.next(end)
		}
		return err
	case c == '"':
		return p.skipString()
	case c == '-' || c >= '0' && c <= '9':
		return p.scanNumber()
	default:
		_, err := p.decode(depth)
		return err
	}
}

// JSONField is where DecodeJSONFields stores the object field named Name:
// Dst is a *string, a *json.RawMessage (a copy of the raw value) or a
// func(raw []byte) error for any other type. (Not a json.Unmarshaler: a
// call through an interface would move the caller's struct to the heap.)
type JSONField struct {
	Name string
	Dst  any
}

// DecodeJSONFields reads the object b into fields as json.Unmarshal reads
// it into a struct with those fields: names match exactly, else ignoring
// case; a repeated key overwrites; unknown keys are skipped. Raw values are
// copied, so b may be reused afterwards.
func DecodeJSONFields(b []byte, fields []JSONField) error {
	return EachJSONField(b, func(key string, raw []byte) error {
		f := jsonFieldFor(fields, key)
		if f == nil {
			return nil
		}
		switch d := f.Dst.(type) {
		case *string:
			return SetJSONString(raw, d)
		case *json.RawMessage:
			*d = append((*d)[:0], raw...)
			return nil
		case func([]byte) error:
			return d(raw)
		}
		return &jsonError{What: "field " + f.Name + " has a destination of an unsupported type"}
	})
}

func jsonFieldFor(fields []JSONField, key string) *JSONField {
	for i := range fields {
		if fields[i].Name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].Name, key) {
			return &fields[i]
		}
	}
	return nil
}

// SetJSONString decodes a raw value into a string field as Unmarshal does:
// null leaves it as it is; anything but a string is an error.
func SetJSONString(raw []byte, dst *string) error {
	if string(raw) == "null" {
		return nil
	}
	if p := (jsonParser{b: raw}); len(raw) > 0 && raw[0] == '"' {
		// The common case, a string of printable ASCII without escapes,
		// copied straight from the input.
		if plain, err := p.scanString(); err == nil && plain && p.i == len(raw) {
			*dst = string(raw[1 : len(raw)-1])
			return nil
		}
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
