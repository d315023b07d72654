package mte

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// A minimal strict JSON (RFC 8259) reader for the three small objects this
// package parses (pairRequest, pairResponse, pathname request). It exists
// because encoding/json's Decoder.Token costs more than the ML-KEM
// encapsulation on 2–4 KiB pairing messages, and Unmarshal cannot detect
// duplicate or differently-cased keys. It reads borrowed bytes, never
// panics, and rejects invalid UTF-8 and nesting deeper than maxJSONDepth.

const maxJSONDepth = 32

type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (s *jsonScanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// jsonString is a JSON string as it appears in the input: raw is the bytes
// between the quotes, aliasing the scanned input (valid as long as it is),
// and esc reports whether raw holds escapes, in which case appendTo must be
// used to get the value. A jsonString from rawStr is known to be valid.
type jsonString struct {
	raw []byte
	esc bool
}

// appendTo appends the string's value to dst. Without escapes that is raw;
// with escapes the value is never longer than raw, so a dst with len(raw)
// spare capacity never grows.
func (v jsonString) appendTo(dst []byte) []byte {
	if !v.esc {
		return append(dst, v.raw...)
	}
	s := jsonScanner{b: v.raw}
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c != '\\' {
			dst = append(dst, c)
			s.i++
			continue
		}
		r, ok := s.escape()
		if !ok { // rawStr validated v: never
			return dst
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// equal reports whether the string's value is name, without allocating.
func (v jsonString) equal(name string) bool {
	if !v.esc {
		return string(v.raw) == name
	}
	if len(v.raw) > 6*len(name) { // each value byte takes at most 6 raw bytes (\u0041)
		return false
	}
	var buf [160]byte // the value is never longer than raw
	if len(v.raw) > len(buf) {
		return string(v.appendTo(nil)) == name
	}
	return string(v.appendTo(buf[:0])) == name
}

// str reads a string (after optional whitespace) and returns its value.
func (s *jsonScanner) str() (string, bool) {
	v, ok := s.rawStr()
	if !ok {
		return "", false
	}
	return v.String(), true
}

// String returns the string's value.
func (v jsonString) String() string {
	if !v.esc {
		return string(v.raw)
	}
	return string(v.appendTo(make([]byte, 0, len(v.raw))))
}

// rawStr reads and validates a string (after optional whitespace) without
// decoding or copying it. The value's UTF-8 validity is checked on raw:
// escapes are ASCII and decode to whole runes, so raw and value are either
// both valid or both invalid.
func (s *jsonScanner) rawStr() (jsonString, bool) {
	if !s.consume('"') {
		return jsonString{}, false
	}
	start := s.i
	// Fast path for the long base64 values: printable ASCII up to the
	// closing quote, no escapes.
	if n := bytes.IndexByte(s.b[s.i:], '"'); n >= 0 {
		raw := s.b[s.i : s.i+n]
		if printableASCII(raw) && bytes.IndexByte(raw, '\\') < 0 {
			s.i += n + 1
			return jsonString{raw: raw}, true
		}
	}
	esc := false
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if !utf8.Valid(raw) {
				return jsonString{}, false
			}
			return jsonString{raw: raw, esc: esc}, true
		case c < 0x20:
			return jsonString{}, false
		case c == '\\':
			if _, ok := s.escape(); !ok {
				return jsonString{}, false
			}
			esc = true
		default:
			s.i++
		}
	}
	return jsonString{}, false
}

// printableASCII reports whether every byte of b is in 0x20..0x7f, eight
// bytes at a time: for words whose bytes are all below 0x80, w - 0x20…20
// sets a byte's top bit exactly when some byte is below 0x20.
func printableASCII(b []byte) bool {
	const lo, hi = 0x2020202020202020, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if (w|(w-lo))&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

// escape reads one escape sequence at s.i (which holds the backslash) and
// returns the rune it stands for. A \u surrogate pair combines into one
// rune; a lone surrogate becomes U+FFFD (as encoding/json does), and a high
// surrogate followed by a \u escape that does not pair with it leaves that
// escape to be read on its own.
func (s *jsonScanner) escape() (rune, bool) {
	if s.i+1 >= len(s.b) {
		return 0, false
	}
	e := s.b[s.i+1]
	s.i += 2
	switch e {
	case '"', '\\', '/':
		return rune(e), true
	case 'b':
		return '\b', true
	case 'f':
		return '\f', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case 'u':
		r, ok := s.hex4()
		if !ok {
			return 0, false
		}
		if !utf16.IsSurrogate(r) {
			return r, true
		}
		if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
			save := s.i
			s.i += 2
			r2, ok := s.hex4()
			if !ok {
				return 0, false
			}
			if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
				return c, true
			}
			s.i = save
		}
		return utf8.RuneError, true
	}
	return 0, false
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}

// skipValue skips any JSON value.
func (s *jsonScanner) skipValue(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.rawStr()
		return ok
	case c == '{':
		s.i++
		if s.consume('}') {
			return true
		}
		for {
			if _, ok := s.rawStr(); !ok || !s.consume(':') || !s.skipValue(depth+1) {
				return false
			}
			if s.consume('}') {
				return true
			}
			if !s.consume(',') {
				return false
			}
		}
	case c == '[':
		s.i++
		if s.consume(']') {
			return true
		}
		for {
			if !s.skipValue(depth + 1) {
				return false
			}
			if s.consume(']') {
				return true
			}
			if !s.consume(',') {
				return false
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

func (s *jsonScanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScanner) number() bool {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return false
		}
	}
	return true
}

func (s *jsonScanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}
