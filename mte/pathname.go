package mte

import (
	"strconv"
)

// MaxPathnameRequest caps the action 4 plaintext before parsing.
const MaxPathnameRequest = 8 << 10

var pathnameFields = [1]string{"pathname"}

// ParsePathname parses the decoded action 4 payload {"pathname":"..."} and
// returns the pathname (path and query) to append to the upstream base URL.
//
// JSON escapes such as \/ are decoded; the value is returned as sent, raw or
// percent-decoded (SDKs differ), and may be empty. Because the engine joins
// base URL + pathname, a non-empty pathname must start with '/' or '?' (so
// it cannot change the upstream host, e.g. "@evil" or ".evil.com") and must
// not contain ASCII control characters (CR/LF could split the upstream
// request line). The caller must still escape characters such as spaces
// that are invalid in a request target. Other fields are ignored.
func ParsePathname(plaintext []byte) (string, error) {
	if len(plaintext) > MaxPathnameRequest {
		return "", detail("mte: pathname request is "+strconv.Itoa(len(plaintext))+
			" bytes, limit "+strconv.Itoa(MaxPathnameRequest), ErrBadPathname)
	}
	v, err := parseFields(plaintext, "pathname request", pathnameFields[:], ErrBadPathname)
	if err != nil {
		return "", err
	}
	p := v[0]
	if p != "" && p[0] != '/' && p[0] != '?' {
		return "", detail("mte: pathname must be empty or start with / or ?", ErrBadPathname)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return "", detail("mte: pathname has control byte 0x"+strconv.FormatUint(uint64(c), 16)+
				" at offset "+strconv.Itoa(i), ErrBadPathname)
		}
	}
	return p, nil
}
