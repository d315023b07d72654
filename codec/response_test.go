package codec

import "testing"

func TestAppendUpgradeResponse(t *testing.T) {
	// RFC 6455 §1.3 example key and accept value.
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	tests := []struct {
		protocol string
		want     string
	}{
		{"", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"},
		{"chat", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"},
		{"a\r\nX: y", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: aX: y\r\n\r\n"},
	}
	for _, tt := range tests {
		got := AppendUpgradeResponse([]byte("prefix"), key, []byte(tt.protocol))
		if string(got) != "prefix"+tt.want {
			t.Errorf("protocol %q:\ngot  %q\nwant %q", tt.protocol, got, "prefix"+tt.want)
		}
	}
}

func TestAppendAcceptLongKey(t *testing.T) {
	// Keys longer than the stack buffer take the scratch path; both paths
	// must agree with a direct computation. Expected values from
	// `printf '%s' "$key$GUID" | openssl sha1 -binary | base64`.
	tests := []struct{ key, want string }{
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{"", "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w="},
	}
	for _, tt := range tests {
		if got := appendAccept(nil, []byte(tt.key)); string(got) != tt.want {
			t.Errorf("accept(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'A' + byte(i%26)
	}
	dst := make([]byte, 3, 300)
	copy(dst, "abc")
	got := appendAccept(dst, long)
	want := appendAccept(nil, long) // same path, different dst
	if string(got[:3]) != "abc" || string(got[3:]) != string(want) || len(want) != acceptLen {
		t.Errorf("long key: %q vs %q", got, want)
	}
}

func TestAppendResponse(t *testing.T) {
	got := AppendResponse(nil, 200, "text/plain", []byte("ok\n"), "Cache-Control: no-store", "X-Evil: a\r\nb")
	want := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n" +
		"Cache-Control: no-store\r\nX-Evil: ab\r\n\r\nok\n"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = AppendResponse(nil, 204, "", nil)
	want = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = AppendResponse(nil, 299, "", nil)
	want = "HTTP/1.1 299 Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAppendErrorResponse(t *testing.T) {
	const ct = "Content-Type: text/plain; charset=utf-8\r\n"
	tests := []struct {
		err  *HTTPError
		want string
	}{
		{errDupHost, "HTTP/1.1 400 Bad Request\r\n" + ct + "Content-Length: 22\r\nConnection: close\r\n\r\nduplicate Host header\n"},
		{errNotGet, "HTTP/1.1 405 Method Not Allowed\r\n" + ct + "Content-Length: 31\r\nConnection: close\r\nAllow: GET\r\n\r\nwebsocket upgrade requires GET\n"},
		{errBadVersionWS, "HTTP/1.1 426 Upgrade Required\r\n" + ct + "Content-Length: 34\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\n\r\nunsupported Sec-WebSocket-Version\n"},
		{errHeadTooLarge, "HTTP/1.1 431 Request Header Fields Too Large\r\n" + ct + "Content-Length: 25\r\nConnection: close\r\n\r\nrequest header too large\n"},
		{errBadVersion, "HTTP/1.1 505 HTTP Version Not Supported\r\n" + ct + "Content-Length: 27\r\nConnection: close\r\n\r\nHTTP version not supported\n"},
		{&HTTPError{Status: 503, Reason: "draining"}, "HTTP/1.1 503 Service Unavailable\r\n" + ct + "Content-Length: 9\r\nConnection: close\r\nRetry-After: 1\r\n\r\ndraining\n"},
		{&HTTPError{Status: 503, Reason: "busy", RetryAfter: 30}, "HTTP/1.1 503 Service Unavailable\r\n" + ct + "Content-Length: 5\r\nConnection: close\r\nRetry-After: 30\r\n\r\nbusy\n"},
	}
	for _, tt := range tests {
		if got := AppendErrorResponse(nil, tt.err); string(got) != tt.want {
			t.Errorf("%d:\ngot  %q\nwant %q", tt.err.Status, got, tt.want)
		}
	}
}

func TestHeadOnly(t *testing.T) {
	tests := []struct {
		resp []byte
		want string
	}{
		{AppendResponse(nil, 200, "application/json", []byte(`{"status":"ok"}`)),
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"},
		{AppendResponse(nil, 200, "text/plain", []byte("a\r\n\r\nb"), "X-Evil: \r\n\r\nbody"),
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\nX-Evil: body\r\n\r\n"},
		{AppendResponse(nil, 204, "", nil),
			"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		{AppendErrorResponse(nil, errNotGet),
			"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 31\r\nConnection: close\r\nAllow: GET\r\n\r\n"},
	}
	for _, tt := range tests {
		if got := HeadOnly(tt.resp); string(got) != tt.want {
			t.Errorf("HeadOnly(%q):\ngot  %q\nwant %q", tt.resp, got, tt.want)
		}
	}
}

func TestResponseAllocs(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendUpgradeResponse(buf[:0], key, []byte("chat"))
		buf = AppendErrorResponse(buf[:0], errNotGet)
		buf = AppendResponse(buf[:0], 200, "text/plain", []byte("ok"), "Cache-Control: no-store")
		buf = HeadOnly(buf)
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}
