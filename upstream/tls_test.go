package upstream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/socketx/socketx-server/internal/testwait"
)

func wssEndpoint(port string) Endpoint {
	return Endpoint{Addr: "127.0.0.1:" + port, TLS: true, ServerName: "127.0.0.1"}
}

// waitBridges waits, bounded, until every bridge goroutine of m has exited.
func waitBridges(t testing.TB, m *Manager) {
	t.Helper()
	done := make(chan struct{})
	go func() { m.bridges.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("bridge goroutines did not exit")
	}
}

// waitGoroutines waits, bounded, for the goroutine count to drop to base
// (goroutines that have signalled a WaitGroup may still be unwinding).
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines %d > baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestBridgeEchoAndEngineClose(t *testing.T) {
	base := runtime.NumGoroutine()
	pki := newTestPKI(t)
	peerEnd := make(chan error, 1)
	srv := startTLSServer(t, pki, func(c *tls.Conn) {
		if err := c.Handshake(); err != nil {
			peerEnd <- err
			return
		}
		if c.ConnectionState().NegotiatedProtocol != "http/1.1" {
			peerEnd <- errors.New("ALPN not http/1.1")
			return
		}
		_, err := io.Copy(c, c) // returns nil on EOF (close_notify)
		peerEnd <- err
	})
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: pki.pool}}, zap.NewNop())

	c, err := m.Dial(context.Background(), wssEndpoint(srv.port()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*net.UnixConn); !ok {
		t.Fatalf("conn is %T, want *net.UnixConn", c)
	}
	want := make([]byte, 1<<20)
	_, _ = rand.Read(want)
	writeErr := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		writeErr <- err
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("echoed bytes differ")
	}
	// The bridge adds to its byte counters after each write returns, so
	// the reader can hold every byte a moment before the last add: wait
	// (bounded) for the counters rather than read them once.
	var st Stats
	if !testwait.Until(5*time.Second, func() bool {
		st = m.Stats()
		return st.BridgesOpen == 1 && st.BridgesTotal == 1 && st.BridgeBytesUp == 1<<20 && st.BridgeBytesDown == 1<<20
	}) {
		t.Fatalf("stats %+v", st)
	}

	// The engine closes its end: the peer sees a clean end of stream.
	_ = c.Close()
	if err := <-peerEnd; err != nil {
		t.Fatalf("peer: %v", err)
	}
	waitBridges(t, m)
	if s := m.Stats(); s.BridgesOpen != 0 {
		t.Fatalf("stats %+v", s)
	}
	srv.close()
	waitGoroutines(t, base)
}

func TestBridgePeerClose(t *testing.T) {
	base := runtime.NumGoroutine()
	pki := newTestPKI(t)
	srv := startTLSServer(t, pki, func(c *tls.Conn) {
		_, _ = c.Write([]byte("bye"))
	}) // the handler returns and the server closes the connection
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: pki.pool}}, zap.NewNop())
	c, err := m.Dial(context.Background(), wssEndpoint(srv.port()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c) // the engine sees the data, then EOF
	if err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v", got, err)
	}
	waitBridges(t, m)
	// Writing to the engine end now fails: the bridge closed its end.
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write after peer close succeeded")
	}
	_ = c.Close()
	srv.close()
	waitGoroutines(t, base)
}

func TestDialTLSUnknownCA(t *testing.T) {
	pki := newTestPKI(t)
	srv := startTLSServer(t, pki, echo)
	defer srv.close()
	other := newTestPKI(t)
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: other.pool}}, zap.NewNop())
	_, err := m.Dial(context.Background(), wssEndpoint(srv.port()))
	wantDialError(t, err, ReasonTLS)
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Fatalf("err %v, want x509.UnknownAuthorityError", err)
	}
	// A TLS failure feeds the backoff like any other upstream failure.
	_, err = m.Dial(context.Background(), wssEndpoint(srv.port()))
	wantDialError(t, err, ReasonBackoff)
}

func TestDialTLSWrongName(t *testing.T) {
	pki := newTestPKI(t)
	srv := startTLSServer(t, pki, echo)
	defer srv.close()
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: pki.pool}}, zap.NewNop())
	ep := wssEndpoint(srv.port())
	ep.ServerName = "wrong.example.com"
	_, err := m.Dial(context.Background(), ep)
	wantDialError(t, err, ReasonTLS)
	var herr x509.HostnameError
	if !errors.As(err, &herr) {
		t.Fatalf("err %v, want x509.HostnameError", err)
	}
}

