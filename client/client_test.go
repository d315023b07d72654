package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/socketx/socketx-server/mte"
)

func TestPairAndRoundTrip(t *testing.T) {
	for _, st := range []mte.Strength{0, 512, 768, 1024} {
		t.Run(st.String(), func(t *testing.T) {
			ctx := testCtx(t)
			eeids := make(chan mte.EEID, 1)
			paths := make(chan string, 1)
			srv := newFakeServer(t, mte.Params{Strength: st, Window: 64}, func(f *fakeConn) {
				path, err := f.pair()
				if err != nil {
					f.t.Errorf("pair: %v", err)
					return
				}
				paths <- path
				eeids <- f.session.EEID()
				for {
					typ, pt, err := f.recv()
					if err != nil {
						return
					}
					if err := f.send(typ, pt); err != nil {
						return
					}
				}
			})
			c := mustDial(t, ctx, srv.url+"/rooms/dogs?x=1", Options{KeyExchange: kx(st)})
			if got := <-paths; got != "/rooms/dogs?x=1" {
				t.Fatalf("pathname = %q", got)
			}
			if got := <-eeids; got != c.EEID() || got == (mte.EEID{}) {
				t.Fatalf("EEID client %v server %v", c.EEID(), got)
			}
			large := bytes.Repeat([]byte{0xa5, 0x5a, 0x00}, 70<<10)
			for _, m := range []struct {
				t mte.MessageType
				p []byte
			}{
				{mte.TypeText, []byte("hello")},
				{mte.TypeBinary, []byte{1, 2, 3}},
				{mte.TypeText, []byte{}},
				{mte.TypeBinary, []byte{}},
				{mte.TypeBinary, large},
			} {
				if err := c.Send(ctx, m.t, m.p); err != nil {
					t.Fatalf("Send: %v", err)
				}
				typ, got, err := c.Receive(ctx)
				if err != nil {
					t.Fatalf("Receive: %v", err)
				}
				if typ != m.t || !bytes.Equal(got, m.p) {
					t.Fatalf("echo %v %d bytes, want %v %d bytes", typ, len(got), m.t, len(m.p))
				}
			}
			if err := c.Close(1000, "done"); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := c.Send(ctx, mte.TypeText, []byte("x")); err != ErrClosed {
				t.Fatalf("Send after Close = %v, want ErrClosed", err)
			}
			if _, _, err := c.Receive(ctx); err != ErrClosed {
				t.Fatalf("Receive after Close = %v, want ErrClosed", err)
			}
			if err := c.Close(1000, ""); err != ErrClosed {
				t.Fatalf("second Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestPathname(t *testing.T) {
	for raw, want := range map[string]string{
		"ws://h":                                "/",
		"ws://h/":                               "/",
		"ws://h?x=1":                            "/?x=1",
		"wss://server.com/ws/private?token=123": "/ws/private?token=123",
		"ws://h/a%20b/c%2Fd?q=%C3%A9&r":         "/a%20b/c%2Fd?q=%C3%A9&r",
		"ws://h/p?":                             "/p?",
		"ws://h/p#frag":                         "/p",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := Pathname(u); got != want {
			t.Errorf("Pathname(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestDialOptions(t *testing.T) {
	ctx := testCtx(t)
	got := make(chan *fakeConn, 1)
	srv := newFakeServer(t, mte.Params{Strength: 768, Company: "Acme", License: "k"}, func(f *fakeConn) {
		path, err := f.pair()
		if err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		f.uri += " pathname=" + path
		got <- f
		f.readClose()
	})
	h := http.Header{}
	h.Set("Authorization", "Bearer t")
	over := "/override?a=b"
	c := mustDial(t, ctx, srv.url+"/sock/path?tok=1", Options{
		Header:      h,
		Origin:      "https://app.example",
		Protocols:   []string{"superchat", "chat"},
		KeyExchange: MLKEM768,
		Company:     "Acme",
		License:     "k",
		Pathname:    &over,
	})
	f := <-got
	if f.uri != "/sock/path?tok=1 pathname=/override?a=b" {
		t.Fatalf("uri/pathname = %q", f.uri)
	}
	if f.header.Get("Authorization") != "Bearer t" || f.header.Get("Origin") != "https://app.example" {
		t.Fatalf("headers = %v", f.header)
	}
	if c.Subprotocol() != "chat" || f.protocol != "chat" {
		t.Fatalf("subprotocol client %q server %q", c.Subprotocol(), f.protocol)
	}
	if c.RemoteAddr().String() != strings.TrimPrefix(srv.url, "ws://") {
		t.Fatalf("RemoteAddr = %v", c.RemoteAddr())
	}
	if h.Get("Origin") != "" {
		t.Fatal("Dial modified Options.Header")
	}
}

func TestEmptyPathnameOverride(t *testing.T) {
	ctx := testCtx(t)
	paths := make(chan string, 1)
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		path, err := f.pair()
		if err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		paths <- path
		f.readClose()
	})
	empty := ""
	mustDial(t, ctx, srv.url+"/x", Options{Pathname: &empty})
	if got := <-paths; got != "" {
		t.Fatalf("pathname = %q, want empty", got)
	}
}

func TestTLS(t *testing.T) {
	ctx := testCtx(t)
	serverTLS, clientTLS := newTLSConfigs(t)
	srv := newFakeServerTLS(t, mte.Params{Strength: 512}, serverTLS, echo)
	if !strings.HasPrefix(srv.url, "wss://127.0.0.1:") {
		t.Fatal(srv.url)
	}
	c := mustDial(t, ctx, srv.url+"/", Options{TLSConfig: clientTLS})
	if err := c.Send(ctx, mte.TypeText, []byte("secure")); err != nil {
		t.Fatal(err)
	}
	if typ, p, err := c.Receive(ctx); err != nil || typ != mte.TypeText || string(p) != "secure" {
		t.Fatalf("Receive = %v %q %v", typ, p, err)
	}
}

// newTLSConfigs returns a server configuration with httptest's certificate
// for 127.0.0.1 and a client configuration trusting it.
func newTLSConfigs(t *testing.T) (server, client *tls.Config) {
	s := httptest.NewUnstartedServer(nil)
	s.StartTLS()
	s.Close()
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	return &tls.Config{Certificates: s.TLS.Certificates, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

// TestConcurrentSenders: 100 goroutines × 50 messages; the fake server's
// strict decoder (window 0) opens all 5000 in order, and each goroutine's
// messages arrive in its own order.
func TestConcurrentSenders(t *testing.T) {
	const goroutines, perG = 100, 50
	ctx := testCtx(t)
	result := make(chan error, 1)
	srv := newFakeServer(t, mte.Params{Strength: 512, Window: 0}, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			result <- err
			return
		}
		next := make([]int, goroutines)
		for n := 0; n < goroutines*perG; n++ {
			typ, pt, err := f.recv()
			if err != nil {
				result <- fmt.Errorf("message %d: %w", n, err)
				return
			}
			var g, i int
			if _, err := fmt.Sscanf(string(pt), "g%d m%d", &g, &i); err != nil || typ != mte.MessageType(g%2) {
				result <- fmt.Errorf("message %d: %q type %v", n, pt, typ)
				return
			}
			if i != next[g] {
				result <- fmt.Errorf("goroutine %d: message %d, want %d", g, i, next[g])
				return
			}
			next[g]++
		}
		if got := f.session.Decoder().Next(); got != goroutines*perG+1 {
			result <- fmt.Errorf("decoder next = %d, want %d", got, goroutines*perG+1)
			return
		}
		result <- nil
		f.readClose()
	})
	c := mustDial(t, ctx, srv.url, Options{})
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1) // not wg.Go: the module's go directive is 1.24
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				if err := c.Send(ctx, mte.MessageType(g%2), fmt.Appendf(nil, "g%d m%d", g, i)); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-result; err != nil {
		t.Fatal(err)
	}
}

func TestServerClose1008(t *testing.T) {
	ctx := testCtx(t)
	echoed := make(chan string, 1)
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		code, reason := mte.CloseCode(mte.ErrReplay)
		f.closeWith(code, reason)
		code, reason, err := f.readClose()
		echoed <- fmt.Sprintf("%d %q %v", code, reason, err)
	})
	c := mustDial(t, ctx, srv.url, Options{})
	_, _, err := c.Receive(ctx)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 1008 || ce.Reason != "mte: replayed message" {
		t.Fatalf("Receive = %v", err)
	}
	if err.Error() != "client: closed 1008: mte: replayed message" {
		t.Fatalf("text = %q", err.Error())
	}
	if got := <-echoed; got != `1008 "" <nil>` {
		t.Fatalf("client close echo = %s", got)
	}
	if _, _, err2 := c.Receive(ctx); err2 != err {
		t.Fatalf("second Receive = %v, want the same CloseError", err2)
	}
	if err := c.Send(ctx, mte.TypeText, nil); err != ErrClosed {
		t.Fatalf("Send = %v", err)
	}
}

func TestCloseErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    error
		want string
	}{
		{&CloseError{1008, "mte: replay"}, "client: closed 1008: mte: replay"},
		{&CloseError{1000, ""}, "client: closed 1000"},
		{&HandshakeError{"sentPairRequest", mte.ActionUnknown}, "client: unexpected handshake message: state=sentPairRequest, action=255"},
		{&MTEError{"decode", mte.ErrAuth}, "client: decode: mte: message authentication failed"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

func TestUnexpectedHandshakeAction(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(*fakeConn) error
		want   string
	}{
		{"hello answered with proxyData", func(f *fakeConn) error {
			if _, err := f.expect(mte.ActionRequest); err != nil {
				return err
			}
			return f.writeFrame(ws.OpBinary, true, mte.AppendHeader(nil, mte.ActionProxyData, mte.TypeBinary))
		}, "client: unexpected handshake message: state=sentHello, action=6"},
		{"pairRequest answered with response", func(f *fakeConn) error {
			f.expect(mte.ActionRequest)
			f.writeHandshake(mte.ActionResponse, nil)
			if _, err := f.expect(mte.ActionPairRequest); err != nil {
				return err
			}
			return f.writeHandshake(mte.ActionResponse, nil)
		}, "client: unexpected handshake message: state=sentPairRequest, action=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			closed := make(chan string, 1)
			srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
				if err := tc.script(f); err != nil {
					f.t.Errorf("script: %v", err)
					return
				}
				code, reason, err := f.readClose()
				closed <- fmt.Sprintf("%d %s %v", code, reason, err)
			})
			_, err := Dial(ctx, srv.url, Options{})
			var he *HandshakeError
			if !errors.As(err, &he) || err.Error() != tc.want {
				t.Fatalf("Dial = %v, want %s", err, tc.want)
			}
			if got := <-closed; got != "1002 "+tc.want+" <nil>" {
				t.Fatalf("server saw close %s", got)
			}
		})
	}
}

