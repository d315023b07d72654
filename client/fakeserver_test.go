package client

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/socketx/socketx-server/mte"
)

// fakeServer plays the proxy's role on a real 127.0.0.1 socket with gobwas/ws
// and the mte server API. Each accepted connection runs handle in its own
// goroutine; the test's cleanup closes the listener and every connection and
// waits for the handlers.
type fakeServer struct {
	t       testing.TB
	ln      net.Listener
	url     string
	profile *mte.Profile
	handle  func(*fakeConn)
	wg      sync.WaitGroup

	stopOnce sync.Once
	mu       sync.Mutex
	conns    []net.Conn
}

func newFakeServer(t testing.TB, params mte.Params, handle func(*fakeConn)) *fakeServer {
	return newFakeServerAt(t, "127.0.0.1:0", params, nil, handle)
}

func newFakeServerTLS(t testing.TB, params mte.Params, tlsConfig *tls.Config, handle func(*fakeConn)) *fakeServer {
	return newFakeServerAt(t, "127.0.0.1:0", params, tlsConfig, handle)
}

// newFakeServerAt listens on addr (a stopped server's, to play a restarted
// proxy).
func newFakeServerAt(t testing.TB, addr string, params mte.Params, tlsConfig *tls.Config, handle func(*fakeConn)) *fakeServer {
	t.Helper()
	profile, err := mte.NewProfile(params)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	scheme := "ws"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
		scheme = "wss"
	}
	s := &fakeServer{t: t, ln: ln, url: scheme + "://" + ln.Addr().String(), profile: profile, handle: handle}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.stop)
	return s
}

// stop closes the listener and every connection, as a proxy that went away:
// clients see their sockets drop and later dials are refused. It waits for
// the handlers.
func (s *fakeServer) stop() {
	s.stopOnce.Do(func() {
		s.ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}

// addr is the host:port the server listens on.
func (s *fakeServer) addr() string { return s.ln.Addr().String() }

func (s *fakeServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, nc)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer nc.Close()
			fc := &fakeConn{t: s.t, nc: nc, profile: s.profile, header: http.Header{}}
			u := ws.Upgrader{
				Protocol: func(p []byte) bool { return string(p) == "chat" },
				OnRequest: func(uri []byte) error {
					fc.uri = string(uri)
					return nil
				},
				OnHeader: func(k, v []byte) error {
					fc.header.Add(string(k), string(v))
					return nil
				},
			}
			hs, err := u.Upgrade(nc)
			if err != nil {
				s.t.Errorf("fake server upgrade: %v", err)
				return
			}
			fc.protocol = hs.Protocol
			fc.br = bufio.NewReader(nc)
			s.handle(fc)
		}()
	}
}

// fakeConn is the server side of one connection.
type fakeConn struct {
	t        testing.TB
	nc       net.Conn
	br       *bufio.Reader
	profile  *mte.Profile
	session  mte.Session
	uri      string
	header   http.Header
	protocol string
}

// readFrame reads one frame and checks it is masked, as every client frame
// must be; it returns the unmasked frame.
func (f *fakeConn) readFrame() (ws.Frame, error) {
	fr, err := ws.ReadFrame(f.br)
	if err != nil {
		return fr, err
	}
	if !fr.Header.Masked {
		return fr, errors.New("fake server: unmasked client frame")
	}
	return ws.UnmaskFrameInPlace(fr), nil
}

// readMessage returns the next single-frame binary message; any other frame
// is an error (the client sends one frame per message).
func (f *fakeConn) readMessage() ([]byte, error) {
	fr, err := f.readFrame()
	if err != nil {
		return nil, err
	}
	if fr.Header.OpCode != ws.OpBinary || !fr.Header.Fin {
		return nil, fmt.Errorf("fake server: got frame op=%v fin=%v, want one binary frame", fr.Header.OpCode, fr.Header.Fin)
	}
	return fr.Payload, nil
}

func (f *fakeConn) writeFrame(op ws.OpCode, fin bool, p []byte) error {
	return ws.WriteFrame(f.nc, ws.NewFrame(op, fin, p))
}

func (f *fakeConn) writeHandshake(a mte.Action, payload []byte) error {
	return f.writeFrame(ws.OpBinary, true, append(mte.AppendHeader(nil, a, mte.TypeHandshake), payload...))
}

