package clientproxytest

import (
	"errors"
	"fmt"
	"github.com/socketx/socketx-server/client"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/engine"
	"github.com/socketx/socketx-server/internal/enginetest"
	"github.com/socketx/socketx-server/internal/testupstream"
	"github.com/socketx/socketx-server/mte"
	"github.com/socketx/socketx-server/upstream"
)

type proxyConfig struct {
	addr     string // "" picks a free port
	origins  string // allowedOrigins JSON list; "" is ["*"]
	strength mte.Strength
	host     string // the DOMAIN_MAP key; "" is "*"
	maxConns int    // engine.Config.MaxConnections
}

// startRealProxy runs the production engine in-process in front of
// upstreamURL (internal/enginetest), as cmd/socketx serve does, and stops it
// at the end of the test; p.Stop stops it earlier.
func startRealProxy(t *testing.T, upstreamURL string, pc proxyConfig) *enginetest.Proxy {
	t.Helper()
	if pc.origins == "" {
		pc.origins = `["*"]`
	}
	if pc.strength == 0 {
		pc.strength = 512
	}
	if pc.host == "" {
		pc.host = "*"
	}
	return enginetest.Start(t, enginetest.Options{
		DomainMap: `{"` + pc.host + `":{"upstream":"` + upstreamURL + `","allowedOrigins":` + pc.origins + `}}`,
		MTE:       mte.Params{Strength: pc.strength, Window: 64},
		Config: func(cfg *engine.Config) {
			if pc.addr != "" {
				cfg.Addr = pc.addr
			}
			cfg.MaxConnections = pc.maxConns
			cfg.TickInterval = 20 * time.Millisecond
			cfg.CloseTimeout = time.Second
		},
		Upstream: upstream.Config{DialTimeout: 3 * time.Second},
		Log:      zap.NewNop(),
	})
}

// TestOptionsAgainstRealProxy checks the dial options against the engine:
// Origin (the proxy's DOMAIN_MAP check), strength, pathname, header, timeouts.
func TestOptionsAgainstRealProxy(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	p := startRealProxy(t, echo.URL, proxyConfig{origins: `["https://app.example"]`, strength: 768})

	_, err := client.Dial(ctx, p.URL, client.Options{Origin: "https://evil.example", KeyExchange: client.MLKEM768})
	if !errors.Is(err, client.ErrOriginNotAllowed) {
		t.Fatalf("refused Origin: %v, want HTTP 403", err)
	}
	if r, err := client.DialReconnecting(ctx, p.URL, client.Options{Origin: "https://evil.example", KeyExchange: client.MLKEM768}, client.ReconnectOptions{}); r != nil || !errors.Is(err, client.ErrOriginNotAllowed) {
		t.Fatalf("DialReconnecting with a refused Origin = %v, %v (first dial is not retried)", r, err)
	}
	_, err = client.Dial(ctx, p.URL, client.Options{Origin: "https://app.example"}) // 512 against 768
	expectCloseError(t, err, 1002, "mte: encoderPublicKey is 800 bytes, want 1184 for ML-KEM-768")
	if client.DefaultShouldReconnect(err) {
		t.Fatal("a strength mismatch is retried")
	}

	h := http.Header{}
	h.Set("X-Trace", "t1")
	path := "/rooms/1?x=y"
	c := mustDial(t, ctx, p.URL+"/ignored", client.Options{
		Origin:      "https://app.example",
		Header:      h,
		KeyExchange: client.MLKEM768,
		Pathname:    &path,
		DialTimeout: 2 * time.Second,
		PairTimeout: 2 * time.Second,
	})
	reqs := echo.Requests()
	if len(reqs) != 1 || reqs[0].RequestURI != "/rooms/1?x=y" || reqs[0].Header.Get("Origin") != "https://app.example" {
		t.Fatalf("upstream requests: %+v", reqs)
	}

	// Messages: the channel style on a plain Conn.
	msgs := c.Messages(ctx)
	want := []client.Message{{Type: client.Text, Data: []byte("hi")}, {Type: client.Binary, Data: []byte{0, 1, 2}}, {Type: client.Text, Data: []byte{}}}
	for _, m := range want {
		if err := c.Send(ctx, m.Type, m.Data); err != nil {
			t.Fatal(err)
		}
		got := <-msgs
		if got.Type != m.Type || string(got.Data) != string(m.Data) || got.Data == nil {
			t.Fatalf("Messages gave %v %q, want %v %q", got.Type, got.Data, m.Type, m.Data)
		}
	}
	if c.Err() != nil {
		t.Fatalf("Err while open = %v", c.Err())
	}
	if err := c.Close(4001, "done"); err != nil {
		t.Fatal(err)
	}
	for m := range msgs {
		t.Fatalf("unexpected %+v", m)
	}
	var ce *client.CloseError
	if err := c.Err(); !(errors.As(err, &ce) && *ce == (client.CloseError{Code: 4001, Reason: "done"})) && err != client.ErrClosed {
		t.Fatalf("Err after Close = %v", err)
	}
	if e := <-echo.Ended(); e.Code != 4001 || e.Reason != "done" {
		t.Fatalf("upstream saw %d %q", e.Code, e.Reason)
	}
}