func TestCloseDuringHandshake(t *testing.T) {
	ctx := testCtx(t)
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		f.expect(mte.ActionRequest)
		f.closeWith(1013, "try again later")
		f.readClose()
	})
	_, err := Dial(ctx, srv.url, Options{})
	var ce *CloseError
	if !errors.As(err, &ce) || *ce != (CloseError{1013, "try again later"}) {
		t.Fatalf("Dial = %v", err)
	}
}

// TestTenantMismatch: a license mismatch shows as an authentication failure
// of action 4 on the server, which closes 1008.
func TestTenantMismatch(t *testing.T) {
	ctx := testCtx(t)
	srv := newFakeServer(t, mte.Params{Strength: 512, License: "server-key"}, func(f *fakeConn) {
		if _, err := f.pair(); !errors.Is(err, mte.ErrAuth) {
			f.t.Errorf("pair = %v, want ErrAuth", err)
		}
		f.readClose()
	})
	_, err := Dial(ctx, srv.url, Options{License: "client-key"})
	code, reason := mte.CloseCode(mte.ErrAuth)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != code || ce.Code != 1008 || ce.Reason != reason {
		t.Fatalf("Dial = %v", err)
	}
}

func TestStrengthMismatch(t *testing.T) {
	ctx := testCtx(t)
	srv := newFakeServer(t, mte.Params{Strength: 768}, func(f *fakeConn) {
		if _, err := f.pair(); !errors.Is(err, mte.ErrKeySize) {
			f.t.Errorf("pair = %v, want ErrKeySize", err)
		}
		f.readClose()
	})
	_, err := Dial(ctx, srv.url, Options{}) // default 512
	var ce *CloseError
	if !errors.As(err, &ce) || err.Error() != "client: closed 1002: mte: encoderPublicKey is 800 bytes, want 1184 for ML-KEM-768" {
		t.Fatalf("Dial = %v", err)
	}
}

