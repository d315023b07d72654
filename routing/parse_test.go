package routing

import (
	"errors"
	"strings"
	"testing"
)

// docsMap is the example from the product docs ("DOMAIN_MAP Format").
const docsMap = `{
"api.example.com": {
"upstream": "wss://backend.example.com/socket",
"allowedOrigins": ["https://app.example.com"]
},
"*.staging.example.com": {
"upstream": "ws://staging-backend:8080",
"allowedOrigins": ["https://*.staging.example.com"]
},
"*": {
"upstream": "ws://default-backend:8080",
"allowedOrigins": ["*"]
}
}`

// edgeMap exercises ports, case, IPv6 and wildcard specificity.
const edgeMap = `{
"API.Example.com": {"upstream": "wss://backend.example.com/socket", "allowedOrigins": ["https://app.example.com"]},
"api.example.com:8443": {"upstream": "wss://backend.example.com:8443/p", "allowedOrigins": ["https://app.example.com:8443"]},
"*.example.com": {"upstream": "ws://wild:1/", "allowedOrigins": ["https://*.example.com", "null"]},
"*.example.com:9000": {"upstream": "ws://wild9000:1/", "allowedOrigins": ["HTTP://Localhost:3000", "capacitor://localhost"]},
"*.a.example.com": {"upstream": "ws://wild-a:1/", "allowedOrigins": ["https://only.a.example.com"]},
"[::1]:8080": {"upstream": "ws://[::1]:9/", "allowedOrigins": ["http://[::1]:8080"]},
"127.0.0.1": {"upstream": "ws://127.0.0.1:9/", "allowedOrigins": ["https://x.test:443", "http://x.test:80"]}
}`

