package routing

import "net/url"

// Route is one DOMAIN_MAP entry. It is immutable after Parse.
type Route struct {
	// Key is the DOMAIN_MAP key as written, for logs and metrics.
	Key string
	// Upstream is the base URL (ws or wss, lowercase host, no userinfo or
	// fragment). Do not modify it.
	Upstream *url.URL
	// AllowedOrigins is the list as written, never empty after Parse (a
	// Route without origins rejects every upgrade).
	AllowedOrigins []string

	allowAll    bool                // "*" listed
	allowNull   bool                // "null" listed
	origins     map[string]struct{} // exact, normalised scheme://host[:port]
	wildOrigins []wildOrigin
}
