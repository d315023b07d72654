package testupstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// testCtx bounds a test's blocking calls so a bug fails instead of hanging.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, ctx context.Context, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func roundTrip(t *testing.T, ctx context.Context, c *websocket.Conn, typ websocket.MessageType, data []byte) {
	t.Helper()
	if err := c.Write(ctx, typ, data); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gotTyp != typ || !bytes.Equal(got, data) {
		t.Fatalf("echo = %v %q, want %v %q", gotTyp, got, typ, data)
	}
}

func TestEcho(t *testing.T) {
	ctx := testCtx(t)
	// Room for every message pingRoundTrip may send before its ping goes
	// out: the echo's report blocks on a full channel, and with 8 slots a
	// slow-to-schedule Ping once made it stall the echo (and the test) for
	// 20 s on a loaded machine.
	msgs := make(chan Message, 1024)
	e := NewEcho(t, WithMessages(msgs))
	if !strings.HasPrefix(e.URL, "ws://127.0.0.1:") || !strings.HasSuffix(e.URL, "/") {
		t.Fatalf("URL = %q", e.URL)
	}
	h := http.Header{}
	h.Set("X-Forwarded-For", "10.1.2.3")
	h.Set("X-Forwarded-Proto", "https")
	h.Set("Origin", "https://app.example")
	c := dial(t, ctx, e.URL+"rooms/dogs%2Fcats?token=a%20b&x=1", &websocket.DialOptions{
		HTTPHeader:   h,
		Subprotocols: []string{"superchat", "chat"},
	})
	if c.Subprotocol() != "chat" {
		t.Fatalf("subprotocol = %q, want chat (server preference order)", c.Subprotocol())
	}
	reqs := e.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "GET" || r.RequestURI != "/rooms/dogs%2Fcats?token=a%20b&x=1" ||
		r.Path != "/rooms/dogs/cats" || r.RawQuery != "token=a%20b&x=1" || r.Subprotocol != "chat" {
		t.Fatalf("request = %+v", r)
	}
	for k, want := range map[string]string{"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https", "Origin": "https://app.example", "Sec-Websocket-Protocol": "superchat,chat"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}

	roundTrip(t, ctx, c, websocket.MessageText, []byte("hello"))
	roundTrip(t, ctx, c, websocket.MessageBinary, []byte{0, 1, 2, 0xff})
	roundTrip(t, ctx, c, websocket.MessageBinary, []byte{})
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	c.SetReadLimit(int64(len(big)))
	roundTrip(t, ctx, c, websocket.MessageBinary, big)
	for i, want := range []Message{{websocket.MessageText, []byte("hello")}, {websocket.MessageBinary, []byte{0, 1, 2, 0xff}}, {websocket.MessageBinary, []byte{}}} {
		got := <-msgs
		if got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("message %d = %v %q, want %v %q", i, got.Type, got.Data, want.Type, want.Data)
		}
	}
	if got := <-msgs; len(got.Data) != len(big) {
		t.Fatalf("big message recorded with %d bytes", len(got.Data))
	}
	// Ping answered by the library.
	for n := pingRoundTrip(t, ctx, c); n > 0; n-- {
		if got := <-msgs; string(got.Data) != "after ping" {
			t.Fatalf("recorded %q during the ping, want \"after ping\"", got.Data)
		}
	}

	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close: %v", err)
	}
	end := <-e.Ended()
	if end.Code != websocket.StatusNormalClosure || end.Reason != "bye" {
		t.Fatalf("ending = %+v", end)
	}
}

// pingRoundTrip pings c and round-trips messages until the pong arrived: a
// coder/websocket client processes pongs only inside Read, and the ping may
// be written after the first message, so it keeps reading until Ping
// returns. It returns the number of messages round-tripped.
func pingRoundTrip(t *testing.T, ctx context.Context, c *websocket.Conn) int {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- c.Ping(ctx) }()
	for n := 1; ; n++ {
		roundTrip(t, ctx, c, websocket.MessageText, []byte("after ping"))
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
			return n
		default:
		}
	}
}

