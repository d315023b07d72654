package client

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gobwas/ws"
	"github.com/socketx/socketx-server/mte"
)

// discard pairs and then drops every frame without allocating (so that
// AllocsPerRun, which counts every goroutine, measures the client alone),
// until it echoes the client's close frame.
func discard(f *fakeConn) {
	if _, err := f.pair(); err != nil {
		f.t.Errorf("pair: %v", err)
		return
	}
	for {
		p, err := f.br.Peek(2)
		if err != nil {
			return
		}
		op, n, length := ws.OpCode(p[0]&0x0f), 2+4, int(p[1]&0x7f)
		switch length {
		case 126:
			n += 2
		case 127:
			n += 8
		}
		if p, err = f.br.Peek(n); err != nil {
			return
		}
		switch length {
		case 126:
			length = int(binary.BigEndian.Uint16(p[2:]))
		case 127:
			length = int(binary.BigEndian.Uint64(p[2:]))
		}
		if op == ws.OpClose {
			var mask [4]byte
			copy(mask[:], p[n-4:n])
			f.br.Discard(n)
			payload := make([]byte, length)
			io.ReadFull(f.br, payload)
			ws.Cipher(payload, mask, 0)
			f.writeFrame(ws.OpClose, true, payload)
			return
		}
		if _, err := f.br.Discard(n + length); err != nil {
			return
		}
	}
}

func TestSendZeroAllocs(t *testing.T) {
	srv := newFakeServer(t, mte.Params{Strength: 512}, discard)
	c := mustDial(t, testCtx(t), srv.url, Options{})
	for _, size := range []int{64, 1024} {
		payload := make([]byte, size)
		ctx := context.Background()
		allocs := testing.AllocsPerRun(200, func() {
			if err := c.Send(ctx, mte.TypeBinary, payload); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Send %d B: %v allocs, want 0", size, allocs)
		}
	}
}

func TestReceiveZeroAllocs(t *testing.T) {
	const runs = 201 // AllocsPerRun runs once more to warm up
	srv := newFakeServer(t, mte.Params{Strength: 512}, func(f *fakeConn) {
		if _, err := f.pair(); err != nil {
			f.t.Errorf("pair: %v", err)
			return
		}
		var blob []byte
		for i := 0; i < runs; i++ {
			msg, _ := f.session.Seal(nil, mte.ActionProxyData, mte.TypeBinary, make([]byte, 1024))
			frame, _ := ws.CompileFrame(ws.NewBinaryFrame(msg))
			blob = append(blob, frame...)
		}
		f.nc.Write(blob)
		f.readClose()
	})
	c := mustDial(t, testCtx(t), srv.url, Options{})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(runs-1, func() {
		if _, p, err := c.Receive(ctx); err != nil || len(p) != 1024 {
			t.Fatal(len(p), err)
		}
	})
	if allocs != 0 {
		t.Errorf("Receive 1 KiB: %v allocs, want 0", allocs)
	}
}

func TestCloseDuringReceive(t *testing.T) {
	ctx := testCtx(t)
	srv := newFakeServer(t, mte.Params{Strength: 512}, echo)
	c := mustDial(t, ctx, srv.url, Options{})
	got := make(chan error, 1)
	go func() {
		_, _, err := c.Receive(ctx)
		got <- err
	}()
	if err := c.Close(4000, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Either Receive was blocked and read the server's close echo, or Close
	// read it first and Receive found the connection closed.
	err := <-got
	var ce *CloseError
	if !(errors.As(err, &ce) && *ce == (CloseError{4000, "bye"})) && err != ErrClosed {
		t.Fatalf("Receive = %v, want the server's close echo or ErrClosed", err)
	}
	if _, _, err2 := c.Receive(ctx); err2 != err {
		t.Fatalf("second Receive = %v, want %v", err2, err)
	}
}

func BenchmarkSend(b *testing.B) {
	for _, size := range []int{64, 1024, 16384} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			srv := newFakeServer(b, mte.Params{Strength: 512}, discard)
			c, err := Dial(context.Background(), srv.url, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(1000, "")
			payload := make([]byte, size)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Send(ctx, mte.TypeBinary, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRoundTrip1KiB(b *testing.B) {
	srv := newFakeServer(b, mte.Params{Strength: 512}, echo)
	c, err := Dial(context.Background(), srv.url, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(1000, "")
	payload := bytes.Repeat([]byte{7}, 1024)
	ctx := context.Background()
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Send(ctx, mte.TypeBinary, payload); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Receive(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
