// Package routing parses DOMAIN_MAP and picks a Route for an upgrade's Host
// header and checks its Origin header.
//
// DOMAIN_MAP is a JSON object keyed by host name; each value is
//
//	{"upstream": "ws://..." | "wss://...", "allowedOrigins": ["...", ...]}
//
// Keys are exact hosts ("api.example.com", "api.example.com:8443",
// "[::1]:8080"), wildcards ("*.example.com", "*.example.com:8443") or the
// catch-all "*". Keys and Host headers compare case-insensitively and a
// trailing dot on the host is ignored. Match tries, in order: the exact key
// equal to the Host (with its port), the exact key equal to the Host without
// its port, the most specific wildcard (longest suffix; for each suffix the
// with-port key before the portless one; a wildcard matches one or more
// labels below its suffix, never the suffix itself), then "*". An IPv6 key
// must be written like the Host header carries it (bracketed, same spelling:
// "[::1]" does not match "[0:0::1]").
//
// allowedOrigins entries are "*" (anything, including no Origin header),
// "null" (the literal Origin "null", e.g. sandboxed iframes), an origin
// "scheme://host[:port]" without path, or "scheme://*.domain[:port]", which
// matches any depth of subdomain of domain, never domain itself. Scheme, host
// and port compare case-insensitively and the default ports (80 for http/ws,
// 443 for https/wss) are normalised away. An empty or missing list rejects
// every upgrade. Native clients (mobile, server apps) send no Origin header:
// serve them with a "*" entry or under a separate host key whose list is
// ["*"].
//
// Match and Route.AllowOrigin do not allocate; a Map is immutable after Parse
// and safe for concurrent use.
package routing