func TestEchoNoSubprotocol(t *testing.T) {
	ctx := testCtx(t)
	e := NewEcho(t, WithSubprotocols())
	c := dial(t, ctx, e.URL, &websocket.DialOptions{Subprotocols: []string{"chat"}})
	if c.Subprotocol() != "" {
		t.Fatalf("subprotocol = %q", c.Subprotocol())
	}
	if r := e.Requests()[0]; r.Subprotocol != "" || r.Path != "/" || r.RequestURI != "/" {
		t.Fatalf("request = %+v", r)
	}
}

func TestEchoReadLimit(t *testing.T) {
	ctx := testCtx(t)
	e := NewEcho(t, WithReadLimit(16))
	c := dial(t, ctx, e.URL, nil)
	if err := c.Write(ctx, websocket.MessageBinary, make([]byte, 17)); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf("close status %v (%v), want 1009", got, err)
	}
}

func TestEchoCloseUnblocksConnections(t *testing.T) {
	ctx := testCtx(t)
	e := NewEcho(t)
	c := dial(t, ctx, e.URL, nil)
	e.Close() // waits for the handler
	e.Close() // idempotent
	if _, _, err := c.Read(ctx); err == nil {
		t.Fatal("read after server Close succeeded")
	}
	if end := <-e.Ended(); end.Code != -1 {
		t.Fatalf("ending = %+v, want code -1", end)
	}
}

func TestTLSEcho(t *testing.T) {
	ctx := testCtx(t)
	e := NewTLSEcho(t)
	if !strings.HasPrefix(e.URL, "wss://127.0.0.1:") {
		t.Fatalf("URL = %q", e.URL)
	}
	block, rest := pem.Decode(e.CACertPEM())
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("CACertPEM is not one PEM certificate")
	}
	for _, url := range []string{e.URL, strings.Replace(e.URL, "127.0.0.1", "localhost", 1)} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: e.ClientTLSConfig()}}
		c := dial(t, ctx, url+"secure?x=1", &websocket.DialOptions{HTTPClient: client})
		roundTrip(t, ctx, c, websocket.MessageText, []byte("over tls"))
		c.Close(websocket.StatusNormalClosure, "")
	}
	// Without the CA the handshake fails verification.
	_, _, err := websocket.Dial(ctx, e.URL, &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}})
	var uerr interface{ Unwrap() error }
	if err == nil || !errors.As(err, &uerr) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("dial without CA: %v", err)
	}
	if got := e.Requests(); len(got) != 2 || got[0].Path != "/secure" {
		t.Fatalf("requests = %+v", got)
	}
}

func TestCloserAfterFirstMessage(t *testing.T) {
	ctx := testCtx(t)
	msgs := make(chan Message, 1)
	s := NewCloser(t, 4001, "room closed", WithMessages(msgs))
	c := dial(t, ctx, s.URL, nil)
	if err := c.Write(ctx, websocket.MessageText, []byte("first")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "room closed" {
		t.Fatalf("read: %v", err)
	}
	if err := <-s.Closed(); err != nil {
		t.Fatalf("server close handshake: %v", err)
	}
	if m := <-msgs; m.Type != websocket.MessageText || string(m.Data) != "first" {
		t.Fatalf("message = %+v", m)
	}
}

func TestCloserImmediately(t *testing.T) {
	ctx := testCtx(t)
	s := NewCloser(t, websocket.StatusPolicyViolation, "go away", Immediately())
	c := dial(t, ctx, s.URL, nil)
	_, _, err := c.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || ce.Reason != "go away" {
		t.Fatalf("read: %v", err)
	}
	if err := <-s.Closed(); err != nil {
		t.Fatalf("server close handshake: %v", err)
	}
}

func TestAbrupt(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(map[bool]string{false: "fin", true: "reset"}[reset], func(t *testing.T) {
			ctx := testCtx(t)
			var opts []Option
			if reset {
				opts = append(opts, WithReset())
			}
			s := NewAbrupt(t, opts...)
			c := dial(t, ctx, s.URL, nil)
			if err := c.Write(ctx, websocket.MessageBinary, []byte{1}); err != nil {
				t.Fatal(err)
			}
			<-s.Dropped()
			_, _, err := c.Read(ctx)
			if err == nil || websocket.CloseStatus(err) != -1 {
				t.Fatalf("read: %v, want an error without close frame", err)
			}
		})
	}
}