func TestDialTLSHandshakeTimeout(t *testing.T) {
	// A TCP server that accepts and never speaks TLS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	m := NewManager(Config{DialTimeout: 100 * time.Millisecond}, zap.NewNop())
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_, err = m.Dial(context.Background(), wssEndpoint(port))
	wantDialError(t, err, ReasonTimeout)
	(<-accepted).Close()
}

// TestHelperTLSEchoServer is not a test: TestBridgeMemoryPerConn runs it in a
// child process so the server's memory is not counted.
func TestHelperTLSEchoServer(t *testing.T) {
	if os.Getenv("UPSTREAM_TLS_ECHO_HELPER") != "1" {
		t.Skip("helper process only")
	}
	pki := newTestPKI(t)
	srv := startTLSServer(t, pki, echo)
	fmt.Printf("%s %s\n", srv.port(), base64.StdEncoding.EncodeToString(pki.caPEM))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	_ = srv.ln.Close()
	os.Exit(0)
}

// TestBridgeMemoryPerConn measures the client-side memory of 200 bridged
// wss connections (bridge goroutines, buffers, TLS state, conns) against a
// TLS echo server in a child process.
func TestBridgeMemoryPerConn(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const conns = 200
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperTLSEchoServer$")
	cmd.Env = append(os.Environ(), "UPSTREAM_TLS_ECHO_HELPER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	port, caB64, _ := strings.Cut(strings.TrimSpace(line), " ")
	caPEM, err := base64.StdEncoding.DecodeString(caB64)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: pool}}, zap.NewNop())
	ep := wssEndpoint(port)

	// Warm up pools and the session cache so they are not counted.
	warm, err := m.Dial(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, warm)

	before := heapAndStacks()
	cs := make([]net.Conn, 0, conns)
	for range conns {
		c, err := m.Dial(context.Background(), ep)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c) // steady state: a record each way has flowed
		cs = append(cs, c)
	}
	after := heapAndStacks()
	per := (int64(after) - int64(before)) / conns
	t.Logf("bridged wss conn: %d bytes/conn (%.1f KiB) of heap+stacks over %d conns, BridgeBufferSize %d, race %v",
		per, float64(per)/1024, conns, DefaultBridgeBufferSize, raceEnabled)
	if !raceEnabled && per > 128<<10 {
		t.Errorf("%d bytes per bridged conn, want <= 128 KiB", per)
	}
	for _, c := range append(cs, warm) {
		_ = c.Close()
	}
	waitBridges(t, m)
}

func roundTrip(t testing.TB, c net.Conn) {
	t.Helper()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("round trip %q, %v", buf, err)
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// BenchmarkBridgeEcho measures throughput through one bridged wss conn to an
// in-process TLS echo server (both TLS ends on this machine's cores).
func BenchmarkBridgeEcho(b *testing.B) {
	pki := newTestPKI(b)
	srv := startTLSServer(b, pki, echo)
	defer srv.close()
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: pki.pool}}, zap.NewNop())
	c, err := m.Dial(context.Background(), wssEndpoint(srv.port()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 16<<10)
	buf := make([]byte, len(msg))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDialWSS measures a full wss dial: TCP connect, TLS handshake
// (resumed after the first) and bridge setup.
func BenchmarkDialWSS(b *testing.B) {
	pki := newTestPKI(b)
	srv := startTLSServer(b, pki, echo)
	defer srv.close()
	m := NewManager(Config{TLSConfig: &tls.Config{RootCAs: pki.pool, ClientSessionCache: tls.NewLRUClientSessionCache(0)}}, zap.NewNop())
	ep := wssEndpoint(srv.port())
	b.ReportAllocs()
	for b.Loop() {
		c, err := m.Dial(context.Background(), ep)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
	b.StopTimer()
	waitBridges(b, m)
}

// BenchmarkTLSDirectEcho is BenchmarkBridgeEcho without the bridge: the
// difference is the bridge's cost per 16 KiB round trip.
func BenchmarkTLSDirectEcho(b *testing.B) {
	pki := newTestPKI(b)
	srv := startTLSServer(b, pki, echo)
	defer srv.close()
	c, err := tls.Dial("tcp", "127.0.0.1:"+srv.port(), &tls.Config{RootCAs: pki.pool})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 16<<10)
	buf := make([]byte, len(msg))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}
