// Package routing parses DOMAIN_MAP, picks a Route for an upgrade's Host
// header, checks its Origin header and resolves the pathname a client asks
// for into the upstream Target to connect to.
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
// 443 for https/wss) are normalised away. A missing, null or empty list is
// a Parse error (it would reject every upgrade), as in the Helm chart.
// Native clients (mobile, server apps) send no Origin header: serve them
// with a "*" entry or under a separate host key whose list is ["*"].
//
// Route.Resolve joins the route's upstream base URL and the pathname from
// the client's upstream connection request (exactly one slash between
// them), merges queries, percent-encodes what a request-target may not
// contain, removes dot segments and refuses anything that would climb above
// the base path (ErrPathEscape) or that is malformed (ErrBadPathname). The
// Target it returns holds what to dial (Addr, TLS, ServerName) and what to
// send in the WebSocket request (Host, RequestURI).
//
// routing imports no other SocketX package. Dialing is package upstream's,
// which does not import routing either: the engine copies a Target's Addr,
// TLS and ServerName into an upstream.Endpoint.
//
// Match and Route.AllowOrigin do not allocate; a Map is immutable after Parse
// and safe for concurrent use.
package routing
