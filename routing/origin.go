package routing

import (
	"bytes"
	"strings"
)

// maxOriginLen bounds a configured origin; a longer Origin header cannot
// match an exact or wildcard entry.
const maxOriginLen = 320

// wildOrigin is a "scheme://*.domain[:port]" entry.
type wildOrigin struct {
	scheme string
	suffix string // ".domain"
	port   string // "" for the scheme's default port
}

// addOrigin validates one allowedOrigins entry and adds it to r, returning
// the problem or "".
func (r *Route) addOrigin(o string) string {
	switch o {
	case "*":
		r.allowAll = true
		return ""
	case "null":
		r.allowNull = true
		return ""
	}
	lo := strings.ToLower(o)
	scheme, hostport, ok := strings.Cut(lo, "://")
	if !ok || !validScheme(scheme) {
		return `not an origin (want "*", "null", scheme://host[:port] or scheme://*.domain[:port])`
	}
	if i := strings.IndexAny(hostport, "/?#@"); i >= 0 {
		return "must not have a path, query, fragment or userinfo"
	}
	host, port := hostport, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || !validIPv6(host[1:end]) {
			return "invalid IPv6 literal"
		}
		if rest := host[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "invalid IPv6 literal"
			}
			port = rest[1:]
		}
		host = host[:end+1]
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	if host == "" {
		return "empty host"
	}
	if port != "" && !validPort(port) {
		return "invalid port " + port + " (want 1-65535)"
	}
	if port == defaultPort(scheme) {
		port = ""
	}
	if strings.HasPrefix(host, "*.") {
		if p := validHostname(host[2:]); p != "" {
			return p
		}
		r.wildOrigins = append(r.wildOrigins, wildOrigin{scheme: scheme, suffix: host[1:], port: port})
		return ""
	}
	if host[0] != '[' {
		if strings.IndexByte(host, '*') >= 0 {
			return `wildcard origins must begin with "*." (scheme://*.domain)`
		}
		if p := validHostname(host); p != "" {
			return p
		}
	}
	norm := scheme + "://" + host
	if port != "" {
		norm += ":" + port
	}
	if len(norm) > maxOriginLen {
		return "origin too long"
	}
	if r.origins == nil {
		r.origins = make(map[string]struct{})
	}
	r.origins[norm] = struct{}{}
	return ""
}

func validScheme(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// AllowOrigin reports whether an upgrade with this Origin header value (nil
// or empty when absent) may use the route. It does not allocate and does not
// keep origin.
func (r *Route) AllowOrigin(origin []byte) bool {
	if r.allowAll {
		return true
	}
	if len(origin) == 0 || len(origin) > maxOriginLen {
		return false
	}
	if string(origin) == "null" {
		return r.allowNull
	}
	var buf [maxOriginLen]byte
	b := buf[:copy(buf[:], origin)]
	lower(b)
	i := bytes.Index(b, []byte("://"))
	if i <= 0 {
		return false
	}
	scheme, hostport := b[:i], b[i+3:]
	if len(hostport) == 0 || bytes.ContainsAny(hostport, "/?#@") {
		return false
	}
	host, port := hostport, []byte(nil)
	if host[0] == '[' {
		end := bytes.IndexByte(host, ']')
		if end < 0 {
			return false
		}
		if rest := host[end+1:]; len(rest) != 0 {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
		}
		host = host[:end+1]
	} else if j := bytes.LastIndexByte(host, ':'); j >= 0 {
		host, port = host[:j], host[j+1:]
	}
	if string(port) == defaultPort(string(scheme)) {
		port = nil
	}
	norm := b[:i+3+len(host)]
	if len(port) != 0 {
		norm = b[:i+3+len(host)+1+len(port)]
	}
	if _, ok := r.origins[string(norm)]; ok {
		return true
	}
	for _, w := range r.wildOrigins {
		if string(scheme) == w.scheme && string(port) == w.port &&
			len(host) > len(w.suffix) && string(host[len(host)-len(w.suffix):]) == w.suffix {
			return true
		}
	}
	return false
}
