// Package wstest is a SocketX client written by hand for the proxy's
// tests: it puts exact bytes on the wire (and splits them as a test says)
// and checks exact bytes back. Every method fails the test on an
// unexpected answer. Not for production use.
package wstest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/mte"
)

// Client speaks WebSocket and SocketX by hand.
type Client struct {
	T       testing.TB
	Conn    net.Conn
	BR      *bufio.Reader
	Session mte.Session             // the client's MTE state once paired
	Split   func(b []byte) [][]byte // how writes are chunked; nil = whole
}

func Dial(t testing.TB, addr string) *Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &Client{T: t, Conn: conn, BR: bufio.NewReader(conn)}
}

const TestKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3; accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=

// upgradeHead is a valid upgrade request for app.example.com with extra
// header lines appended.
func UpgradeHead(path string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + TestKey + "\r\nSec-WebSocket-Version: 13\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

const GoodOrigin = "Origin: https://app.example.com"

func (c *Client) Write(b []byte) {
	c.T.Helper()
	parts := [][]byte{b}
	if c.Split != nil {
		parts = c.Split(b)
	}
	for _, p := range parts {
		if _, err := c.Conn.Write(p); err != nil {
			c.T.Fatalf("write: %v", err)
		}
	}
}

// upgrade sends the request head and expects 101.
func (c *Client) Upgrade(path string, headers ...string) {
	c.T.Helper()
	c.Write([]byte(UpgradeHead(path, headers...)))
	resp, err := http.ReadResponse(c.BR, nil)
	if err != nil {
		c.T.Fatalf("read 101: %v", err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		c.T.Fatalf("upgrade: status %d accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
}

// frameBytes is one masked client frame.
func Frame(fin bool, op codec.OpCode, payload []byte) []byte {
	var m [4]byte
	_, _ = rand.Read(m[:])
	out := codec.AppendFrameHeader(nil, fin, op, len(payload), &m)
	start := len(out)
	out = append(out, payload...)
	codec.Unmask(out[start:], m, 0)
	return out
}

func (c *Client) WriteFrame(fin bool, op codec.OpCode, payload []byte) {
	c.Write(Frame(fin, op, payload))
}

func (c *Client) ReadFrame() ws.Frame {
	c.T.Helper()
	f, err := ws.ReadFrame(c.BR)
	if err != nil {
		c.T.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		c.T.Fatalf("server frame is masked")
	}
	return f
}

// readMessage skips pings and pongs.
func (c *Client) ReadMessage() ws.Frame {
	c.T.Helper()
	for {
		f := c.ReadFrame()
		if f.Header.OpCode == ws.OpPing || f.Header.OpCode == ws.OpPong {
			continue
		}
		return f
	}
}

func HandshakeMsg(a mte.Action, payload []byte) []byte {
	return append(mte.AppendHeader(nil, a, mte.TypeHandshake), payload...)
}

func (c *Client) SendHandshake(a mte.Action, payload []byte) {
	c.WriteFrame(true, codec.OpBinary, HandshakeMsg(a, payload))
}

func (c *Client) ExpectHandshake(a mte.Action) []byte {
	c.T.Helper()
	f := c.ReadMessage()
	if f.Header.OpCode != ws.OpBinary {
		c.T.Fatalf("want binary handshake frame for %v, got op %v payload %q", a, f.Header.OpCode, f.Payload)
	}
	h, payload, err := mte.ParseHeader(f.Payload)
	if err != nil || h.Action != a || h.Type != mte.TypeHandshake {
		c.T.Fatalf("want action %v type 254, got %+v err %v", a, h, err)
	}
	return payload
}

// hello runs actions 0 and 1.
func (c *Client) Hello() {
	c.T.Helper()
	c.SendHandshake(mte.ActionRequest, nil)
	if got := c.ExpectHandshake(mte.ActionResponse); len(got) != 0 {
		c.T.Fatalf("action 1 payload = %q, want empty", got)
	}
}

// keys runs actions 2 and 3 (after hello).
func (c *Client) Keys(p *mte.Profile) {
	c.T.Helper()
	in, err := mte.NewInitiator(p, rand.Reader)
	if err != nil {
		c.T.Fatal(err)
	}
	c.SendHandshake(mte.ActionPairRequest, in.Request())
	resp := c.ExpectHandshake(mte.ActionPairResponse)
	if err := in.Finish(resp, &c.Session); err != nil {
		c.T.Fatalf("Finish: %v", err)
	}
}

// pathname sends action 4 and expects action 5.
func (c *Client) Pathname(pathname string) {
	c.T.Helper()
	c.SendPathname(pathname)
	if got := c.ExpectHandshake(mte.ActionUpstreamResponse); len(got) != 0 {
		c.T.Fatalf("action 5 payload = %q, want empty", got)
	}
}

func (c *Client) SendPathname(pathname string) {
	c.T.Helper()
	body := fmt.Appendf(nil, `{"pathname":%q}`, pathname)
	msg, err := c.Session.Seal(nil, mte.ActionUpstreamRequest, mte.TypeHandshake, body)
	if err != nil {
		c.T.Fatal(err)
	}
	c.WriteFrame(true, codec.OpBinary, msg)
}

// pair runs actions 0–5.
func (c *Client) Pair(p *mte.Profile, pathname string) {
	c.T.Helper()
	c.Hello()
	c.Keys(p)
	c.Pathname(pathname)
}

func (c *Client) Seal(t mte.MessageType, data []byte) []byte {
	c.T.Helper()
	msg, err := c.Session.Seal(nil, mte.ActionProxyData, t, data)
	if err != nil {
		c.T.Fatal(err)
	}
	return msg
}

func (c *Client) Send(t mte.MessageType, data []byte) {
	c.WriteFrame(true, codec.OpBinary, c.Seal(t, data))
}

func (c *Client) Recv() (mte.MessageType, []byte) {
	c.T.Helper()
	f := c.ReadMessage()
	if f.Header.OpCode != ws.OpBinary {
		c.T.Fatalf("want binary proxyData, got op %v payload %q", f.Header.OpCode, f.Payload)
	}
	h, plain, err := c.Session.Open(f.Payload)
	if err != nil || h.Action != mte.ActionProxyData {
		c.T.Fatalf("Open: %+v %v", h, err)
	}
	return h.Type, append([]byte(nil), plain...)
}

// roundTrip sends one message and expects its echo.
func (c *Client) RoundTrip(typ mte.MessageType, data []byte) {
	c.T.Helper()
	c.Send(typ, data)
	gotT, got := c.Recv()
	if gotT != typ || !bytes.Equal(got, data) {
		c.T.Fatalf("echo of %v %q = %v %q", typ, data, gotT, got)
	}
}

// expectClose reads until a close frame, checks code and reason, answers
// it like a real client and then requires a clean EOF.
func (c *Client) ExpectClose(code uint16, reason string) {
	c.T.Helper()
	f := c.ReadMessage()
	if f.Header.OpCode != ws.OpClose {
		c.T.Fatalf("want close %d %q, got op %v payload %q", code, reason, f.Header.OpCode, f.Payload)
	}
	var gotCode uint16
	var gotReason string
	if len(f.Payload) >= 2 {
		gotCode = binary.BigEndian.Uint16(f.Payload)
		gotReason = string(f.Payload[2:])
	}
	if gotCode != code || gotReason != reason {
		c.T.Fatalf("close = %d %q, want %d %q", gotCode, gotReason, code, reason)
	}
	_, _ = c.Conn.Write(Frame(true, codec.OpClose, f.Payload))
	c.ExpectEOF()
}

// expectEOF requires that nothing more arrives before the proxy's FIN.
func (c *Client) ExpectEOF() {
	c.T.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, c.BR); err != nil || n != 0 {
		c.T.Fatalf("after close: %d more bytes, err %v (want clean EOF)", n, err)
	}
	_ = c.Conn.Close() // as a real client does once the proxy's FIN arrived
}

// readAll returns everything until the proxy closes (bounded).
func (c *Client) ReadAll() string {
	c.T.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b bytes.Buffer
	if _, err := io.Copy(&b, c.BR); err != nil {
		c.T.Fatalf("read response: %v (got %q)", err, b.String())
	}
	_ = c.Conn.Close()
	return b.String()
}
