package clientproxytest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"github.com/socketx/socketx-server/client"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/zap"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/upstream"
)

func newServerKey(t *testing.T) *mte.ServerPrivateKey {
	t.Helper()
	k, err := mte.GenerateServerPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// startAuthProxy runs the production engine with server keys in front of
// upstreamURL.
func startAuthProxy(t *testing.T, upstreamURL string, st mte.Strength, keys ...*mte.ServerPrivateKey) *enginetest.Proxy {
	t.Helper()
	return enginetest.Start(t, enginetest.Options{
		DomainMap: enginetest.EchoMap(upstreamURL),
		MTE:       mte.Params{Strength: st, Window: 64, ServerKeys: keys},
		Config: func(cfg *engine.Config) {
			cfg.TickInterval = 20 * time.Millisecond
			cfg.CloseTimeout = time.Second
		},
		Upstream: upstream.Config{DialTimeout: 3 * time.Second},
		Log:      zap.NewNop(),
	})
}

// echoOnce sends msg and expects it back.
func echoOnce(t *testing.T, ctx context.Context, c *client.Conn, msg string) {
	t.Helper()
	if err := c.Send(ctx, client.Text, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Receive(ctx); err != nil || string(got) != msg {
		t.Fatalf("echo %q: %q, %v", msg, got, err)
	}
}

// TestServerAuthRealProxy: pinned clients pair with the real proxy for
// each ephemeral exchange; a proxy without keys is "unsupported".
func TestServerAuthRealProxy(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	key := newServerKey(t)
	for _, st := range []mte.Strength{mte.Strength512, mte.Strength1024, mte.StrengthXWing} {
		p := startAuthProxy(t, echo.URL, st, key)
		c := mustDial(t, ctx, p.URL, client.Options{KeyExchange: kx(st), ServerKeys: []client.ServerKey{key.Public()}})
		echoOnce(t, ctx, c, "pinned "+st.String())
		c.Close(1000, "")
		// An unpinned client pairs with the same proxy as today.
		c = mustDial(t, ctx, p.URL, client.Options{KeyExchange: kx(st)})
		echoOnce(t, ctx, c, "unpinned "+st.String())
		c.Close(1000, "")
		p.Stop()
	}
	plain := startAuthProxy(t, echo.URL, mte.Strength768)
	_, err := client.Dial(ctx, plain.URL, client.Options{KeyExchange: client.MLKEM768, ServerKeys: []client.ServerKey{key.Public()}})
	var ae *client.ServerAuthError
	if !errors.As(err, &ae) || !ae.Unsupported || ae.KeyID != key.ID() || !errors.Is(err, client.ErrServerNotAuthenticated) {
		t.Fatalf("keyless proxy: %v", err)
	}
	if client.DefaultShouldReconnect(err) {
		t.Fatal("ServerAuthError is retried")
	}
	r, err := client.DialReconnecting(ctx, plain.URL, client.Options{KeyExchange: client.MLKEM768, ServerKeys: []client.ServerKey{key.Public()}}, client.ReconnectOptions{})
	if r != nil || !errors.Is(err, client.ErrServerNotAuthenticated) {
		t.Fatalf("DialReconnecting = %v, %v", r, err)
	}
}

// TestServerKeyRotation: a proxy serving old and new keys pairs clients
// pinned to old, new and both; a proxy with only the new key refuses the
// old-pinned client with 1008 "mte: unknown server key", and a client
// pinned to both falls back to the new key.
func TestServerKeyRotation(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	oldKey, newKey := newServerKey(t), newServerKey(t)
	both := startAuthProxy(t, echo.URL, mte.Strength512, oldKey, newKey)
	for name, pins := range map[string][]client.ServerKey{
		"old": {oldKey.Public()}, "new": {newKey.Public()}, "new+old": {newKey.Public(), oldKey.Public()},
		"old+new": {oldKey.Public(), newKey.Public()},
	} {
		c, err := client.Dial(ctx, both.URL, client.Options{ServerKeys: pins})
		if err != nil {
			t.Fatalf("old+new proxy, client pinned %s: %v", name, err)
		}
		echoOnce(t, ctx, c, name)
		c.Close(1000, "")
	}
	only := startAuthProxy(t, echo.URL, mte.Strength512, newKey)
	_, err := client.Dial(ctx, only.URL, client.Options{ServerKeys: []client.ServerKey{oldKey.Public()}})
	expectCloseError(t, err, 1008, "mte: unknown server key")
	if client.DefaultShouldReconnect(err) {
		t.Fatal("unknown server key is retried")
	}
	c, err := client.Dial(ctx, only.URL, client.Options{ServerKeys: []client.ServerKey{oldKey.Public(), newKey.Public()}})
	if err != nil {
		t.Fatalf("old+new pins against a new-only proxy: %v", err)
	}
	echoOnce(t, ctx, c, "fallback")
	c.Close(1000, "")
}

// mitmMode is how the man in the middle answers a pinned pairRequest.
type mitmMode int

const (
	mitmStrip mitmMode = iota // answer without serverConfirm, as a keyless proxy would
	mitmForge                 // answer with a made-up serverConfirm
)

// mitm is a relay that terminates the client's WebSocket, pairs with the
// client as if it were the proxy (its own ephemeral keys, no server key),
// and pairs with the real proxy as a client: what a party that terminates
// the client's TLS can do. It records every plaintext it reads.
type mitm struct {
	ln      net.Listener
	url     string
	mode    mitmMode
	proxy   string // real proxy URL
	profile *mte.Profile

	mu        sync.Mutex
	plaintext []string // guarded by mu
}

func startMITM(t *testing.T, proxyURL string, st mte.Strength, mode mitmMode) *mitm {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := mte.NewProfile(mte.Params{Strength: st, Window: 64})
	if err != nil {
		t.Fatal(err)
	}
	m := &mitm{ln: ln, url: "ws://" + ln.Addr().String(), mode: mode, proxy: proxyURL, profile: prof}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go m.serve(t, nc)
		}
	}()
	return m
}

