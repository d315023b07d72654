package routing

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	docs, edge := mustParse(t, docsMap), mustParse(t, edgeMap)
	cases := []struct {
		m    *Map
		host string
		key  string // "" = no match
	}{
		{docs, "api.example.com", "api.example.com"},
		{docs, "API.EXAMPLE.COM", "api.example.com"},
		{docs, "api.example.com:8080", "api.example.com"},
		{docs, "api.example.com.", "api.example.com"},
		{docs, "api.example.com.:443", "api.example.com"},
		{docs, "x.staging.example.com", "*.staging.example.com"},
		{docs, "a.b.staging.example.com:9", "*.staging.example.com"},
		{docs, "staging.example.com", "*"}, // never the apex
		{docs, "xstaging.example.com", "*"},
		{docs, "other.org", "*"},
		{docs, "", "*"},
		{docs, strings.Repeat("a", 300), "*"},
		{edge, "api.example.com", "API.Example.com"},
		{edge, "api.example.com:8443", "api.example.com:8443"},
		{edge, "Api.Example.Com:8443", "api.example.com:8443"},
		{edge, "api.example.com:1", "API.Example.com"},
		{edge, "x.example.com", "*.example.com"},
		{edge, "x.example.com:9000", "*.example.com:9000"},
		{edge, "x.example.com:9001", "*.example.com"},
		{edge, "x.a.example.com", "*.a.example.com"},
		{edge, "x.a.example.com:9000", "*.a.example.com"}, // longer suffix beats the port
		{edge, "a.example.com", "*.example.com"},
		{edge, "example.com", ""},
		{edge, "[::1]:8080", "[::1]:8080"},
		{edge, "[::1]", ""},
		{edge, "[::1]:8081", ""},
		{edge, "[::1", ""},
		{edge, "::1", ""},
		{edge, "127.0.0.1:5000", "127.0.0.1"},
		{edge, "127.0.0.1", "127.0.0.1"},
		{edge, ".example.com", ""},
	}
	for _, tc := range cases {
		r, ok := tc.m.Match([]byte(tc.host))
		got := ""
		if ok {
			got = r.Key
		}
		if got != tc.key || ok != (r != nil) {
			t.Errorf("Match(%q) = %q, %v; want %q", tc.host, got, ok, tc.key)
		}
		if n := naiveMatch(tc.m, tc.host); n != got {
			t.Errorf("naiveMatch(%q) = %q, Match = %q", tc.host, n, got)
		}
	}
}

// naiveMatch is the slow twin of Match: strings, allocations, label lists.
func naiveMatch(m *Map, host string) string {
	if len(host) > maxHostLen {
		host = ""
	}
	h := strings.ToLower(host)
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 || (end+1 < len(h) && h[end+1] != ':') {
			name = ""
		} else {
			name = h[:end+1]
			port = strings.TrimPrefix(h[end+1:], ":")
		}
	} else if strings.Count(h, ":") == 1 {
		name, port, _ = strings.Cut(h, ":")
	}
	if len(name) > 1 && !strings.HasPrefix(name, "[") {
		name = strings.TrimSuffix(name, ".")
	}
	keyOf := func(r *Route) string {
		if r == nil {
			return ""
		}
		return r.Key
	}
	if name != "" {
		if port != "" && m.exact[name+":"+port] != nil {
			return keyOf(m.exact[name+":"+port])
		}
		if m.exact[name] != nil {
			return keyOf(m.exact[name])
		}
		if !strings.HasPrefix(name, "[") {
			labels := strings.Split(name, ".")
			for i := 1; i < len(labels); i++ {
				if strings.Join(labels[:i], ".") == "" {
					continue // a wildcard needs a label below its suffix
				}
				suffix := strings.Join(labels[i:], ".")
				if port != "" && m.wild[suffix+":"+port] != nil {
					return keyOf(m.wild[suffix+":"+port])
				}
				if m.wild[suffix] != nil {
					return keyOf(m.wild[suffix])
				}
			}
		}
	}
	return keyOf(m.star)
}

func TestMatchAndAllowOriginDoNotAllocate(t *testing.T) {
	m := mustParse(t, edgeMap)
	hosts := [][]byte{
		[]byte("API.EXAMPLE.COM:8443"), []byte("deep.x.A.example.com:9000."), []byte("[::1]:8080"),
		[]byte("nomatch.org"), []byte(strings.Repeat("a.", 126) + "example.com"),
	}
	r, _ := m.Match([]byte("x.example.com:9000"))
	origins := [][]byte{[]byte("http://localhost:3000"), []byte("https://a.b.example.com"), []byte("null"), nil}
	allocs := testing.AllocsPerRun(100, func() {
		for _, h := range hosts {
			m.Match(h)
		}
		for _, o := range origins {
			r.AllowOrigin(o)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

// FuzzMatch compares Match with its naive twin for arbitrary Host values.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"api.example.com", "x.A.example.com:9000", "[::1]:8080", "a.", ":", "[", "x.example.com.:9000", "..example.com"} {
		f.Add(s)
	}
	m := mustParse(f, edgeMap)
	f.Fuzz(func(t *testing.T, host string) {
		r, ok := m.Match([]byte(host))
		got := ""
		if ok {
			got = r.Key
		}
		if want := naiveMatch(m, host); got != want {
			t.Fatalf("Match(%q) = %q, naive %q", host, got, want)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	m := mustParse(b, edgeMap)
	host := []byte("deep.x.A.example.com:9000")
	b.ReportAllocs()
	for b.Loop() {
		m.Match(host)
	}
}