func TestPingsAnswered(t *testing.T) {
	ctx := testCtx(t)
	pongs := make(chan string, 4)
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		// A ping before the hello response: the client answers it while
		// waiting in the handshake.
		f.expect(mte.ActionRequest)
		f.writeFrame(ws.OpPing, true, []byte("during handshake"))
		fr, err := f.readFrame()
		if err != nil || fr.Header.OpCode != ws.OpPong {
			f.t.Errorf("want pong, got %v %v", fr.Header.OpCode, err)
			return
		}
		pongs <- string(fr.Payload)
		f.writeHandshake(mte.ActionResponse, nil)
		req, _ := f.expect(mte.ActionPairRequest)
		resp, err := f.session.Respond(f.profile, req, randReader(), nil)
		if err != nil {
			f.t.Errorf("Respond: %v", err)
			return
		}
		f.writeHandshake(mte.ActionPairResponse, resp)
		f.readMessage()
		f.writeHandshake(mte.ActionUpstreamResponse, nil)
		// After pairing, while the client waits in Receive: ping, an empty
		// ping, then a message.
		for _, p := range []string{"after", ""} {
			f.writeFrame(ws.OpPing, true, []byte(p))
			fr, err := f.readFrame()
			if err != nil || fr.Header.OpCode != ws.OpPong {
				f.t.Errorf("want pong, got %v %v", fr.Header.OpCode, err)
				return
			}
			pongs <- string(fr.Payload)
		}
		f.send(mte.TypeText, []byte("data"))
		f.readClose()
	})
	c := mustDial(t, ctx, srv.url, Options{})
	if typ, p, err := c.Receive(ctx); err != nil || typ != mte.TypeText || string(p) != "data" {
		t.Fatalf("Receive = %v %q %v", typ, p, err)
	}
	for _, want := range []string{"during handshake", "after", ""} {
		if got := <-pongs; got != want {
			t.Fatalf("pong %q, want %q", got, want)
		}
	}
}

