package routing

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestResolveRequestURI(t *testing.T) {
	long := "/" + strings.Repeat("a", MaxRequestURI)
	cases := []struct {
		base, pathname string
		want           string
		err            error
	}{
		{"wss://b.example.com/socket", "", "/socket", nil},
		{"wss://b.example.com/socket", "/", "/socket", nil},
		{"wss://b.example.com/socket", "///", "/socket", nil},
		{"wss://b.example.com/socket", "/dogs", "/socket/dogs", nil},
		{"wss://b.example.com/socket/", "/dogs", "/socket/dogs", nil},
		{"wss://b.example.com/socket", "/dogs?x=1", "/socket/dogs?x=1", nil},
		{"wss://b.example.com/socket", "?x=1", "/socket?x=1", nil},
		{"wss://b.example.com/socket", "/dogs/", "/socket/dogs/", nil},
		{"wss://b.example.com/socket", "//evil.com/x", "/socket/evil.com/x", nil},
		{"wss://b.example.com/socket", "/a//b", "/socket/a//b", nil},
		{"wss://b.example.com/socket", "/a b", "/socket/a%20b", nil},
		{"wss://b.example.com/socket", "/a%20b", "/socket/a%20b", nil},
		{"wss://b.example.com/socket", "/%41%7e", "/socket/%41%7e", nil},
		{"wss://b.example.com/socket", "/100%", "/socket/100%25", nil},
		{"wss://b.example.com/socket", "/%zz%4", "/socket/%25zz%254", nil},
		{"wss://b.example.com/socket", "/caf\xc3\xa9", "/socket/caf%C3%A9", nil},
		{"wss://b.example.com/socket", "/{x}|^`<>\"", "/socket/%7Bx%7D%7C%5E%60%3C%3E%22", nil},
		{"wss://b.example.com/socket", "/a?q=a b&r=\\|", "/socket/a?q=a%20b&r=%5C%7C", nil},
		{"wss://b.example.com/socket", "/a?x=1?y=2", "/socket/a?x=1?y=2", nil},
		{"wss://b.example.com/socket", "/a#frag", "/socket/a", nil},
		{"wss://b.example.com/socket", "/a?x=1#f?g", "/socket/a?x=1", nil},
		{"wss://b.example.com/socket", "#only", "/socket", nil},
		{"wss://b.example.com/socket", "/a/./b", "/socket/a/b", nil},
		{"wss://b.example.com/socket", "/a/../b", "/socket/b", nil},
		{"wss://b.example.com/socket", "/a/..", "/socket/", nil},
		{"wss://b.example.com/socket", "/a/.", "/socket/a/", nil},
		{"wss://b.example.com/socket", "/a/%2e%2E/b", "/socket/b", nil},
		{"wss://b.example.com/socket", "/...", "/socket/...", nil},
		{"wss://b.example.com/socket", "/a;b=1", "/socket/a;b=1", nil},
		{"wss://b.example.com/socket", "/..", "", errAboveBase},
		{"wss://b.example.com/socket", "/a/../..", "", errAboveBase},
		{"wss://b.example.com/socket", "/%2e%2e/x", "", errAboveBase},
		{"wss://b.example.com/socket", "/.%2E/x", "", errAboveBase},
		{"wss://b.example.com/socket", "/a%2fb", "", errEncodedSep},
		{"wss://b.example.com/socket", "/a%2F..%2F..", "", errEncodedSep},
		{"wss://b.example.com/socket", "/a%5Cb", "", errEncodedSep},
		{"wss://b.example.com/socket", "/a\\..\\x", "", errBackslash},
		{"wss://b.example.com/socket", "/..;/x", "", errDotParam},
		{"wss://b.example.com/socket", "/a/.;x", "", errDotParam},
		{"wss://b.example.com/socket", "/a\x00b", "", errControl},
		{"wss://b.example.com/socket", "/a\x7f", "", errControl},
		{"wss://b.example.com/socket", "/a?x=\n", "", errControl},
		{"wss://b.example.com/socket", "dogs", "", errNotAbsolute},
		{"wss://b.example.com/socket", "../x", "", errNotAbsolute},
		{"wss://b.example.com/socket", long, "", errTooLong},
		{"wss://b.example.com/socket", long[:MaxRequestURI-len("/socket")], "/socket" + long[:MaxRequestURI-len("/socket")], nil},
		{"wss://b.example.com/socket", "/" + strings.Repeat("a/../", 4000), "", errTooLong},
		{"wss://b.example.com/socket", "/" + strings.Repeat("a/../", 3000) + "x", "/socket/x", nil},
		{"ws://h", "", "/", nil},
		{"ws://h", "/", "/", nil},
		{"ws://h", "/dogs", "/dogs", nil},
		{"ws://h", "?x", "/?x", nil},
		{"ws://h", "/a/..", "/", nil},
		{"ws://h", "/..", "", errAboveBase},
		{"ws://h:8080/p/?k=v", "", "/p/?k=v", nil},
		{"ws://h:8080/p/?k=v", "?", "/p/?k=v", nil},
		{"ws://h:8080/p/?k=v", "/x?y=1", "/p/x?k=v&y=1", nil},
		{"ws://h:8080/a%20b", "/c", "/a%20b/c", nil},
		{"http://h/", "/", "", ErrBadBase},
	}
	for _, tc := range cases {
		got, err := resolve(mustURL(t, tc.base), tc.pathname)
		name := tc.base + " + " + tc.pathname
		if len(name) > 80 {
			name = name[:80]
		}
		if err != tc.err {
			t.Errorf("%s: err = %v, want %v", name, err, tc.err)
			continue
		}
		if got.RequestURI != tc.want {
			t.Errorf("%s: RequestURI = %q, want %q", name, got.RequestURI, tc.want)
		}
	}
}

