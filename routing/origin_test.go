package routing

import (
	"strings"
	"testing"
)

func TestAllowOrigin(t *testing.T) {
	docs, edge := mustParse(t, docsMap), mustParse(t, edgeMap)
	route := func(m *Map, host string) *Route {
		r, _ := m.Match([]byte(host))
		return r
	}
	api, stg, star := route(docs, "api.example.com"), route(docs, "x.staging.example.com"), route(docs, "z")
	ew, e9, ea, e6, eip, eport := route(edge, "x.example.com"), route(edge, "x.example.com:9000"),
		route(edge, "x.a.example.com"), route(edge, "[::1]:8080"), route(edge, "127.0.0.1"), route(edge, "api.example.com:8443")
	cases := []struct {
		r      *Route
		origin string
		want   bool
	}{
		{api, "https://app.example.com", true},
		{api, "HTTPS://APP.EXAMPLE.COM", true},
		{api, "https://app.example.com:443", true},
		{api, "https://app.example.com:8443", false},
		{api, "http://app.example.com", false},
		{api, "https://app.example.com/", false},
		{api, "https://evil.app.example.com", false},
		{api, "https://app.example.com.evil.com", false},
		{api, "", false},
		{api, "null", false},
		{stg, "https://a.staging.example.com", true},
		{stg, "https://a.b.staging.example.com", true},
		{stg, "https://staging.example.com", false},
		{stg, "https://xstaging.example.com", false},
		{stg, "http://a.staging.example.com", false},
		{stg, "https://a.staging.example.com:8443", false},
		{star, "", true},
		{star, "anything at all", true},
		{ew, "null", true},
		{ew, "NULL", false},
		{ew, "https://deep.x.example.com", true},
		{e9, "http://localhost:3000", true},
		{e9, "http://LOCALHOST:3000", true},
		{e9, "http://localhost", false},
		{e9, "capacitor://localhost", true},
		{ea, "https://a.example.com", false},
		{ea, "https://only.a.example.com", true},
		{ea, "", false},
		{eport, "https://app.example.com", false},
		{eport, "https://app.example.com:8443", true},
		{e6, "http://[::1]:8080", true},
		{e6, "http://[::1]", false},
		{eip, "https://x.test", true},
		{eip, "http://x.test:80", true},
		{eip, "http://x.test", true},
		{eip, "https://x.test:80", false},
		{eip, "https://user@x.test", false},
		{eip, "://x.test", false},
		{eip, "x.test", false},
		{eip, "https://" + strings.Repeat("a", 400), false},
	}
	if (&Route{Key: "hand-made"}).AllowOrigin([]byte("https://app.example.com")) || (&Route{Key: "hand-made"}).AllowOrigin(nil) {
		t.Error("a Route without origins allowed an upgrade")
	}
	for _, tc := range cases {
		if got := tc.r.AllowOrigin([]byte(tc.origin)); got != tc.want {
			t.Errorf("%s: AllowOrigin(%q) = %v, want %v", tc.r.Key, tc.origin, got, tc.want)
		}
		if got := naiveAllowOrigin(tc.r, tc.origin); got != tc.want {
			t.Errorf("%s: naiveAllowOrigin(%q) = %v, want %v", tc.r.Key, tc.origin, got, tc.want)
		}
	}
	if api.AllowOrigin(nil) {
		t.Error("nil Origin allowed")
	}
}

// naiveAllowOrigin is the slow twin of AllowOrigin, built on strings.
func naiveAllowOrigin(r *Route, origin string) bool {
	if r.allowAll {
		return true
	}
	if origin == "null" {
		return r.allowNull
	}
	if origin == "" || len(origin) > maxOriginLen {
		return false
	}
	o := strings.ToLower(origin)
	scheme, hp, ok := strings.Cut(o, "://")
	if !ok || scheme == "" || hp == "" || strings.ContainsAny(hp, "/?#@") {
		return false
	}
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return false
		}
		host, port = hp[:end+1], hp[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, port = hp[:i], hp[i+1:]
	}
	if port == defaultPort(scheme) {
		port = ""
	}
	for _, w := range r.wildOrigins {
		if w.scheme == scheme && w.port == port && len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) {
			return true
		}
	}
	norm := scheme + "://" + host
	if port != "" {
		norm += ":" + port
	}
	_, ok = r.origins[norm]
	return ok
}

// FuzzAllowOrigin compares AllowOrigin with its naive twin.
func FuzzAllowOrigin(f *testing.F) {
	for _, s := range []string{"http://localhost:3000", "https://a.example.com", "null", "", "http://[::1]:8080", "https://x.test:443"} {
		f.Add(s)
	}
	m := mustParse(f, edgeMap)
	f.Fuzz(func(t *testing.T, origin string) {
		for _, r := range m.Routes() {
			if got, want := r.AllowOrigin([]byte(origin)), naiveAllowOrigin(r, origin); got != want {
				t.Fatalf("%s: AllowOrigin(%q) = %v, naive %v", r.Key, origin, got, want)
			}
		}
	})
}

func BenchmarkAllowOrigin(b *testing.B) {
	m := mustParse(b, edgeMap)
	r, _ := m.Match([]byte("x.example.com"))
	origin := []byte("https://deep.app.example.com")
	b.ReportAllocs()
	for b.Loop() {
		r.AllowOrigin(origin)
	}
}
