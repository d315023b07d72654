package clientproxytest

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/client"
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
