package codec

import "bytes"

// checkHost validates a Host header value (RFC 9110 §7.2: uri-host
// [ ":" port ], RFC 3986 §3.2.2–3.2.3), already known to hold only classHost
// bytes. The host is a bracketed IPv6 address or a non-empty reg-name (which
// covers IPv4 addresses); IPvFuture and zone identifiers are refused. A
// port, when the colon is present, is 1 to 5 digits of value 1 to 65535. It
// returns nil, errBadHost or errBadHostPort, and looks at v in place.
// An empty value is left to ParseRequest ("missing Host header").
func checkHost(v []byte) error {
	if len(v) == 0 {
		return nil
	}
	var host, rest []byte
	if v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 0 || !validIPv6(v[1:end]) {
			return errBadHost
		}
		host, rest = v[:end+1], v[end+1:]
	} else {
		i := bytes.IndexByte(v, ':')
		if i < 0 {
			i = len(v)
		}
		host, rest = v[:i], v[i:]
		for _, c := range host {
			if c == '[' || c == ']' {
				return errBadHost
			}
		}
	}
	if len(host) == 0 {
		return errBadHost
	}
	if len(rest) == 0 {
		return nil
	}
	if rest[0] != ':' {
		return errBadHost
	}
	if !validPort(rest[1:]) {
		return errBadHostPort
	}
	return nil
}

// validPort reports whether p is 1 to 5 digits with a value of 1 to 65535.
func validPort(p []byte) bool {
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if !isDigit(c) {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

// validIPv6 reports whether b is an IPv6address (RFC 3986 §3.2.2): eight
// pieces of 1 to 4 hex digits separated by ':', at most one "::" standing
// for one or more zero pieces, and optionally an IPv4 address in place of
// the last two pieces.
func validIPv6(b []byte) bool {
	pieces := 0
	ellipsis := false
	i := 0
	switch {
	case len(b) >= 2 && b[0] == ':' && b[1] == ':':
		ellipsis, i = true, 2
	case len(b) > 0 && b[0] == ':':
		return false
	}
	for i < len(b) {
		j := i
		for j < len(b) && isHex(b[j]) {
			j++
		}
		if j < len(b) && b[j] == '.' {
			if !validIPv4(b[i:]) {
				return false
			}
			pieces += 2
			break
		}
		if j == i || j-i > 4 {
			return false
		}
		pieces++
		if j == len(b) {
			break
		}
		if b[j] != ':' {
			return false
		}
		i = j + 1
		if i < len(b) && b[i] == ':' {
			if ellipsis {
				return false
			}
			ellipsis = true
			i++
		} else if i == len(b) {
			return false // a single trailing colon
		}
	}
	if ellipsis {
		return pieces <= 7
	}
	return pieces == 8
}

// validIPv4 reports whether b is a dotted-decimal IPv4 address: four
// decimal octets of 0 to 255 without leading zeros.
func validIPv4(b []byte) bool {
	octets := 0
	for i := 0; i < len(b); {
		j := i
		n := 0
		for j < len(b) && isDigit(b[j]) && j-i < 3 {
			n = n*10 + int(b[j]-'0')
			j++
		}
		if j == i || n > 255 || (b[i] == '0' && j-i > 1) {
			return false
		}
		octets++
		if j == len(b) {
			break
		}
		if b[j] != '.' || octets == 4 || j+1 == len(b) {
			return false
		}
		i = j + 1
	}
	return octets == 4
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