func mustParse(t testing.TB, doc string) *Map {
	t.Helper()
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// noOrigins is the problem of an entry without allowedOrigins.
const noOrigins = `want a non-empty list (without one every upgrade gets 403; ["*"] allows every origin and native clients, which send none)`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		doc  string
		want string // full error text, lines joined by errors.Join
	}{
		{``, "routing: DOMAIN_MAP is not valid JSON: EOF"},
		{`[]`, "routing: DOMAIN_MAP must be a JSON object"},
		{`{}`, "routing: DOMAIN_MAP has no entries"},
		{`{"*": {"upstream": "ws://a", "allowedOrigins": ["*"]}} x`, "routing: DOMAIN_MAP is not valid JSON: data after the object"},
		{`{"api.example.com": {"upstream": "http://a", "allowedOrigins": ["*"]}}`,
			`routing: DOMAIN_MAP["api.example.com"].upstream: scheme "http" not allowed (want ws or wss)`},
		{`{"a": {"upstream": "backend:8080", "allowedOrigins": ["*"]}, "b": {"allowedOrigins": ["*"]}, "c": {"upstream": 5, "allowedOrigins": ["*"]}}`,
			`routing: DOMAIN_MAP["a"].upstream: scheme "backend" not allowed (want ws or wss)` + "\n" +
				`routing: DOMAIN_MAP["b"].upstream: missing` + "\n" +
				`routing: DOMAIN_MAP["c"].upstream: must be a string`},
		{`{"a": {"upstream": "ws://u:p@h/", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: must not contain userinfo`},
		{`{"a": {"upstream": "ws://h/#f", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: must not contain a fragment`},
		{`{"a": {"upstream": "ws:///path", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: must be an absolute URL with a host (ws://host[:port][/path])`},
		{`{"a": {"upstream": "ws:opaque", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: must be an absolute URL with a host (ws://host[:port][/path])`},
		{`{"a": {"upstream": "ws://h:99999/", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: invalid port "99999" (want 1-65535)`},
		{`{"a": {"upstream": "ws://h/a/../b", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: path must not contain dot segments`},
		{`{"a": {"upstream": "ws://h_!/", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: invalid host "h_!": character '!' not allowed in host`},
		{`{"a": {"upstream": "wss://b", "allowedOrigins": ["https://x.com/", 7]}}`,
			`routing: DOMAIN_MAP["a"].allowedOrigins: must be an array of strings`},
		{`{"a": {"upstream": "wss://b", "allowedOrigins": ["https://x.com/", "x.com", "https://a.*.com", "https://*.", "https://x.com:0", "https://"]}}`,
			`routing: DOMAIN_MAP["a"].allowedOrigins[0]: must not have a path, query, fragment or userinfo` + "\n" +
				`routing: DOMAIN_MAP["a"].allowedOrigins[1]: not an origin (want "*", "null", scheme://host[:port] or scheme://*.domain[:port])` + "\n" +
				`routing: DOMAIN_MAP["a"].allowedOrigins[2]: wildcard origins must begin with "*." (scheme://*.domain)` + "\n" +
				`routing: DOMAIN_MAP["a"].allowedOrigins[3]: empty host` + "\n" +
				`routing: DOMAIN_MAP["a"].allowedOrigins[4]: invalid port 0 (want 1-65535)` + "\n" +
				`routing: DOMAIN_MAP["a"].allowedOrigins[5]: empty host`},
		{`{"a": {"upstream": "ws://h", "allowedOrigin": ["*"]}}`,
			`routing: DOMAIN_MAP["a"]: unknown field "allowedOrigin" (want upstream, allowedOrigins)` + "\n" +
				`routing: DOMAIN_MAP["a"].allowedOrigins: ` + noOrigins},
		// Missing, null and empty lists are refused, as the Helm chart
		// refuses them: such an entry would answer every upgrade 403.
		{`{"api.example.com": {"upstream": "ws://h"}, "b": {"upstream": "ws://h", "allowedOrigins": null}, "c": {"upstream": "ws://h", "allowedOrigins": []}}`,
			`routing: DOMAIN_MAP["api.example.com"].allowedOrigins: ` + noOrigins + "\n" +
				`routing: DOMAIN_MAP["b"].allowedOrigins: ` + noOrigins + "\n" +
				`routing: DOMAIN_MAP["c"].allowedOrigins: ` + noOrigins},
		{`{"a": {"upstream": "ws://h", "allowedOrigins": "*"}}`, `routing: DOMAIN_MAP["a"].allowedOrigins: must be an array of strings`},
		{`{"a": {"Upstream": "ws://h", "allowedOrigins": ["*"]}}`,
			`routing: DOMAIN_MAP["a"]: unknown field "Upstream" (want upstream, allowedOrigins)` + "\n" +
				`routing: DOMAIN_MAP["a"].upstream: missing`},
		{`{"a": {"upstream": "ws://h", "upstream": "ws://i", "allowedOrigins": ["*"]}}`, `routing: DOMAIN_MAP["a"].upstream: duplicate field`},
		{`{"a": "ws://h"}`, `routing: DOMAIN_MAP["a"]: must be an object {"upstream": ..., "allowedOrigins": [...]}`},
		{`{"a.*.com": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "*foo.com": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "a b": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "": {"upstream": "ws://h", "allowedOrigins": ["*"]}}`,
			`routing: DOMAIN_MAP["a.*.com"]: invalid key: "*" is allowed only as the whole key or as a leading "*." label` + "\n" +
				`routing: DOMAIN_MAP["*foo.com"]: invalid key: "*" is allowed only as the whole key or as a leading "*." label` + "\n" +
				`routing: DOMAIN_MAP["a b"]: invalid key: character ' ' not allowed in host` + "\n" +
				`routing: DOMAIN_MAP[""]: invalid key: empty host`},
		{`{"a..com": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "a.com:0": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "[::1": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "*.[::1]": {"upstream": "ws://h", "allowedOrigins": ["*"]}}`,
			`routing: DOMAIN_MAP["a..com"]: invalid key: empty label` + "\n" +
				`routing: DOMAIN_MAP["a.com:0"]: invalid key: port "0" (want 1-65535)` + "\n" +
				`routing: DOMAIN_MAP["[::1"]: invalid key: invalid IPv6 literal` + "\n" +
				`routing: DOMAIN_MAP["*.[::1]"]: invalid key: invalid IPv6 literal`},
		{`{"A.com": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "a.com.": {"upstream": "ws://h", "allowedOrigins": ["*"]}, "a.com": {"upstream": "ws://h", "allowedOrigins": ["*"]}}`,
			`routing: DOMAIN_MAP["a.com."]: duplicate of key "A.com"` + "\n" +
				`routing: DOMAIN_MAP["a.com"]: duplicate of key "A.com"`},
	}
	for _, tc := range cases {
		m, err := Parse([]byte(tc.doc))
		if err == nil || err.Error() != tc.want || m != nil {
			t.Errorf("Parse(%s):\n got %v\nwant %s", tc.doc, err, tc.want)
		}
	}
	var ee *EntryError
	_, err := Parse([]byte(`{"k": {"upstream": "http://a"}}`))
	if !errors.As(err, &ee) || ee.Key != "k" || ee.Field != "upstream" {
		t.Errorf("EntryError %+v", ee)
	}
	if _, err := Parse([]byte(`{}`)); err != ErrEmptyMap {
		t.Errorf("err %v", err)
	}
	if _, err := Parse([]byte(`"x"`)); err != ErrNotObject {
		t.Errorf("err %v", err)
	}
}