func (m *mitm) saw() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.plaintext...)
}

func (m *mitm) serve(t *testing.T, nc net.Conn) {
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := ws.Upgrade(nc); err != nil {
		return
	}
	read := func() []byte {
		b, err := wsutil.ReadClientBinary(nc)
		if err != nil {
			return nil
		}
		return b
	}
	send := func(b []byte) { wsutil.WriteServerBinary(nc, b) }
	handshake := func(a mte.Action, payload []byte) {
		send(append(mte.AppendHeader(nil, a, mte.TypeHandshake), payload...))
	}
	if read() == nil { // hello
		return
	}
	handshake(mte.ActionResponse, nil)
	req := read()
	if req == nil {
		return
	}
	// Pair with the real proxy right away, unpinned: it cannot present the
	// client's server secret to anyone who can use it.
	real, err := client.Dial(ctx, m.proxy, client.Options{KeyExchange: kx(m.profile.Strength())})
	if err != nil {
		t.Errorf("mitm: dial real proxy: %v", err)
		return
	}
	defer real.Close(1000, "")
	var sess mte.Session
	resp, err := sess.Respond(m.profile, req[mte.HeaderLen:], rand.Reader, nil)
	if err != nil {
		t.Errorf("mitm: respond: %v", err)
		return
	}
	if m.mode == mitmForge {
		forged := make([]byte, 32)
		rand.Read(forged)
		resp = append(resp[:len(resp)-1], `,"serverConfirm":"`...)
		resp = append(resp, base64Std(forged)...)
		resp = append(resp, `"}`...)
	}
	handshake(mte.ActionPairResponse, resp)
	up := read() // action 4: only a fooled client sends it
	if up == nil {
		return
	}
	_, path, err := sess.Open(up)
	if err != nil {
		t.Errorf("mitm: action 4: %v", err)
		return
	}
	m.record(string(path))
	handshake(mte.ActionUpstreamResponse, nil)
	go func() {
		for {
			typ, b, err := real.Receive(ctx)
			if err != nil {
				return
			}
			out, err := sess.Seal(nil, mte.ActionProxyData, typ, b)
			if err != nil {
				return
			}
			send(out)
		}
	}()
	for {
		msg := read()
		if msg == nil {
			return
		}
		h, pt, err := sess.Open(msg)
		if err != nil {
			return
		}
		m.record(string(pt))
		if real.Send(ctx, h.Type, pt) != nil {
			return
		}
	}
}

func (m *mitm) record(s string) {
	m.mu.Lock()
	m.plaintext = append(m.plaintext, s)
	m.mu.Unlock()
}

// TestMITM: a relay that pairs with the client as the proxy and with the
// proxy as a client fools an unpinned client (it reads everything), and a
// pinned client refuses it with ServerAuthError before sending anything,
// so nothing reaches the upstream.
func TestMITM(t *testing.T) {
	ctx := testCtx(t)
	got := make(chan testupstream.Message, 64)
	echo := testupstream.NewEcho(t, testupstream.WithMessages(got))
	key := newServerKey(t)
	for _, st := range []mte.Strength{mte.Strength512, mte.StrengthXWing} {
		proxy := startAuthProxy(t, echo.URL, st, key)

		// Unpinned: fooled. The relay reads the pathname and the message.
		evil := startMITM(t, proxy.URL, st, mitmStrip)
		c, err := client.Dial(ctx, evil.url+"/private", client.Options{KeyExchange: kx(st)})
		if err != nil {
			t.Fatalf("%v: unpinned client through the relay: %v", st, err)
		}
		echoOnce(t, ctx, c, "card 4111")
		c.Close(1000, "")
		if saw := evil.saw(); len(saw) != 2 || saw[1] != "card 4111" {
			t.Fatalf("%v: relay saw %q", st, saw)
		}
		t.Logf("%v: an unpinned client is fooled: the relay read %q", st, evil.saw())
		if msg := <-got; string(msg.Data) != "card 4111" {
			t.Fatalf("upstream got %q", msg.Data)
		}

		// Pinned: refused, whichever way the relay answers.
		for _, mode := range []mitmMode{mitmStrip, mitmForge} {
			evil := startMITM(t, proxy.URL, st, mode)
			_, err := client.Dial(ctx, evil.url+"/private", client.Options{KeyExchange: kx(st), ServerKeys: []client.ServerKey{key.Public()}})
			var ae *client.ServerAuthError
			if !errors.As(err, &ae) || ae.Unsupported != (mode == mitmStrip) || !errors.Is(err, client.ErrServerNotAuthenticated) {
				t.Fatalf("%v mode %d: %v", st, mode, err)
			}
			if saw := evil.saw(); len(saw) != 0 {
				t.Fatalf("%v mode %d: relay read %q", st, mode, saw)
			}
		}
		// The same pinned client reaches the real proxy directly.
		c = mustDial(t, ctx, proxy.URL, client.Options{KeyExchange: kx(st), ServerKeys: []client.ServerKey{key.Public()}})
		echoOnce(t, ctx, c, "direct")
		c.Close(1000, "")
		if msg := <-got; string(msg.Data) != "direct" {
			t.Fatalf("upstream got %q: a refused client's data reached it", msg.Data)
		}
		proxy.Stop()
	}
	select {
	case msg := <-got:
		t.Fatalf("upstream got %q", msg.Data)
	case <-time.After(100 * time.Millisecond):
	}
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