func TestAbruptRawReset(t *testing.T) {
	ctx := testCtx(t)
	s := NewAbrupt(t, WithReset())
	conn := rawUpgrade(t, s.URL)
	// Masked binary frame, payload 0x01, mask 0.
	if _, err := conn.Write([]byte{0x82, 0x81, 0, 0, 0, 0, 0x01}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Dropped():
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	_, err := io.ReadAll(conn)
	if !errors.Is(err, syscallECONNRESET()) {
		t.Fatalf("read after drop: %v, want connection reset", err)
	}
}

func TestSlowReader(t *testing.T) {
	ctx := testCtx(t)
	s := NewSlowReader(t)
	c := dial(t, ctx, s.URL, nil)
	<-s.Accepted()
	// Writes eventually block: the server never reads.
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	chunk := make([]byte, 64<<10)
	var written int
	for {
		if err := c.Write(wctx, websocket.MessageBinary, chunk); err != nil {
			break
		}
		written += len(chunk)
		if written > 64<<20 {
			t.Fatalf("wrote %d bytes to a server that never reads", written)
		}
	}
	if wctx.Err() == nil {
		t.Fatal("write failed before the deadline")
	}
	if len(s.Requests()) != 1 {
		t.Fatalf("requests = %d", len(s.Requests()))
	}
}

func TestNeverUpgrade(t *testing.T) {
	ctx := testCtx(t)
	for _, status := range []int{http.StatusForbidden, http.StatusOK} {
		s := NewNeverUpgrade(t, status)
		_, resp, err := websocket.Dial(ctx, s.URL+"x?y=z", nil)
		if err == nil || resp == nil || resp.StatusCode != status {
			t.Fatalf("dial: resp=%v err=%v, want status %d", resp, err, status)
		}
		reqs := s.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/x" || reqs[0].RawQuery != "y=z" || reqs[0].Header.Get("Upgrade") != "websocket" {
			t.Fatalf("requests = %+v", reqs)
		}
		resp, err = http.Get("http" + strings.TrimPrefix(s.URL, "ws"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status || string(body) != http.StatusText(status) {
			t.Fatalf("GET = %d %q", resp.StatusCode, body)
		}
	}
}

func TestGarbage(t *testing.T) {
	ctx := testCtx(t)
	s := NewGarbage(t)
	c := dial(t, ctx, s.URL, nil)
	<-s.Written()
	_, _, err := c.Read(ctx)
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("read: %v, want a protocol error", err)
	}
}

func TestGarbageRawBytes(t *testing.T) {
	s := NewGarbage(t, WithGarbage([]byte("\x00junk")))
	conn := rawUpgrade(t, s.URL)
	got, err := io.ReadAll(io.LimitReader(conn, 5))
	if err != nil || string(got) != "\x00junk" {
		t.Fatalf("after 101: %q, %v", got, err)
	}
}

func TestPinger(t *testing.T) {
	ctx := testCtx(t)
	msgs := make(chan Message, 1024)
	p := NewPinger(t, WithMessages(msgs))
	c := dial(t, ctx, p.URL, nil)
	// The client answers the server's ping while it reads.
	roundTrip(t, ctx, c, websocket.MessageText, []byte("hi"))
	<-msgs
	select {
	case <-p.PongReceived():
	case <-ctx.Done():
		t.Fatal("no pong recorded")
	}
	for i := 0; i < 3; i++ {
		for n := pingRoundTrip(t, ctx, c); n > 0; n-- {
			<-msgs
		}
	}
	if err := p.WaitPings(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if p.PingsReceived() != 3 || p.Pongs() != 1 {
		t.Fatalf("pings=%d pongs=%d, want 3 and 1", p.PingsReceived(), p.Pongs())
	}
	// A wait that cannot be satisfied ends with the context.
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.WaitPings(wctx, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitPings = %v", err)
	}
}

// rawUpgrade performs a minimal client handshake on a raw TCP connection and
// returns the connection positioned after the 101 response head.
func rawUpgrade(t *testing.T, url string) net.Conn {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	var head []byte
	one := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := conn.Read(one); err != nil {
			t.Fatalf("reading 101 head: %v (%q)", err, head)
		}
		head = append(head, one[0])
	}
	// RFC 6455 §1.3 sample key and accept value.
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) || !bytes.Contains(bytes.ToLower(head), []byte("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n")) {
		t.Fatalf("head = %q", head)
	}
	return conn
}
