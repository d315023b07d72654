package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// proxy is a running Server on 127.0.0.1 with its log captured.
type proxy struct {
	srv     *Server
	addr    string
	profile *mte.Profile
	logs    *observer.ObservedLogs
}

type proxyOpts struct {
	domainMap string
	strength  mte.Strength
	window    int
	tls       *tls.Config // for wss upstreams
	mutate    func(*Config)
}

// startProxy runs a proxy with a short tick so timers are testable.
func startProxy(t testing.TB, o proxyOpts) *proxy {
	t.Helper()
	routes, err := routing.Parse([]byte(o.domainMap))
	if err != nil {
		t.Fatalf("routing.Parse: %v", err)
	}
	profile, err := mte.NewProfile(mte.Params{Strength: o.strength, Window: o.window})
	if err != nil {
		t.Fatalf("mte.NewProfile: %v", err)
	}
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.TickInterval = 20 * time.Millisecond
	cfg.HandshakeTimeout = 3 * time.Second
	cfg.DialTimeout = 3 * time.Second
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	dialer := upstream.NewManager(upstream.Config{DialTimeout: cfg.DialTimeout, TLSConfig: o.tls}, log)
	srv, err := New(cfg, routes, profile, dialer, log)
	if err != nil {
		t.Fatalf("engine.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
		<-done
	})
	return &proxy{srv: srv, addr: srv.Addr().String(), profile: profile, logs: logs}
}

func echoMap(upstreamURL string) string {
	return `{"*":{"upstream":"` + upstreamURL + `","allowedOrigins":["*"]}}`
}

// rawClient speaks the SocketX protocol byte by byte, so tests control
// exactly what goes on the wire (and how it is split).
type rawClient struct {
	t     testing.TB
	conn  net.Conn
	br    *bufio.Reader
	sess  mte.Session
	split func(b []byte) [][]byte // how writes are chunked; nil = whole
}

// dialRaw opens TCP and sends an upgrade request with the given headers.
func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func upgradeHead(path string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	parts := [][]byte{b}
	if c.split != nil {
		parts = c.split(b)
	}
	for _, p := range parts {
		if _, err := c.conn.Write(p); err != nil {
			c.t.Fatalf("write: %v", err)
		}
	}
}