func TestFragmentedMessage(t *testing.T) {
	ctx := testCtx(t)
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		msg, _ := f.session.Seal(nil, mte.ActionProxyData, mte.TypeBinary, []byte("fragmented payload"))
		f.writeFrame(ws.OpBinary, false, msg[:3])
		f.writeFrame(ws.OpPing, true, []byte("p"))
		f.writeFrame(ws.OpContinuation, false, msg[3:10])
		f.writeFrame(ws.OpContinuation, false, nil)
		f.writeFrame(ws.OpContinuation, true, msg[10:])
		f.readClose()
	})
	c := mustDial(t, ctx, srv.url, Options{})
	if typ, p, err := c.Receive(ctx); err != nil || typ != mte.TypeBinary || string(p) != "fragmented payload" {
		t.Fatalf("Receive = %v %q %v", typ, p, err)
	}
}

func TestDecodeErrorCloses(t *testing.T) {
	ctx := testCtx(t)
	closed := make(chan string, 1)
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		msg, _ := f.session.Seal(nil, mte.ActionProxyData, mte.TypeText, []byte("tampered"))
		msg[len(msg)-1] ^= 1
		f.writeFrame(ws.OpBinary, true, msg)
		code, reason, err := f.readClose()
		closed <- fmt.Sprintf("%d %s %v", code, reason, err)
	})
	c := mustDial(t, ctx, srv.url, Options{})
	_, _, err := c.Receive(ctx)
	var me *MTEError
	if !errors.As(err, &me) || !errors.Is(err, mte.ErrAuth) || me.Op != "decode" {
		t.Fatalf("Receive = %v", err)
	}
	code, reason := mte.CloseCode(mte.ErrAuth)
	if got := <-closed; got != fmt.Sprintf("%d %s <nil>", code, reason) {
		t.Fatalf("server saw close %s", got)
	}
	if _, _, err2 := c.Receive(ctx); err2 != err {
		t.Fatalf("second Receive = %v", err2)
	}
}

func TestServerMisbehaviour(t *testing.T) {
	for _, tc := range []struct {
		name      string
		frame     func(f *fakeConn) error
		wantErr   error
		wantClose string
	}{
		{"text frame", func(f *fakeConn) error { return f.writeFrame(ws.OpText, true, []byte("hi")) },
			ErrProtocol, "1003 client: text message"},
		{"too big", func(f *fakeConn) error { return f.writeFrame(ws.OpBinary, true, make([]byte, 4097)) },
			ErrMessageTooBig, "1009 client: message too big"},
		{"masked frame", func(f *fakeConn) error {
			fr := ws.MaskFrameInPlace(ws.NewBinaryFrame([]byte("x")))
			return ws.WriteFrame(f.nc, fr)
		}, ErrProtocol, "1002 client: protocol error"},
		{"unexpected continuation", func(f *fakeConn) error { return f.writeFrame(ws.OpContinuation, true, []byte("x")) },
			ErrProtocol, "1002 client: protocol error"},
		{"handshake action after pairing", func(f *fakeConn) error { return f.writeHandshake(mte.ActionUpstreamResponse, nil) },
			ErrProtocol, "1002 client: protocol error"},
		{"bad magic", func(f *fakeConn) error { return f.writeFrame(ws.OpBinary, true, []byte("MTE\x03\x01\x06\x00")) },
			mte.ErrBadMagic, "1002 mte: bad header magic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			closed := make(chan string, 1)
			srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
				if _, err := f.pair(); err != nil {
					f.t.Errorf("pair: %v", err)
					return
				}
				tc.frame(f)
				code, reason, err := f.readClose()
				closed <- fmt.Sprintf("%d %s%s", code, reason, errString(err))
			})
			c := mustDial(t, ctx, srv.url, Options{ReadLimit: 4096})
			if _, _, err := c.Receive(ctx); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Receive = %v, want %v", err, tc.wantErr)
			}
			if got := <-closed; got != tc.wantClose {
				t.Fatalf("server saw close %q, want %q", got, tc.wantClose)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " " + err.Error()
}

