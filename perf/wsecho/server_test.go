package wsecho

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/socketx/socketx-server/codec"
)

// startAndDial runs an echo on a free loopback port for the test and dials
// it; the server stops and the connection closes when the test ends.
func startAndDial(t *testing.T) (*Server, net.Conn) {
	t.Helper()
	srv := New(Config{Addr: "127.0.0.1:0", Loops: 1})
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

// A real socket: upgrade, echo, close; the counters match.
func TestServerEcho(t *testing.T) {
	srv, c := startAndDial(t)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	in := cat([]byte(upgradeReq), maskedFrame(true, codec.OpBinary, "abc"), maskedFrame(true, codec.OpClose, "\x03\xe8"))
	if _, err := c.Write(in); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := cat([]byte(upgradeResp), frame(true, codec.OpBinary, "abc"), frame(true, codec.OpClose, "\x03\xe8"))
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	st := srv.Stats()
	if st.Accepted != 1 || st.Upgraded != 1 || st.Frames != 1 || st.Bytes != 3 {
		t.Fatalf("%+v", st)
	}
}

// A frame longer than one read (the read buffer is 64 KiB) arrives over
// several OnTraffic calls; the bytes of the earlier reads must be kept, not
// discarded, until the frame is complete.
func TestServerEchoSpansReads(t *testing.T) {
	srv, c := startAndDial(t)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))

	payload := make([]byte, 200<<10+7)
	for i := range payload {
		payload[i] = byte(i*31 + i>>8)
	}
	in := cat([]byte(upgradeReq), maskedFrame(true, codec.OpBinary, string(payload)), maskedFrame(true, codec.OpClose, "\x03\xe8"))
	// Several writes with pauses, so the frame is cut across reads at
	// places no buffer size decides.
	go func() {
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 50<<10+3)
			if _, err := c.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
			time.Sleep(20 * time.Millisecond)
		}
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := cat([]byte(upgradeResp), frame(true, codec.OpBinary, string(payload)), frame(true, codec.OpClose, "\x03\xe8"))
	if !bytes.Equal(got, want) {
		t.Fatalf("echo differs: got %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if st := srv.Stats(); st.Frames != 1 || st.Bytes != uint64(len(payload)) {
		t.Fatalf("%+v", st)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
