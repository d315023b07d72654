package routing

import (
	"bytes"
	"net"
	"net/url"
	"strings"
)

// MaxRequestURI bounds Target.RequestURI (path plus query).
const MaxRequestURI = 8 << 10

// maxPathname bounds the work resolve does on a client pathname before the
// result is measured (dot segments can shrink a long input).
const maxPathname = 2 * MaxRequestURI

// Target is a resolved upstream: what to dial and what to put in the
// proxy's WebSocket request to the upstream. Addr, TLS and ServerName are
// what upstream.Manager dials (the engine copies them into an
// upstream.Endpoint); Host and RequestURI go into the handshake.
type Target struct {
	// URL is the full ws:// or wss:// URL, for logs. It includes the query,
	// which may carry client secrets: log with care.
	URL string
	// TLS is true for wss://.
	TLS bool
	// Addr is "host:port" to dial; the port defaults to 80 (ws) or 443 (wss).
	Addr string
	// ServerName is the host name for TLS SNI and certificate verification.
	ServerName string
	// Host is the Host header value; a default port is omitted.
	Host string
	// RequestURI is the origin-form request target: path[?query].
	RequestURI string
}

// Resolve returns the upstream target for the pathname the client sent in
// its upstream connection request (SocketX action 4), joined to the route's
// Upstream base URL.
//
// The pathname may be "", "/", "?query", or "/path[?query][#fragment]", raw
// or percent-decoded. "", "/" (or only slashes) mean the base path itself ("/" if the base
// has none). The path is appended to the base path with exactly one slash
// between them; the base query comes first, then the pathname's, joined by
// '&'. Valid %XX escapes are kept; '%' without two hex digits becomes "%25";
// space, non-ASCII and " < > \ ^ ` { | } are percent-encoded (a backslash only
// in the query: in the path it is refused). The fragment is dropped.
//
// Errors: ErrPathEscape (wrapped) when dot segments — also %2e-encoded ones,
// or ones followed by ";params" — would climb above the base path, or the path
// holds %2F, %5C or '\'; ErrBadPathname (wrapped) for control characters, a
// path not starting with '/', or a RequestURI longer than MaxRequestURI;
// ErrBadBase for a Route not made by Parse whose Upstream is not an absolute
// ws:// or wss:// URL with a host.
func (r *Route) Resolve(pathname string) (Target, error) {
	return resolve(r.Upstream, pathname)
}

// resolve joins base and pathname as Route.Resolve describes. Parse also
// calls it with pathname "" to check that a base fits in MaxRequestURI.
func resolve(base *url.URL, pathname string) (Target, error) {
	if base == nil || base.Host == "" || base.Opaque != "" ||
		(base.Scheme != "ws" && base.Scheme != "wss") {
		return Target{}, ErrBadBase
	}
	if len(pathname) > maxPathname {
		return Target{}, errTooLong
	}
	if i := strings.IndexByte(pathname, '#'); i >= 0 {
		pathname = pathname[:i]
	}
	path, query := pathname, ""
	if i := strings.IndexByte(pathname, '?'); i >= 0 {
		path, query = pathname[:i], pathname[i+1:]
	}
	if path != "" && path[0] != '/' {
		return Target{}, errNotAbsolute
	}

	basePath := base.EscapedPath()
	out := make([]byte, 0, len(basePath)+len(pathname)+len(base.RawQuery)+16)
	var err error
	if strings.TrimLeft(path, "/") == "" {
		out = append(out, basePath...)
	} else {
		out = append(out, strings.TrimRight(basePath, "/")...)
		if out, err = appendPath(out, path); err != nil {
			return Target{}, err
		}
	}
	if len(out) == 0 {
		out = append(out, '/')
	}
	q0 := len(out)
	out = append(out, '?')
	out = append(out, base.RawQuery...)
	if query != "" {
		if base.RawQuery != "" {
			out = append(out, '&')
		}
		if out, err = appendEscaped(out, query, false); err != nil {
			return Target{}, err
		}
	}
	if len(out) == q0+1 {
		out = out[:q0]
	}
	if len(out) > MaxRequestURI {
		return Target{}, errTooLong
	}

	tlsOn := base.Scheme == "wss"
	hostname := strings.ToLower(base.Hostname())
	port, defPort := base.Port(), "80"
	if tlsOn {
		defPort = "443"
	}
	if port == "" {
		port = defPort
	}
	host := hostname
	if port != defPort {
		host = net.JoinHostPort(hostname, port)
	} else if strings.IndexByte(hostname, ':') >= 0 {
		host = "[" + hostname + "]"
	}
	uri := string(out)
	return Target{
		URL:        base.Scheme + "://" + host + uri,
		TLS:        tlsOn,
		Addr:       net.JoinHostPort(hostname, port),
		ServerName: hostname,
		Host:       host,
		RequestURI: uri,
	}, nil
}

// appendPath appends the segments of path (which starts with '/') to out,
// removing dot segments; out[:base] (the base path without its trailing
// slash) is never removed.
func appendPath(out []byte, path string) ([]byte, error) {
	base := len(out)
	path = strings.TrimLeft(path, "/")
	trailingDir := false
	for {
		seg, rest, more := strings.Cut(path, "/")
		var err error
		switch dotSegment(seg) {
		case 1: // "."
			trailingDir = !more
		case 2: // ".."
			i := bytes.LastIndexByte(out[base:], '/')
			if i < 0 {
				return out, errAboveBase
			}
			out = out[:base+i]
			trailingDir = !more
		case -1:
			return out, errDotParam
		default:
			out = append(out, '/')
			if out, err = appendEscaped(out, seg, true); err != nil {
				return out, err
			}
			trailingDir = false
		}
		if !more {
			break
		}
		path = rest
	}
	if trailingDir {
		out = append(out, '/')
	}
	return out, nil
}

// dotSegment returns 1 for ".", 2 for ".." (either spelt with %2e), -1 for a
// dot segment followed by ";params" (servers such as Tomcat treat "..;x" as
// ".."), and 0 otherwise.
func dotSegment(seg string) int {
	dots, params := 0, false
	for i := 0; i < len(seg); i++ {
		switch {
		case seg[i] == '.':
			dots++
		case seg[i] == '%' && i+2 < len(seg) && seg[i+1] == '2' && (seg[i+2] == 'e' || seg[i+2] == 'E'):
			dots++
			i += 2
		case seg[i] == ';' && dots > 0:
			params = true
			i = len(seg)
		default:
			return 0
		}
		if dots > 2 {
			return 0
		}
	}
	if params {
		return -1
	}
	return dots
}

// appendEscaped appends s to out, keeping valid %XX escapes, encoding '%'
// without two hex digits as "%25" and encoding the bytes a request-target may
// not hold. In a path segment (inPath) a backslash or an encoded '/' or '\'
// is refused.
func appendEscaped(out []byte, s string, inPath bool) ([]byte, error) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return out, errControl
		case c == '%':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				if inPath && ((s[i+1] == '2' && (s[i+2] == 'f' || s[i+2] == 'F')) ||
					(s[i+1] == '5' && (s[i+2] == 'c' || s[i+2] == 'C'))) {
					return out, errEncodedSep
				}
				out = append(out, s[i:i+3]...)
				i += 2
				continue
			}
			out = append(out, "%25"...)
		case c == '\\' && inPath:
			return out, errBackslash
		case c >= 0x80 || mustEscape(c):
			out = append(out, '%', hex[c>>4], hex[c&15])
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func mustEscape(c byte) bool {
	switch c {
	case ' ', '"', '<', '>', '\\', '^', '`', '{', '|', '}':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
