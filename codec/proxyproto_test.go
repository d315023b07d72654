package codec

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func proxyV2(cmd, fam byte, body []byte) []byte {
	out := append([]byte(nil), proxyV2Sig...)
	out = append(out, 0x20|cmd, fam, 0, 0)
	binary.BigEndian.PutUint16(out[14:], uint16(len(body)))
	return append(out, body...)
}

func TestParseProxyHeader(t *testing.T) {
	v4body := []byte{203, 0, 113, 7, 10, 0, 0, 1, 0x30, 0x39, 0x1f, 0x90} // 203.0.113.7:12345 → 10.0.0.1:8080
	v6body := make([]byte, 36)
	copy(v6body, netip.MustParseAddr("2001:db8::1").AsSlice())
	copy(v6body[16:], netip.MustParseAddr("2001:db8::2").AsSlice())
	binary.BigEndian.PutUint16(v6body[32:], 443)
	cases := []struct {
		name string
		in   string
		n    int
		src  string // "" = zero AddrPort
		err  error
	}{
		{"v1 tcp4", "PROXY TCP4 203.0.113.7 10.0.0.1 12345 8080\r\nGET /", 44, "203.0.113.7:12345", nil},
		{"v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1 443\r\n", 42, "[2001:db8::1]:1", nil},
		{"v1 unknown", "PROXY UNKNOWN\r\nGET", 15, "", nil},
		{"v1 partial", "PROXY TCP4 203.0", 0, "", ErrNeedMore},
		{"v1 prefix partial", "PRO", 0, "", ErrNeedMore},
		{"v1 family mismatch", "PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n", 0, "", ErrProxyHeader},
		{"v1 bad port", "PROXY TCP4 1.2.3.4 10.0.0.1 99999 2\r\n", 0, "", ErrProxyHeader},
		{"v1 leading zero port", "PROXY TCP4 1.2.3.4 10.0.0.1 080 2\r\n", 0, "", ErrProxyHeader},
		{"v1 too few fields", "PROXY TCP4 1.2.3.4\r\n", 0, "", ErrProxyHeader},
		{"v1 no CRLF within 107", "PROXY TCP4 " + string(make([]byte, 120)), 0, "", ErrProxyHeader},
		{"not proxy", "GET / HTTP/1.1\r\n", 0, "", ErrProxyHeader},
		{"v2 tcp4", string(proxyV2(1, 0x11, v4body)) + "GET", 28, "203.0.113.7:12345", nil},
		{"v2 tcp6", string(proxyV2(1, 0x21, v6body)), 52, "[2001:db8::1]:443", nil},
		{"v2 local", string(proxyV2(0, 0x00, nil)), 16, "", nil},
		{"v2 tlvs after address", string(proxyV2(1, 0x11, append(append([]byte(nil), v4body...), 0x04, 0, 1, 'x'))), 32, "203.0.113.7:12345", nil},
		{"v2 partial body", string(proxyV2(1, 0x11, v4body))[:20], 0, "", ErrNeedMore},
		{"v2 short body", string(proxyV2(1, 0x11, v4body[:4])), 0, "", ErrProxyHeader},
		{"v2 bad version", string(append(append([]byte(nil), proxyV2Sig...), 0x31, 0x11, 0, 0)), 0, "", ErrProxyHeader},
		{"v2 bad command", string(proxyV2(2, 0x11, v4body)), 0, "", ErrProxyHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, src, err := ParseProxyHeader([]byte(tc.in))
			if err != tc.err || n != tc.n {
				t.Fatalf("n=%d err=%v, want n=%d err=%v", n, err, tc.n, tc.err)
			}
			want := netip.AddrPort{}
			if tc.src != "" {
				want = netip.MustParseAddrPort(tc.src)
			}
			if src != want {
				t.Fatalf("src = %v, want %v", src, want)
			}
		})
	}
}

// TestParseProxyHeaderSplit: every prefix of a valid header needs more.
func TestParseProxyHeaderSplit(t *testing.T) {
	for _, h := range []string{"PROXY TCP4 203.0.113.7 10.0.0.1 12345 8080\r\n", string(proxyV2(1, 0x11, make([]byte, 12)))} {
		for k := range len(h) {
			if n, _, err := ParseProxyHeader([]byte(h[:k])); err != ErrNeedMore || n != 0 {
				t.Fatalf("prefix %d of %q: n=%d err=%v", k, h, n, err)
			}
		}
	}
}

func FuzzParseProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 203.0.113.7 10.0.0.1 12345 8080\r\n"))
	f.Add(proxyV2(1, 0x11, make([]byte, 12)))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, _, err := ParseProxyHeader(b)
		if err == nil && (n <= 0 || n > len(b)) {
			t.Fatalf("n=%d for len %d", n, len(b))
		}
		if err == nil {
			// A complete header parses the same with trailing bytes.
			n2, _, err2 := ParseProxyHeader(append(append([]byte(nil), b...), "GET"...))
			if err2 != nil || n2 != n {
				t.Fatalf("with suffix: n=%d err=%v, want n=%d", n2, err2, n)
			}
		}
	})
}