// TestRedialRefusedGivesUp: the restarted proxy refuses the client's Origin
// (HTTP 403); that is not retried, so the connection ends with
// *ReconnectError wrapping the 403.
func TestRedialRefusedGivesUp(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	p1 := startRealProxy(t, echo.URL, proxyConfig{})
	rec := newRecorder()
	// Short dial and pairing timeouts: an attempt that reaches the first
	// proxy's listener while it shuts down must not hold up the redial that
	// meets the second proxy's 403.
	opts := client.Options{Origin: "https://app.example", DialTimeout: 2 * time.Second, PairTimeout: 2 * time.Second}
	r, err := client.DialReconnecting(ctx, p1.URL, opts, fastRetry(rec))
	if err != nil {
		t.Fatal(err)
	}
	disconnect(t, p1, rec)
	startRealProxy(t, echo.URL, proxyConfig{addr: p1.Addr, origins: `["https://other.example"]`})
	<-r.Done()
	var (
		re *client.ReconnectError
		ue *client.UpgradeError
	)
	if _, _, err := r.Receive(ctx); !errors.As(err, &re) || !errors.As(err, &ue) || ue.Status != 403 || re.Attempts < 1 {
		t.Fatalf("Receive = %v, want *ReconnectError wrapping HTTP 403; attempts: %s", err, drainAttempts(rec))
	}
	if len(rec.reconnected) != 0 {
		t.Fatal("reconnected")
	}
}

// drainAttempts describes the reconnect attempts recorded so far, for
// failure messages.
func drainAttempts(rec *recorder) string {
	var b strings.Builder
	for {
		select {
		case ev := <-rec.reconnecting:
			fmt.Fprintf(&b, "[%d: %v] ", ev.attempt, ev.err)
		default:
			return b.String()
		}
	}
}

// TestUpgradeRefusedByRealProxy: each HTTP status the proxy refuses an
// upgrade with is an *UpgradeError with the proxy's reason, Retry-After
// and sentinel; only 503 is retried.
func TestUpgradeRefusedByRealProxy(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	origin := startRealProxy(t, echo.URL, proxyConfig{origins: `["https://app.example"]`})
	host := startRealProxy(t, echo.URL, proxyConfig{host: "app.example"})
	full := startRealProxy(t, echo.URL, proxyConfig{maxConns: 1})
	first := mustDial(t, ctx, full.URL, client.Options{})
	defer first.Close(1000, "")
	draining := startRealProxy(t, echo.URL, proxyConfig{})
	draining.Server.SetDraining(true)

	for _, tc := range []struct {
		name     string
		url      string
		want     client.UpgradeError
		sentinel error
		text     string
	}{
		{"origin", origin.URL, client.UpgradeError{Status: 403, Reason: "origin not allowed"}, client.ErrOriginNotAllowed,
			"client: upgrade refused: HTTP 403: origin not allowed"},
		{"host", host.URL, client.UpgradeError{Status: 404, Reason: "unknown host"}, client.ErrUnknownHost,
			"client: upgrade refused: HTTP 404: unknown host"},
		{"full", full.URL, client.UpgradeError{Status: 503, Reason: "too many connections", RetryAfter: 5 * time.Second}, client.ErrUnavailable,
			"client: upgrade refused: HTTP 503: too many connections"},
		{"draining", draining.URL, client.UpgradeError{Status: 503, Reason: "server is draining", RetryAfter: time.Second}, client.ErrUnavailable,
			"client: upgrade refused: HTTP 503: server is draining"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Dial(ctx, tc.url, client.Options{Origin: "https://evil.example"})
			var ue *client.UpgradeError
			if !errors.As(err, &ue) || *ue != tc.want || err.Error() != tc.text {
				t.Fatalf("Dial = %#v (%v), want %#v", err, err, tc.want)
			}
			for _, s := range []error{client.ErrOriginNotAllowed, client.ErrUnknownHost, client.ErrUnavailable} {
				if errors.Is(err, s) != (s == tc.sentinel) {
					t.Fatalf("errors.Is(%v, %v) = %v", err, s, !(s == tc.sentinel))
				}
			}
			if client.DefaultShouldReconnect(err) != (tc.want.Status == 503) {
				t.Fatalf("DefaultShouldReconnect = %v", !(tc.want.Status == 503))
			}
		})
	}
}

// TestXWingAgainstRealProxy: KeyExchange XWing pairs with a proxy
// configured for X-Wing and echoes through it (same eeid on both sides is
// implied by the first encoded message authenticating); against a proxy
// configured for ML-KEM-768, and the other way round, the proxy refuses
// the pairRequest by its key size with 1002, which is not retried.
func TestXWingAgainstRealProxy(t *testing.T) {
	ctx := testCtx(t)
	echo := testupstream.NewEcho(t)
	xw := startRealProxy(t, echo.URL, proxyConfig{strength: mte.StrengthXWing})
	c := mustDial(t, ctx, xw.URL+"/hybrid", client.Options{KeyExchange: client.XWing})
	for _, m := range []client.Message{{Type: client.Text, Data: []byte("x-wing")}, {Type: client.Binary, Data: []byte{0, 0xff}}} {
		if err := c.Send(ctx, m.Type, m.Data); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Receive(ctx)
		if err != nil || typ != m.Type || string(got) != string(m.Data) {
			t.Fatalf("echo %v %q %v", typ, got, err)
		}
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}

	ml := startRealProxy(t, echo.URL, proxyConfig{strength: mte.Strength768})
	_, err := client.Dial(ctx, ml.URL, client.Options{KeyExchange: client.XWing})
	expectCloseError(t, err, 1002, "mte: encoderPublicKey is 1216 bytes, want 1184 for ML-KEM-768")
	if client.DefaultShouldReconnect(err) {
		t.Fatal("a key exchange mismatch is retried")
	}
	_, err = client.Dial(ctx, xw.URL, client.Options{KeyExchange: client.MLKEM768})
	expectCloseError(t, err, 1002, "mte: encoderPublicKey is 1184 bytes, want 1216 for X-Wing")
}