// TestReceiveResumesAfterCancel: a Receive whose context ends part-way
// through a frame returns the context error; the next Receive returns the
// whole message.
func TestReceiveResumesAfterCancel(t *testing.T) {
	ctx := testCtx(t)
	half := make(chan struct{})
	rest := make(chan struct{})
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		msg, _ := f.session.Seal(nil, mte.ActionProxyData, mte.TypeBinary, bytes.Repeat([]byte("r"), 3000))
		frame, _ := ws.CompileFrame(ws.NewBinaryFrame(msg))
		f.nc.Write(frame[:1500])
		close(half)
		<-rest
		f.nc.Write(frame[1500:])
		f.readClose()
	})
	c := mustDial(t, ctx, srv.url, Options{})
	<-half
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := c.Receive(cctx); err != context.Canceled {
		t.Fatalf("cancelled Receive = %v", err)
	}
	// A Receive interrupted while blocked mid-frame.
	cctx, cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Receive(cctx)
		done <- err
	}()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("interrupted Receive = %v", err)
	}
	close(rest)
	typ, p, err := c.Receive(ctx)
	if err != nil || typ != mte.TypeBinary || !bytes.Equal(p, bytes.Repeat([]byte("r"), 3000)) {
		t.Fatalf("Receive = %v %d bytes %v", typ, len(p), err)
	}
}

func TestDialRejected(t *testing.T) {
	ctx := testCtx(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "Forbidden")
	}))
	defer up.Close()
	_, err := Dial(ctx, "ws"+strings.TrimPrefix(up.URL, "http"), Options{})
	var ue *UpgradeError
	if !errors.As(err, &ue) || *ue != (UpgradeError{Status: 403, Reason: "Forbidden"}) || !errors.Is(err, ErrOriginNotAllowed) ||
		err.Error() != "client: upgrade refused: HTTP 403: Forbidden" {
		t.Fatalf("Dial = %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, kx := range []KeyExchange{"512", "MLKEM512", "x-wing"} {
		_, err := Dial(context.Background(), "ws://127.0.0.1:1/", Options{KeyExchange: kx})
		want := `client: key exchange "` + string(kx) + `" is not one of x25519, mlkem512, mlkem768, mlkem1024, xwing (MTE_KEY_EXCHANGE) or 0, 512, 768, 1024 (MTE_KYBER_STRENGTH)`
		if !errors.Is(err, ErrBadKeyExchange) || err.Error() != want {
			t.Fatalf("Dial with KeyExchange %q = %v", kx, err)
		}
	}
}

// kx is the KeyExchange of an mte strength.
func kx(st mte.Strength) KeyExchange { return KeyExchange(st.KeyExchange()) }

func TestValidCloseCode(t *testing.T) {
	var got []uint16
	for code := uint16(0); code < 5100; code++ {
		if validCloseCode(code) && (code < 1100 || code > 2999 && code < 3001 || code > 4998) {
			got = append(got, code)
		}
	}
	want := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("valid codes %v, want %v", got, want)
	}
}

func TestClosePayloadTruncation(t *testing.T) {
	reason := strings.Repeat("é", 100) // 200 bytes
	p := closePayload(1000, reason)
	if len(p) != 2+122 || p[0] != 0x03 || p[1] != 0xe8 || !strings.HasPrefix(reason, string(p[2:])) {
		t.Fatalf("payload %d bytes: %q", len(p), p)
	}
	if closePayload(0, "ignored") != nil {
		t.Fatal("code 0 must give an empty payload")
	}
}

func TestNetDialHook(t *testing.T) {
	ctx := testCtx(t)
	srv := newFakeServer(t, mte.Params{Strength: 512}, echo)
	calls := 0
	c := mustDial(t, ctx, srv.url, Options{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		calls++
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
		return d.DialContext(ctx, network, addr)
	}})
	defer c.Close(1000, "")
	if calls != 1 {
		t.Fatalf("NetDial called %d times, want 1", calls)
	}
	if ip := c.LocalAddr().(*net.TCPAddr).IP.String(); ip != "127.0.0.2" {
		t.Fatalf("local address %s, want 127.0.0.2", ip)
	}
}
