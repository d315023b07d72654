package routing

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
)

// maxHostLen bounds a normalised "host:port": a 253-byte name, ':' and five
// digits, with room for a trailing dot. No key is longer, so a longer Host
// header can only match "*".
const maxHostLen = 264

type keyKind int

const (
	keyExact keyKind = iota
	keyWildcard
	keyStar
)

// parseKey validates a DOMAIN_MAP key and returns its normalised form:
// lowercase, trailing dot removed, "*." removed from wildcards.
func parseKey(key string) (keyKind, string, string) {
	k := strings.ToLower(key)
	if k == "*" {
		return keyStar, k, ""
	}
	kind := keyExact
	if strings.HasPrefix(k, "*.") {
		kind, k = keyWildcard, k[2:]
	}
	if strings.IndexByte(k, '*') >= 0 {
		return 0, "", `"*" is allowed only as the whole key or as a leading "*." label`
	}
	host, port, hasPort := k, "", false
	if strings.HasPrefix(k, "[") {
		end := strings.IndexByte(k, ']')
		if end < 0 || kind == keyWildcard || !validIPv6(k[1:end]) {
			return 0, "", "invalid IPv6 literal"
		}
		host = k[:end+1]
		if rest := k[end+1:]; rest != "" {
			if rest[0] != ':' {
				return 0, "", "invalid IPv6 literal"
			}
			port, hasPort = rest[1:], true
		}
	} else {
		if i := strings.LastIndexByte(k, ':'); i >= 0 {
			host, port, hasPort = k[:i], k[i+1:], true
		}
		host = strings.TrimSuffix(host, ".")
		if p := validHostname(host); p != "" {
			return 0, "", p
		}
	}
	if hasPort {
		if !validPort(port) {
			return 0, "", "port " + strconv.Quote(port) + " (want 1-65535)"
		}
		return kind, host + ":" + port, ""
	}
	return kind, host, ""
}

// validHostname checks a lowercase DNS name (letters, digits, '-', '_'),
// returning the problem or "".
func validHostname(h string) string {
	if h == "" {
		return "empty host"
	}
	if len(h) > 253 {
		return "host longer than 253 bytes"
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 {
				return "empty label"
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "character " + strconv.QuoteRune(rune(c)) + " not allowed in host"
		}
		if label++; label > 63 {
			return "label longer than 63 bytes"
		}
	}
	if label == 0 {
		return "empty label"
	}
	return ""
}

func validIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == ""
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// Match returns the route for a Host header value: the exact key with the
// port, the exact key without it, the most specific wildcard, then "*". It
// does not allocate and does not keep host.
func (m *Map) Match(host []byte) (*Route, bool) {
	var buf [maxHostLen]byte
	full, hostLen, ok := normalizeHost(&buf, host)
	if !ok {
		return m.star, m.star != nil
	}
	name := full[:hostLen]
	hasPort := len(full) > hostLen
	if hasPort {
		if r := m.exact[string(full)]; r != nil {
			return r, true
		}
	}
	if r := m.exact[string(name)]; r != nil {
		return r, true
	}
	if len(m.wild) != 0 && len(name) != 0 && name[0] != '[' {
		// The first dot gives the longest suffix, the most specific key.
		for i := 1; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			if hasPort {
				if r := m.wild[string(full[i+1:])]; r != nil {
					return r, true
				}
			}
			if r := m.wild[string(name[i+1:])]; r != nil {
				return r, true
			}
		}
	}
	return m.star, m.star != nil
}

// normalizeHost lowercases host into buf, drops a trailing dot from the name
// and an empty port, and returns "name[:port]" and the name's length. ok is
// false when host cannot match any key except "*".
func normalizeHost(buf *[maxHostLen]byte, host []byte) (full []byte, nameLen int, ok bool) {
	if len(host) == 0 || len(host) > len(buf) {
		return nil, 0, false
	}
	name, port := host, []byte(nil)
	if host[0] == '[' {
		end := bytes.IndexByte(host, ']')
		if end < 0 {
			return nil, 0, false
		}
		name = host[:end+1]
		if rest := host[end+1:]; len(rest) != 0 {
			if rest[0] != ':' {
				return nil, 0, false
			}
			port = rest[1:]
		}
	} else if i := bytes.LastIndexByte(host, ':'); i >= 0 && bytes.IndexByte(host, ':') == i {
		name, port = host[:i], host[i+1:]
	}
	if n := len(name); n > 1 && name[n-1] == '.' && name[0] != '[' {
		name = name[:n-1]
	}
	n := copy(buf[:], name)
	lower(buf[:n])
	nameLen = n
	if len(port) != 0 {
		buf[n] = ':'
		n++
		n += copy(buf[n:], port)
		lower(buf[nameLen:n])
	}
	return buf[:n], nameLen, true
}

func lower(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}