func TestResolveErrorText(t *testing.T) {
	cases := []struct {
		err      error
		sentinel error
		text     string
	}{
		{errNotAbsolute, ErrBadPathname, "routing: bad pathname: must start with '/'"},
		{errControl, ErrBadPathname, "routing: bad pathname: control character"},
		{errTooLong, ErrBadPathname, "routing: bad pathname: request URI longer than 8192 bytes"},
		{errEncodedSep, ErrPathEscape, "routing: pathname escapes the base path: encoded slash or backslash"},
		{errBackslash, ErrPathEscape, "routing: pathname escapes the base path: backslash"},
		{errDotParam, ErrPathEscape, "routing: pathname escapes the base path: dot segment with parameters"},
		{errAboveBase, ErrPathEscape, "routing: pathname escapes the base path: dot segments climb above the base path"},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.sentinel) || tc.err.Error() != tc.text {
			t.Errorf("%v: is %v = %v, text %q", tc.err, tc.sentinel, errors.Is(tc.err, tc.sentinel), tc.text)
		}
	}
}

func TestResolveTargetFields(t *testing.T) {
	cases := []struct {
		base, pathname string
		want           Target
	}{
		{"wss://Backend.Example.com/socket", "/dogs?x=1", Target{
			URL: "wss://backend.example.com/socket/dogs?x=1", TLS: true, Addr: "backend.example.com:443",
			ServerName: "backend.example.com", Host: "backend.example.com", RequestURI: "/socket/dogs?x=1"}},
		{"wss://b.example.com:443", "", Target{
			URL: "wss://b.example.com/", TLS: true, Addr: "b.example.com:443",
			ServerName: "b.example.com", Host: "b.example.com", RequestURI: "/"}},
		{"wss://b.example.com:8443/x", "", Target{
			URL: "wss://b.example.com:8443/x", TLS: true, Addr: "b.example.com:8443",
			ServerName: "b.example.com", Host: "b.example.com:8443", RequestURI: "/x"}},
		{"ws://staging-backend:8080", "/a", Target{
			URL: "ws://staging-backend:8080/a", Addr: "staging-backend:8080",
			ServerName: "staging-backend", Host: "staging-backend:8080", RequestURI: "/a"}},
		{"ws://h:80", "", Target{
			URL: "ws://h/", Addr: "h:80", ServerName: "h", Host: "h", RequestURI: "/"}},
		{"ws://[::1]:9000/p", "", Target{
			URL: "ws://[::1]:9000/p", Addr: "[::1]:9000", ServerName: "::1", Host: "[::1]:9000", RequestURI: "/p"}},
		{"ws://[::1]", "", Target{
			URL: "ws://[::1]/", Addr: "[::1]:80", ServerName: "::1", Host: "[::1]", RequestURI: "/"}},
	}
	for _, tc := range cases {
		got, err := resolve(mustURL(t, tc.base), tc.pathname)
		if err != nil || got != tc.want {
			t.Errorf("%s + %s:\n got %+v, %v\nwant %+v", tc.base, tc.pathname, got, err, tc.want)
		}
	}
}

// FuzzResolve checks that resolve never panics and that a result is clean,
// stays under the base path and resolves to itself.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "/", "/dogs?x=1", "/a/../b", "/%2e%2e", "/a b#c", "?q", "/a/..//", "/..;/", "/\xff%zz"} {
		f.Add(s)
	}
	base := mustURL(f, "ws://h/socket/")
	f.Fuzz(func(t *testing.T, p string) {
		got, err := resolve(base, p)
		if err != nil {
			if !errors.Is(err, ErrBadPathname) && !errors.Is(err, ErrPathEscape) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		uri := got.RequestURI
		if !strings.HasPrefix(uri, "/socket/") || len(uri) > MaxRequestURI {
			t.Fatalf("RequestURI %q escapes or is too long", uri)
		}
		for i := 0; i < len(uri); i++ {
			if c := uri[i]; c <= ' ' || c >= 0x7f || mustEscape(c) || c == '#' {
				t.Fatalf("RequestURI %q holds byte %#x", uri, c)
			}
		}
		rel := uri[len("/socket"):]
		if strings.HasPrefix(rel, "//") {
			return // "//" means the base itself; not a fixed point
		}
		again, err := resolve(base, rel)
		if err != nil || again.RequestURI != uri {
			t.Fatalf("resolve(%q) = %q, %v; want fixed point %q", rel, again.RequestURI, err, uri)
		}
	})
}

func BenchmarkResolve(b *testing.B) {
	base := mustURL(b, "wss://backend.example.com/socket?k=v")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := resolve(base, "/rooms/dogs/../cats?token=abc%20def"); err != nil {
			b.Fatal(err)
		}
	}
}
