package codec

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAppendClientHandshake(t *testing.T) {
	tests := []struct {
		name     string
		h        ClientHandshake
		want     string
		parseErr error // what our own ParseRequest says about the result
	}{{
		name: "minimal",
		h:    ClientHandshake{Host: "echo.example.com:8080", RequestURI: "/ws/dogs?x=1", Key: "dGhlIHNhbXBsZSBub25jZQ=="},
		want: "GET /ws/dogs?x=1 HTTP/1.1\r\nHost: echo.example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: socketx\r\n\r\n",
	}, {
		name: "all fields",
		h: ClientHandshake{Host: "up", RequestURI: "/", Key: "AAAAAAAAAAAAAAAAAAAAAA==", Origin: "https://app",
			Protocol: "chat", XForwardedFor: "1.2.3.4, 10.0.0.1", XForwardedProto: "https", UserAgent: "socketx/1.0"},
		want: "GET / HTTP/1.1\r\nHost: up\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://app\r\n" +
			"Sec-WebSocket-Protocol: chat\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.1\r\nX-Forwarded-Proto: https\r\n" +
			"User-Agent: socketx/1.0\r\n\r\n",
	}, {
		name: "empty URI, injection attempts",
		h:    ClientHandshake{Host: "up\r\nX-Evil: 1", RequestURI: "", Key: "k", Origin: "o\nX: y"},
		want: "GET / HTTP/1.1\r\nHost: upX-Evil: 1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\nOrigin: oX: y\r\nUser-Agent: socketx\r\n\r\n",
		parseErr: errBadHost,
	}, {
		name: "decoded pathname is re-escaped",
		h:    ClientHandshake{Host: "up", RequestURI: "rooms/a b?q=café#frag HTTP/1.1\r\nX: {|}", Key: "k"},
		want: "GET /rooms/a%20b?q=caf%C3%A9%23frag%20HTTP/1.1%0D%0AX:%20%7B%7C%7D HTTP/1.1\r\nHost: up\r\n" +
			"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n" +
			"User-Agent: socketx\r\n\r\n",
	}, {
		name: "existing escapes kept",
		h:    ClientHandshake{Host: "up", RequestURI: "/a%2Fb?x=%20", Key: "k"},
		want: "GET /a%2Fb?x=%20 HTTP/1.1\r\nHost: up\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\nUser-Agent: socketx\r\n\r\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendClientHandshake(nil, &tt.h)
			if string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
			// Our own request parser accepts what we send.
			var r Request
			n, err := ParseRequest(got, 4096, &r)
			if err != tt.parseErr || (err == nil && n != len(got)) {
				t.Fatalf("ParseRequest: %d, %v; want %v", n, err, tt.parseErr)
			}
		})
	}
}

func TestNewKey(t *testing.T) {
	var key [24]byte
	src := bytes.NewReader([]byte("0123456789abcdefXYZ"))
	if err := NewKey(src, &key); err != nil {
		t.Fatal(err)
	}
	if string(key[:]) != "MDEyMzQ1Njc4OWFiY2RlZg==" || !validKey(key[:]) {
		t.Errorf("key %q", key)
	}
	err := NewKey(bytes.NewReader([]byte("short")), &key)
	if !errors.Is(err, io.ErrUnexpectedEOF) || err.Error() != "codec: reading random key: unexpected EOF" {
		t.Errorf("short reader: %v", err)
	}
}

const (
	testKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	goodAccept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	good101    = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + goodAccept + "\r\n"
)

