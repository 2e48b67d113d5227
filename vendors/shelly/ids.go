package shelly

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// normID turns a device id as any Shelly channel sends it (hex string,
// decimal string, JSON number) into the canonical lowercase hex form used as
// the MQTT id. known reports whether a canonical id is already known; it
// settles the ambiguous case of a 6- or 12-digit decimal string (which is
// also valid hex). It returns "" for an unusable id.
func normID(raw string, known func(string) bool) string {
	s := strings.TrimSpace(raw)
	if s == "" || len(s) > 64 {
		return ""
	}
	if s[0] == 'X' || s[0] == 'x' {
		if !printableID(s) {
			return ""
		}
		return s // BLE / virtual devices keep their id verbatim
	}
	if allDigits(s) {
		asHex := strings.ToLower(s)
		if len(s) != 6 && len(s) != 12 {
			if h, ok := decimalToHex(s); ok {
				return h
			}
			return ""
		}
		h, ok := decimalToHex(s)
		if known != nil {
			if known(asHex) {
				return asHex
			}
			if ok && known(h) {
				return h
			}
		}
		return asHex // callbacks and the v2 API use hex
	}
	if allHex(s) {
		return strings.ToLower(s)
	}
	return ""
}

// decimalToHex renders a decimal device number as hex, zero-padded to 6 or
// 12 digits as Shelly ids are.
func decimalToHex(s string) (string, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > 0xffffffffffff {
		return "", false
	}
	h := strconv.FormatUint(n, 16)
	switch {
	case len(h) <= 6:
		h = strings.Repeat("0", 6-len(h)) + h
	case len(h) <= 12:
		h = strings.Repeat("0", 12-len(h)) + h
	}
	return h, true
}

// rawID reads an id that may be a JSON string or number.
func rawID(m json.RawMessage) string {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return ""
	}
	if plainString(m) {
		return string(m[1 : len(m)-1])
	}
	if m[0] == '"' {
		var s string
		if json.Unmarshal(m, &s) != nil {
			return ""
		}
		return s
	}
	var n json.Number
	if json.Unmarshal(m, &n) != nil {
		return ""
	}
	if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
		return ""
	}
	return n.String()
}

// plainString reports whether m is a JSON string that decodes to its bytes
// between the quotes (no escapes, no control characters, valid UTF-8): the
// ids of every frame, read without a second JSON pass.
func plainString(m []byte) bool {
	if len(m) < 2 || m[0] != '"' || m[len(m)-1] != '"' {
		return false
	}
	inner := m[1 : len(m)-1]
	for _, c := range inner {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(inner)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func printableID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

// normHost strips a scheme, path and trailing slash from a Shelly server
// name as users copy it from the app ("https://shelly-42-eu.shelly.cloud/").
func normHost(h string) string {
	h = strings.TrimSpace(h)
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	if i := strings.IndexAny(h, "/?#"); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(h)
}

// validHost accepts a bare host name or IPv4 literal (normHost output).
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
