package mte

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePathname(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{`{"pathname":"/chat?room=dogs"}`, "/chat?room=dogs", ""},
		{`{"pathname":"\/ws\/private?token=123"}`, "/ws/private?token=123", ""},
		{`{"pathname":"/caf%C3%A9 room"}`, "/caf%C3%A9 room", ""},
		{`{"pathname":"/café room"}`, "/café room", ""},
		{`{"pathname":""}`, "", ""},
		{`{"pathname":"?token=1"}`, "?token=1", ""},
		{` {"other":1, "pathname":"/a"} `, "/a", ""},
		{`{}`, "", "mte: pathname request lacks field pathname"},
		{`{"pathname":1}`, "", "mte: pathname request field pathname is not a string"},
		{`{"pathname":"/a","pathname":"/b"}`, "", "mte: pathname request has duplicate field pathname"},
		{`"/a"`, "", "mte: pathname request is not a JSON object"},
		{`{"pathname":"@evil.com/"}`, "", "mte: pathname must be empty or start with / or ?"},
		{`{"pathname":".evil.com"}`, "", "mte: pathname must be empty or start with / or ?"},
		{`{"pathname":"/a\r\nHost: x"}`, "", "mte: pathname has control byte 0xd at offset 2"},
		{`{"pathname":"/` + strings.Repeat("a", MaxPathnameRequest) + `"}`, "", "mte: pathname request is 8208 bytes, limit 8192"},
	}
	for _, tc := range tests {
		got, err := ParsePathname([]byte(tc.in))
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("%s: %q %v", tc.in, got, err)
			}
			continue
		}
		if err == nil || err.Error() != tc.err || !errors.Is(err, ErrBadPathname) {
			t.Errorf("%s: %v, want %q", tc.in[:min(len(tc.in), 40)], err, tc.err)
		}
	}
}
