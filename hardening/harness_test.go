package hardening

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
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/routing"
	"github.com/socketx/socketx-server/upstream"
)

// The raw client below is adapted from engine/harness_test.go: it speaks the
// SocketX protocol byte by byte so a test controls exactly what goes on the
// wire.

// proxy is a running engine.Server on 127.0.0.1 with its info log captured.
type proxy struct {
	srv     *engine.Server
	addr    string
	profile *mte.Profile
	logs    *capture
}

type proxyOpts struct {
	domainMap string
	strength  mte.Strength
	window    int
	tls       *tls.Config // roots for wss upstreams
	mutate    func(*engine.Config)
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
	logs := newCapture(zap.InfoLevel)
	log := zap.New(logs)
	cfg := engine.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.TickInterval = 20 * time.Millisecond
	cfg.HandshakeTimeout = 3 * time.Second
	cfg.DialTimeout = 3 * time.Second
	cfg.CloseTimeout = 2 * time.Second
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	dialer := upstream.NewManager(upstream.Config{DialTimeout: cfg.DialTimeout, TLSConfig: o.tls}, log)
	srv, err := engine.New(cfg, routes, profile, dialer, log)
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

// rawClient speaks WebSocket and SocketX by hand.
type rawClient struct {
	t     testing.TB
	conn  net.Conn
	br    *bufio.Reader
	sess  mte.Session
	split func(b []byte) [][]byte // how writes are chunked; nil = whole
}

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

const testKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3; accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=

// upgradeHead is a valid upgrade request for app.example.com with extra
// header lines appended.
func upgradeHead(path string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

const goodOrigin = "Origin: https://app.example.com"

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

// readMessage skips pings and pongs.
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

func handshakeMsg(a mte.Action, payload []byte) []byte {
	return append(mte.AppendHeader(nil, a, mte.TypeHandshake), payload...)
}

func (c *rawClient) sendHandshake(a mte.Action, payload []byte) {
	c.writeFrame(true, codec.OpBinary, handshakeMsg(a, payload))
}

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

// hello runs actions 0 and 1.
func (c *rawClient) hello() {
	c.t.Helper()
	c.sendHandshake(mte.ActionRequest, nil)
	if got := c.expectHandshake(mte.ActionResponse); len(got) != 0 {
		c.t.Fatalf("action 1 payload = %q, want empty", got)
	}
}

// keys runs actions 2 and 3 (after hello).
func (c *rawClient) keys(p *mte.Profile) {
	c.t.Helper()
	in, err := mte.NewInitiator(p, rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendHandshake(mte.ActionPairRequest, in.Request())
	resp := c.expectHandshake(mte.ActionPairResponse)
	if err := in.Finish(resp, &c.sess); err != nil {
		c.t.Fatalf("Finish: %v", err)
	}
}

// pathname sends action 4 and expects action 5.
func (c *rawClient) pathname(pathname string) {
	c.t.Helper()
	c.sendPathname(pathname)
	if got := c.expectHandshake(mte.ActionUpstreamResponse); len(got) != 0 {
		c.t.Fatalf("action 5 payload = %q, want empty", got)
	}
}

func (c *rawClient) sendPathname(pathname string) {
	c.t.Helper()
	body := fmt.Appendf(nil, `{"pathname":%q}`, pathname)
	msg, err := c.sess.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, body)
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeFrame(true, codec.OpBinary, msg)
}

// pair runs actions 0–5.
func (c *rawClient) pair(p *mte.Profile, pathname string) {
	c.t.Helper()
	c.hello()
	c.keys(p)
	c.pathname(pathname)
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

// roundTrip sends one message and expects its echo.
func (c *rawClient) roundTrip(typ mte.MessageType, data []byte) {
	c.t.Helper()
	c.send(typ, data)
	gotT, got := c.recv()
	if gotT != typ || !bytes.Equal(got, data) {
		c.t.Fatalf("echo of %v %q = %v %q", typ, data, gotT, got)
	}
}

// expectClose reads until a close frame, checks code and reason, answers
// it like a real client and then requires a clean EOF.
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
	_, _ = c.conn.Write(frameBytes(true, codec.OpClose, f.Payload))
	c.expectEOF()
}

// expectEOF requires that nothing more arrives before the proxy's FIN.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, c.br); err != nil || n != 0 {
		c.t.Fatalf("after close: %d more bytes, err %v (want clean EOF)", n, err)
	}
	_ = c.conn.Close() // as a real client does once the proxy's FIN arrived
}