// expect reads a plaintext handshake message with action want.
func (f *fakeConn) expect(want mte.Action) ([]byte, error) {
	msg, err := f.readMessage()
	if err != nil {
		return nil, err
	}
	h, payload, err := mte.ParseHeader(msg)
	if err != nil {
		return nil, err
	}
	if h.Action != want || h.Type != mte.TypeHandshake {
		return nil, fmt.Errorf("fake server: got action %d type %d, want action %d type 254", h.Action, h.Type, want)
	}
	return payload, nil
}

// pair runs the server side of actions 0–5 and returns the pathname.
func (f *fakeConn) pair() (string, error) {
	if p, err := f.expect(mte.ActionRequest); err != nil {
		return "", err
	} else if len(p) != 0 {
		return "", fmt.Errorf("fake server: hello payload %q", p)
	}
	if err := f.writeHandshake(mte.ActionResponse, nil); err != nil {
		return "", err
	}
	req, err := f.expect(mte.ActionPairRequest)
	if err != nil {
		return "", err
	}
	resp, err := f.session.Respond(f.profile, req, rand.Reader, nil)
	if err != nil {
		f.closeWith(mte.CloseCode(err))
		return "", err
	}
	if err := f.writeHandshake(mte.ActionPairResponse, resp); err != nil {
		return "", err
	}
	msg, err := f.readMessage()
	if err != nil {
		return "", err
	}
	h, pt, err := f.session.Open(msg)
	if err != nil {
		f.closeWith(mte.CloseCode(err))
		return "", err
	}
	if h.Action != mte.ActionUpstreamRequest {
		return "", fmt.Errorf("fake server: action %d, want 4", h.Action)
	}
	pathname, err := mte.ParsePathname(pt)
	if err != nil {
		return "", err
	}
	return pathname, f.writeHandshake(mte.ActionUpstreamResponse, nil)
}

// send seals and writes one proxyData message.
func (f *fakeConn) send(t mte.MessageType, pt []byte) error {
	msg, err := f.session.Seal(nil, mte.ActionProxyData, t, pt)
	if err != nil {
		return err
	}
	return f.writeFrame(ws.OpBinary, true, msg)
}

// recv reads and opens one proxyData message; the plaintext is a copy.
func (f *fakeConn) recv() (mte.MessageType, []byte, error) {
	msg, err := f.readMessage()
	if err != nil {
		return 0, nil, err
	}
	h, pt, err := f.session.Open(msg)
	if err != nil {
		return 0, nil, err
	}
	if h.Action != mte.ActionProxyData {
		return 0, nil, fmt.Errorf("fake server: action %d, want 6", h.Action)
	}
	return h.Type, append([]byte{}, pt...), nil
}

func (f *fakeConn) closeWith(code uint16, reason string) error {
	return f.writeFrame(ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
}

// readClose reads frames until the client's close frame and returns it.
func (f *fakeConn) readClose() (uint16, string, error) {
	for {
		fr, err := f.readFrame()
		if err != nil {
			return 0, "", err
		}
		if fr.Header.OpCode == ws.OpClose {
			if len(fr.Payload) == 0 {
				return 1005, "", nil
			}
			code, reason := ws.ParseCloseFrameData(fr.Payload)
			return uint16(code), reason, nil
		}
	}
}

// echo pairs, then echoes every proxyData message until the client closes,
// answering its close frame.
func echo(f *fakeConn) {
	if _, err := f.pair(); err != nil {
		f.t.Errorf("pair: %v", err)
		return
	}
	for {
		msg, err := f.readFrame()
		if err != nil {
			return
		}
		switch msg.Header.OpCode {
		case ws.OpClose:
			f.writeFrame(ws.OpClose, true, msg.Payload)
			return
		case ws.OpBinary:
			h, pt, err := f.session.Open(msg.Payload)
			if err != nil {
				f.t.Errorf("fake server open: %v", err)
				return
			}
			if err := f.send(h.Type, pt); err != nil {
				return
			}
		}
	}
}

// testCtx bounds a test's blocking calls so a bug fails instead of hanging.
// testCtx bounds a test: 60 s, so that a loaded CI machine (race detector,
// parallel packages) still fits proxy restarts, and nothing waits forever.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustDial(t *testing.T, ctx context.Context, url string, opts Options) *Conn {
	t.Helper()
	c, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close(1000, "") })
	return c
}

func randReader() io.Reader { return rand.Reader }
