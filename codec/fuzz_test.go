package codec

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func FuzzParseRequest(f *testing.F) {
	seeds := []string{
		browserHead,
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
		"GET /?a=b HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(4096))
		f.Add([]byte(s), uint16(40))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxHead uint16) {
		if len(data) > 4096 {
			return
		}
		mh := int(maxHead%4096) + 1
		var r Request
		n, err := ParseRequest(data, mh, &r)
		switch {
		case err == nil:
			if n <= 0 || n > len(data) || n > mh || r.HeadLen != n ||
				!bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) {
				t.Fatalf("n=%d HeadLen=%d len=%d maxHead=%d", n, r.HeadLen, len(data), mh)
			}
			// Every field aliases the head.
			for _, fld := range [][]byte{r.Method, r.Target, r.Proto, r.Host, r.Origin, r.Upgrade,
				r.Connection, r.SecKey, r.SecVersion, r.Protocol, r.Extensions, r.XForwardedFor,
				r.XForwardedProto, r.UserAgent, r.TransferEncoding} {
				if len(fld) > 0 && !within(fld, data[:n]) {
					t.Fatalf("field %q outside the head", fld)
				}
			}
			if err := CheckUpgrade(&r); err != nil {
				AppendErrorResponse(nil, err.(*HTTPError))
			} else if !r.IsUpgrade() {
				t.Fatal("CheckUpgrade passed a request that is not an upgrade")
			}
		case err == ErrNeedMore:
			if n != 0 || len(data) >= mh {
				t.Fatalf("ErrNeedMore with n=%d len=%d maxHead=%d", n, len(data), mh)
			}
		default:
			var he *HTTPError
			if !errors.As(err, &he) || n != 0 {
				t.Fatalf("unexpected %d, %v", n, err)
			}
		}
		checkRequestSplit(t, data, mh)
	})
}

// within reports whether sub is a subslice of b.
func within(sub, b []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for i := range b {
		if &b[i] == &sub[0] {
			return i+len(sub) <= len(b)
		}
	}
	return false
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range [][]byte{
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'},
		{0x82, 0x7e, 0x01, 0x00},
		{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0},
		{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0x89, 0xfe, 0x00, 0x7e},
		{0xc1, 0x80},
	} {
		f.Add(s, uint8(0), uint32(0))
		f.Add(s, uint8(1), uint32(1<<16))
		f.Add(s, uint8(2), uint32(125))
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint8, maxPayload uint32) {
		lim := Limits{MaxPayload: int64(maxPayload), RequireMask: flags&1 != 0, ForbidMask: flags&2 != 0}
		var h Header
		n, err := ParseHeader(data, lim, &h)
		wh, wn, werr := naiveParseHeader(data, lim)
		if err != werr || n != wn || (err == nil && h != wh) {
			t.Fatalf("%d %+v %v; naive %d %+v %v", n, h, err, wn, wh, werr)
		}
		if err == nil {
			if n < 2 || n > MaxHeaderLen || n != HeaderLen(int(min(h.Length, 1<<40)), h.Masked) {
				t.Fatalf("n=%d for %+v", n, h)
			}
			// What we write for this header is what we parsed.
			var m *[4]byte
			if h.Masked {
				m = &h.Mask
			}
			if h.Length < 1<<40 {
				if w := AppendFrameHeader(nil, h.Fin, h.Op, int(h.Length), m); !bytes.Equal(w, data[:n]) {
					t.Fatalf("rewrite % x != % x", w, data[:n])
				}
			}
		}
		checkHeaderSplit(t, data, lim)
	})
}

func FuzzParseHandshakeResponse(f *testing.F) {
	f.Add([]byte(good101), uint16(4096))
	f.Add([]byte(good101+"\x81\x05Hello"), uint16(4096))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), uint16(4096))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"), uint16(60))
	f.Add([]byte("HTTP/1.1 101 \r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\n"+
		"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"), uint16(4096))
	f.Fuzz(func(t *testing.T, data []byte, maxHead uint16) {
		if len(data) > 4096 {
			return
		}
		mh := int(maxHead%4096) + 1
		var r HandshakeResponse
		n, err := ParseHandshakeResponse(data, mh, []byte(testKey), &r)
		if err == nil {
			if n <= 0 || n > len(data) || n > mh || r.Status != 101 || r.HeadLen != n ||
				!bytes.HasSuffix(data[:n], []byte("\r\n\r\n")) || !within(r.Protocol, data[:n]) {
				t.Fatalf("n=%d %+v", n, r)
			}
		} else if n != 0 {
			t.Fatalf("n=%d with %v", n, err)
		}
		checkResponseSplit(t, data, mh)
	})
}

func FuzzParseClosePayload(f *testing.F) {
	for _, s := range []string{"", "\x03", "\x03\xe8", "\x03\xe8bye", "\x03\xec", "\x13\x87caf\xc3\xa9", "\x03\xe8\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		if err != nil {
			ce, ok := err.(*CloseError)
			if !ok || (ce.Code != CloseProtocolError && ce.Code != CloseInvalidPayload) || code != 0 || reason != nil {
				t.Fatalf("%d %q %v", code, reason, err)
			}
			return
		}
		if len(p) == 0 {
			if code != CloseNoStatus || reason != nil {
				t.Fatalf("empty: %d %q", code, reason)
			}
			return
		}
		if !ValidCloseCode(code) || !utf8.Valid(reason) || ForwardableCode(code) != code {
			t.Fatalf("%d %q", code, reason)
		}
		// Re-encoding gives the same payload when it fits, and a valid
		// prefix of it otherwise.
		out := AppendClosePayload(nil, code, string(reason))
		if len(out) > MaxControlPayload || !bytes.HasPrefix(p, out) {
			t.Fatalf("re-encoded %q from %q", out, p)
		}
		if len(p) <= MaxControlPayload && !bytes.Equal(out, p) {
			t.Fatalf("re-encoded %q from %q", out, p)
		}
		if _, _, err := ParseClosePayload(out); err != nil {
			t.Fatalf("re-encoded payload rejected: %v", err)
		}
	})
}