func TestParseRoutes(t *testing.T) {
	m := mustParse(t, docsMap)
	var keys []string
	for _, r := range m.Routes() {
		keys = append(keys, r.Key+" "+r.Upstream.String())
	}
	want := "api.example.com wss://backend.example.com/socket|*.staging.example.com ws://staging-backend:8080|* ws://default-backend:8080"
	if got := strings.Join(keys, "|"); got != want {
		t.Fatalf("routes %q\nwant %q", got, want)
	}
	m = mustParse(t, `{"*": {"upstream": "WSS://Backend.EXAMPLE.com:8443/Socket?k=v", "allowedOrigins": ["null"]}}`)
	r := m.Routes()[0]
	if r.Upstream.String() != "wss://backend.example.com:8443/Socket?k=v" || len(r.AllowedOrigins) != 1 || r.AllowOrigin([]byte("https://a")) {
		t.Fatalf("route %+v", r)
	}
}

func TestRouteResolve(t *testing.T) {
	m := mustParse(t, docsMap)
	r, _ := m.Match([]byte("api.example.com"))
	got, err := r.Resolve("/dogs?x=1")
	want := Target{
		URL: "wss://backend.example.com/socket/dogs?x=1", TLS: true, Addr: "backend.example.com:443",
		ServerName: "backend.example.com", Host: "backend.example.com", RequestURI: "/socket/dogs?x=1",
	}
	if err != nil || got != want {
		t.Fatalf("Resolve = %+v, %v", got, err)
	}
	if _, err := r.Resolve("/../x"); !errors.Is(err, ErrPathEscape) {
		t.Fatalf("err %v", err)
	}
	r, _ = m.Match([]byte("q.staging.example.com"))
	if got, err := r.Resolve(""); err != nil || got.Addr != "staging-backend:8080" || got.RequestURI != "/" || got.TLS {
		t.Fatalf("Resolve = %+v, %v", got, err)
	}
	if _, err := (&Route{Key: "hand-made"}).Resolve("/x"); err != ErrBadBase {
		t.Fatalf("Resolve on a Route without Upstream: err %v, want ErrBadBase", err)
	}
}

// FuzzParse checks Parse never panics and that every parsed exact key
// matches its own route.
func FuzzParse(f *testing.F) {
	f.Add([]byte(docsMap))
	f.Add([]byte(edgeMap))
	f.Add([]byte(`{"a": {"upstream": "ws://h", "allowedOrigins": ["*", "null", "https://*.x:1"]}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := Parse(doc)
		if err != nil {
			return
		}
		for _, r := range m.Routes() {
			if r.Upstream == nil {
				t.Fatalf("route %q without upstream", r.Key)
			}
			if _, err := r.Resolve("/x?y"); err != nil {
				t.Fatalf("route %q: Resolve: %v", r.Key, err)
			}
			if r.Key == "*" || strings.HasPrefix(r.Key, "*.") {
				continue
			}
			if got, ok := m.Match([]byte(r.Key)); !ok || got != r {
				t.Fatalf("Match(%q) did not return its own route", r.Key)
			}
		}
	})
}
