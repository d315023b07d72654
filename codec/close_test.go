package codec

import (
	"strings"
	"testing"
)

func TestParseClosePayload(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		code    uint16
		reason  string
		errCode uint16
		errText string
	}{
		{"empty", "", 1005, nilS, 0, ""},
		{"one byte", "\x03", 0, nilS, 1002, "invalid close payload"},
		{"normal", "\x03\xe8", 1000, "", 0, ""},
		{"normal with reason", "\x03\xe8bye", 1000, "bye", 0, ""},
		{"1003", "\x03\xeb", 1003, "", 0, ""},
		{"1007", "\x03\xef", 1007, "", 0, ""},
		{"1011", "\x03\xf3", 1011, "", 0, ""},
		{"1014", "\x03\xf6", 1014, "", 0, ""},
		{"3000", "\x0b\xb8", 3000, "", 0, ""},
		{"4999 utf8", "\x13\x87caf\xc3\xa9", 4999, "café", 0, ""},
		{"0", "\x00\x00", 0, nilS, 1002, "invalid close code"},
		{"999", "\x03\xe7", 0, nilS, 1002, "invalid close code"},
		{"1004", "\x03\xec", 0, nilS, 1002, "invalid close code"},
		{"1005", "\x03\xed", 0, nilS, 1002, "invalid close code"},
		{"1006", "\x03\xee", 0, nilS, 1002, "invalid close code"},
		{"1015", "\x03\xf7", 0, nilS, 1002, "invalid close code"},
		{"1016", "\x03\xf8", 0, nilS, 1002, "invalid close code"},
		{"2999", "\x0b\xb7", 0, nilS, 1002, "invalid close code"},
		{"5000", "\x13\x88", 0, nilS, 1002, "invalid close code"},
		{"65535", "\xff\xff", 0, nilS, 1002, "invalid close code"},
		{"bad utf8", "\x03\xe8\xff", 0, nilS, 1007, "invalid UTF-8 in close reason"},
		{"truncated utf8", "\x03\xe8caf\xc3", 0, nilS, 1007, "invalid UTF-8 in close reason"},
	}
	for _, tt := range tests {
		code, reason, err := ParseClosePayload([]byte(tt.payload))
		if tt.errCode == 0 {
			if err != nil || code != tt.code || s(reason) != tt.reason {
				t.Errorf("%s: %d %q %v; want %d %q", tt.name, code, reason, err, tt.code, tt.reason)
			}
			continue
		}
		ce, ok := err.(*CloseError)
		if !ok || ce.Code != tt.errCode || ce.Reason != tt.errText || code != 0 || reason != nil {
			t.Errorf("%s: %d %q %v; want close %d %q", tt.name, code, reason, err, tt.errCode, tt.errText)
		}
	}
}

func TestValidCloseCodeExhaustive(t *testing.T) {
	n := 0
	for c := 0; c <= 0xffff; c++ {
		if ValidCloseCode(uint16(c)) {
			n++
		}
	}
	// 1000-1003 (4) + 1007-1014 (8) + 3000-4999 (2000).
	if n != 2012 {
		t.Errorf("%d valid codes, want 2012", n)
	}
}

func TestAppendClosePayload(t *testing.T) {
	tests := []struct {
		code   uint16
		reason string
		want   string
	}{
		{1000, "", "\x03\xe8"},
		{1001, "going away", "\x03\xe9going away"},
		{1005, "ignored", ""},
		{4000, strings.Repeat("a", 123), "\x0f\xa0" + strings.Repeat("a", 123)},
		{4000, strings.Repeat("a", 124), "\x0f\xa0" + strings.Repeat("a", 123)},
		// "é" is 2 bytes: 122 a's + é would end at 124, so é is dropped whole.
		{1000, strings.Repeat("a", 122) + "é", "\x03\xe8" + strings.Repeat("a", 122)},
		// 121 a's + é ends exactly at 123 and is kept.
		{1000, strings.Repeat("a", 121) + "éz", "\x03\xe8" + strings.Repeat("a", 121) + "é"},
		// A 4-byte rune straddling 123 is dropped whole.
		{1000, strings.Repeat("a", 121) + "😀", "\x03\xe8" + strings.Repeat("a", 121)},
	}
	for _, tt := range tests {
		got := AppendClosePayload([]byte("x"), tt.code, tt.reason)
		if string(got) != "x"+tt.want {
			t.Errorf("%d %q: %q, want %q", tt.code, tt.reason, got, "x"+tt.want)
		}
		if len(got)-1 > MaxControlPayload {
			t.Errorf("payload too long: %d", len(got)-1)
		}
		if tt.code != 1005 {
			if _, _, err := ParseClosePayload(got[1:]); err != nil {
				t.Errorf("round trip: %v", err)
			}
		}
	}
}

func TestForwardableCode(t *testing.T) {
	tests := []struct{ in, want uint16 }{
		{1000, 1000}, {1001, 1001}, {1002, 1002}, {1003, 1003},
		{1005, 1005}, {1006, 1001}, {1007, 1007}, {1011, 1011}, {1014, 1014},
		{1015, 1011}, {1004, 1011}, {0, 1011}, {2000, 1011}, {3000, 3000}, {4999, 4999}, {5000, 1011},
	}
	for _, tt := range tests {
		if got := ForwardableCode(tt.in); got != tt.want {
			t.Errorf("ForwardableCode(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