func TestParseHandshakeResponse(t *testing.T) {
	const sw = "HTTP/1.1 101 Switching Protocols\r\n"
	const uc = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	tests := []struct {
		name     string
		resp     string
		maxHead  int
		n        int
		protocol string
		err      error
	}{
		{"good", good101, 0, len(good101), nilS, nil},
		{"good, frame follows", good101 + "\x81\x05Hello", 0, len(good101), nilS, nil},
		{"good, protocol, lists, case", "HTTP/1.1 101 \r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\n" +
			"sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions:\r\n\r\n",
			0, -1, "chat", nil},
		{"no reason phrase", "HTTP/1.1 101\r\n" + uc + goodAccept + "\r\n", 0, -1, nilS, nil},
		{"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 0, 0, nilS, &UpstreamError{Status: 403}},
		{"403 head still arriving", "HTTP/1.1 403 Forbidden\r\nContent-Le", 0, 0, nilS, &UpstreamError{Status: 403}},
		{"200 HTTP/1.0", "HTTP/1.0 200 OK\r\n\r\n", 0, 0, nilS, &UpstreamError{Status: 200}},
		{"wrong accept", sw + uc + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n", 0, 0, nilS, ErrBadAccept},
		{"no accept", sw + uc + "\r\n", 0, 0, nilS, ErrBadAccept},
		{"two accepts", sw + uc + goodAccept + goodAccept + "\r\n", 0, 0, nilS, ErrBadAccept},
		{"missing upgrade", sw + "Connection: Upgrade\r\n" + goodAccept + "\r\n", 0, 0, nilS, ErrNoUpgrade},
		{"upgrade not websocket", sw + "Upgrade: h2c\r\nConnection: Upgrade\r\n" + goodAccept + "\r\n", 0, 0, nilS, ErrNoUpgrade},
		{"missing connection", sw + "Upgrade: websocket\r\n" + goodAccept + "\r\n", 0, 0, nilS, ErrNoConnection},
		{"extension", sw + uc + goodAccept + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 0, 0, nilS, ErrExtension},
		{"two protocols", sw + uc + goodAccept + "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"not HTTP, first byte", "\x15", 0, 0, nilS, ErrMalformedResponse},
		{"101 in HTTP/1.0", "HTTP/1.0 101 Switching Protocols\r\n" + uc + goodAccept + "\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"bad status", "HTTP/1.1 1x1 Switching\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"status 099", "HTTP/1.1 099 Odd\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"status glued to reason", "HTTP/1.1 101Switching\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"bare LF", "HTTP/1.1 101 Switching Protocols\n\n", 0, 0, nilS, ErrMalformedResponse},
		{"obs-fold", sw + uc + goodAccept + " folded\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"NUL in value", sw + uc + goodAccept + "X: a\x00\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"no colon", sw + uc + goodAccept + "Xy\r\n\r\n", 0, 0, nilS, ErrMalformedResponse},
		{"too large", good101, len(good101) - 1, 0, nilS, ErrResponseTooLarge},
		{"too many headers", sw + strings.Repeat("X: y\r\n", MaxHeaders+1) + "\r\n", 0, 0, nilS, ErrResponseTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxHead := tt.maxHead
			if maxHead == 0 {
				maxHead = 4096
			}
			if tt.n == -1 { // the whole response is the head
				tt.n = len(tt.resp)
			}
			var r HandshakeResponse
			n, err := ParseHandshakeResponse([]byte(tt.resp), maxHead, []byte(testKey), &r)
			if ue, ok := tt.err.(*UpstreamError); ok {
				got, ok := err.(*UpstreamError)
				if !ok || *got != *ue || n != 0 || got.Error() != ue.Error() {
					t.Fatalf("%d, %v; want %v", n, err, tt.err)
				}
			} else if err != tt.err || n != tt.n {
				t.Fatalf("%d, %v; want %d, %v", n, err, tt.n, tt.err)
			}
			if err == nil && (s(r.Protocol) != tt.protocol || r.Status != 101 || r.HeadLen != n) {
				t.Fatalf("response %+v", r)
			}
			checkResponseSplit(t, []byte(tt.resp), maxHead)
		})
	}
	if got := (&UpstreamError{Status: 403}).Error(); got != "codec: upstream answered 403" {
		t.Errorf("Error() = %q", got)
	}
}

func checkResponseSplit(t *testing.T, b []byte, maxHead int) {
	t.Helper()
	key := []byte(testKey)
	var full HandshakeResponse
	n, err := ParseHandshakeResponse(b, maxHead, key, &full)
	for k := 0; k <= len(b); k++ {
		var r HandshakeResponse
		nk, errk := ParseHandshakeResponse(b[:k], maxHead, key, &r)
		if errk == ErrNeedMore {
			if nk != 0 {
				t.Fatalf("k=%d: ErrNeedMore with n=%d", k, nk)
			}
			continue
		}
		same := errk == err
		if ue, ok := err.(*UpstreamError); ok {
			uk, ok := errk.(*UpstreamError)
			same = ok && *uk == *ue
		}
		if !same || nk != n || s(r.Protocol) != s(full.Protocol) || r.HeadLen != full.HeadLen || r.Status != full.Status {
			t.Fatalf("k=%d: %d, %v; one-shot %d, %v", k, nk, errk, n, err)
		}
	}
}

func TestParseHandshakeResponseAllocs(t *testing.T) {
	b := []byte(good101)
	key := []byte(testKey)
	var r HandshakeResponse
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseHandshakeResponse(b, 4096, key, &r); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseHandshakeResponse(b[:50], 4096, key, &r); err != ErrNeedMore {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}