// readAll returns everything until the proxy closes (bounded).
func (c *rawClient) readAll() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b bytes.Buffer
	if _, err := io.Copy(&b, c.br); err != nil {
		c.t.Fatalf("read response: %v (got %q)", err, b.String())
	}
	_ = c.conn.Close()
	return b.String()
}

// errorResponse is the exact response the proxy writes for a rejected
// request (written independently of codec.AppendErrorResponse).
func errorResponse(status int, reason string) string {
	extra := ""
	switch status {
	case 405:
		extra = "Allow: GET\r\n"
	case 426:
		extra = "Sec-WebSocket-Version: 13\r\n"
	}
	return "HTTP/1.1 " + strconv.Itoa(status) + " " + codec.StatusText(status) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(reason)+1) + "\r\n" +
		"Connection: close\r\n" + extra + "\r\n" + reason + "\n"
}

// logLine is an expected log entry: the message and the fields that must
// have exactly these values (nested "audit" fields as "audit.close_code").
type logLine struct {
	msg    string
	fields map[string]any
}

// capture is a zapcore.Core that encodes every entry's fields when the
// entry is written, as the production JSON core does. (zaptest/observer
// keeps the zap.Field values and encodes them later, which reads []byte
// fields after the engine reused their buffer: see TestBugRejectLogAliases.)
type capture struct {
	zapcore.LevelEnabler
	ctx []zapcore.Field
	out *captured
}

type captured struct {
	mu      sync.Mutex // guards entries
	entries []entry
}

// entry is one written log line with its fields flattened to strings
// (nested objects as "audit.close_code").
type entry struct {
	Level   zapcore.Level
	Message string
	Fields  map[string]string
}

func newCapture(lvl zapcore.LevelEnabler) *capture {
	return &capture{LevelEnabler: lvl, out: &captured{}}
}

func (c *capture) With(fields []zapcore.Field) zapcore.Core {
	return &capture{LevelEnabler: c.LevelEnabler, ctx: append(append([]zapcore.Field(nil), c.ctx...), fields...), out: c.out}
}

func (c *capture) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *capture) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.ctx {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	flat := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			flat[prefix+k] = fmt.Sprint(v)
		}
	}
	walk("", enc.Fields)
	c.out.mu.Lock()
	c.out.entries = append(c.out.entries, entry{e.Level, e.Message, flat})
	c.out.mu.Unlock()
	return nil
}

func (c *capture) Sync() error { return nil }

// Len is the number of entries written so far.
func (c *capture) Len() int {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return len(c.out.entries)
}

// All returns a copy of the entries written so far.
func (c *capture) All() []entry {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return append([]entry(nil), c.out.entries...)
}

// matchLogs compares entries with the expected lines, in order.
func matchLogs(got []entry, want []logLine) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d log lines, want %d:\n%s", len(got), len(want), dumpLogs(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Message != w.msg {
			return fmt.Errorf("log line %d is %q, want %q:\n%s", i, g.Message, w.msg, dumpLogs(got))
		}
		for k, v := range w.fields {
			if g.Fields[k] != fmt.Sprint(v) {
				return fmt.Errorf("log line %d (%q) field %s = %q, want %q:\n%s", i, g.Message, k, g.Fields[k], fmt.Sprint(v), dumpLogs(got))
			}
		}
	}
	return nil
}

func dumpLogs(es []entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %s %q %v\n", e.Level, e.Message, e.Fields)
	}
	return b.String()
}

// waitFor polls cond (bounded) for state with no event to wait on: the
// engine's counters after a peer vanished, goroutines winding down.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// goroutines counts the goroutines of this process, leaving out gnet's
// ants worker pool (idle workers expire on the pool's own schedule; they are
// bounded by the pool size, not by connections), and returns the stacks.
func goroutines() (int, string) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	var kept []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "panjf2000/ants") {
			continue
		}
		n++
		kept = append(kept, g)
	}
	return n, strings.Join(kept, "\n\n")
}

// waitGoroutines waits (bounded) until at most base goroutines run.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, stacks := goroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d, baseline %d; stacks:\n%s", n, base, stacks)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}