// upgrade sends the request head and expects 101.
func (c *rawClient) upgrade(path string, headers ...string) {
	c.t.Helper()
	c.write([]byte(upgradeHead(path, headers...)))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("read 101: %v", err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		c.t.Fatalf("upgrade: status %d accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
}

// frameBytes is one masked client frame.
func frameBytes(fin bool, op codec.OpCode, payload []byte) []byte {
	var m [4]byte
	_, _ = rand.Read(m[:])
	out := codec.AppendFrameHeader(nil, fin, op, len(payload), &m)
	start := len(out)
	out = append(out, payload...)
	codec.Unmask(out[start:], m, 0)
	return out
}

func (c *rawClient) writeFrame(fin bool, op codec.OpCode, payload []byte) {
	c.write(frameBytes(fin, op, payload))
}

func (c *rawClient) readFrame() ws.Frame {
	c.t.Helper()
	f, err := ws.ReadFrame(c.br)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		c.t.Fatalf("server frame is masked")
	}
	return f
}

// readMessage skips pings/pongs and returns the next data or close frame.
func (c *rawClient) readMessage() ws.Frame {
	c.t.Helper()
	for {
		f := c.readFrame()
		if f.Header.OpCode == ws.OpPing || f.Header.OpCode == ws.OpPong {
			continue
		}
		return f
	}
}

func (c *rawClient) sendHandshake(a mte.Action, payload []byte) {
	c.writeFrame(true, codec.OpBinary, append(mte.AppendHeader(nil, a, mte.TypeHandshake), payload...))
}

// expectHandshake reads a handshake message with the given action.
func (c *rawClient) expectHandshake(a mte.Action) []byte {
	c.t.Helper()
	f := c.readMessage()
	if f.Header.OpCode != ws.OpBinary {
		c.t.Fatalf("want binary handshake frame for %v, got op %v payload %q", a, f.Header.OpCode, f.Payload)
	}
	h, payload, err := mte.ParseHeader(f.Payload)
	if err != nil || h.Action != a || h.Type != mte.TypeHandshake {
		c.t.Fatalf("want action %v type 254, got %+v err %v", a, h, err)
	}
	return payload
}

// pair runs actions 0–5 with the given pathname.
func (c *rawClient) pair(p *mte.Profile, pathname string) {
	c.t.Helper()
	c.sendHandshake(mte.ActionRequest, nil)
	if got := c.expectHandshake(mte.ActionResponse); len(got) != 0 {
		c.t.Fatalf("action 1 payload = %q, want empty", got)
	}
	in, err := mte.NewInitiator(p, rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendHandshake(mte.ActionPairRequest, in.Request())
	resp := c.expectHandshake(mte.ActionPairResponse)
	if err := in.Finish(resp, &c.sess); err != nil {
		c.t.Fatalf("Finish: %v", err)
	}
	body := fmt.Appendf(nil, `{"pathname":%q}`, pathname)
	msg, err := c.sess.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeFrame(true, codec.OpBinary, msg)
	if got := c.expectHandshake(mte.ActionUpstreamResponse); len(got) != 0 {
		c.t.Fatalf("action 5 payload = %q, want empty", got)
	}
}

// connect = dialRaw + upgrade + pair.
func connect(t testing.TB, px *proxy, pathname string, headers ...string) *rawClient {
	t.Helper()
	c := dialRaw(t, px.addr)
	c.upgrade("/", headers...)
	c.pair(px.profile, pathname)
	return c
}

func (c *rawClient) sealData(t mte.MessageType, data []byte) []byte {
	c.t.Helper()
	msg, err := c.sess.Seal(nil, mte.ActionProxyData, t, data)
	if err != nil {
		c.t.Fatal(err)
	}
	return msg
}

func (c *rawClient) send(t mte.MessageType, data []byte) {
	c.writeFrame(true, codec.OpBinary, c.sealData(t, data))
}

// recv decodes the next proxyData message.
func (c *rawClient) recv() (mte.MessageType, []byte) {
	c.t.Helper()
	f := c.readMessage()
	if f.Header.OpCode != ws.OpBinary {
		c.t.Fatalf("want binary proxyData, got op %v payload %q", f.Header.OpCode, f.Payload)
	}
	h, plain, err := c.sess.Open(f.Payload)
	if err != nil || h.Action != mte.ActionProxyData {
		c.t.Fatalf("Open: %+v %v", h, err)
	}
	return h.Type, append([]byte(nil), plain...)
}

// expectClose reads until a close frame and checks code and reason.
func (c *rawClient) expectClose(code uint16, reason string) {
	c.t.Helper()
	f := c.readMessage()
	if f.Header.OpCode != ws.OpClose {
		c.t.Fatalf("want close %d %q, got op %v payload %q", code, reason, f.Header.OpCode, f.Payload)
	}
	var gotCode uint16
	var gotReason string
	if len(f.Payload) >= 2 {
		gotCode = binary.BigEndian.Uint16(f.Payload)
		gotReason = string(f.Payload[2:])
	}
	if gotCode != code || gotReason != reason {
		c.t.Fatalf("close = %d %q, want %d %q", gotCode, gotReason, code, reason)
	}
	// Answer like a real client, then the proxy's EOF must follow.
	_, _ = c.conn.Write(frameBytes(true, codec.OpClose, f.Payload))
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, c.br); err != nil || n != 0 {
		c.t.Fatalf("after close: %d more bytes, err %v (want clean EOF)", n, err)
	}
}

// httpExchange sends a raw request and returns the raw response.
func httpExchange(t testing.TB, addr, request string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = io.Copy(&b, conn)
	return b.String()
}

// statusOf extracts the status code of a raw HTTP response.
func statusOf(resp string) int {
	var code int
	fmt.Sscanf(resp, "HTTP/1.1 %d", &code)
	return code
}

// waitFor polls cond (bounded) for state with no event to wait on, such as
// the server's counters after a peer vanished.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
