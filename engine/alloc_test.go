package engine

import (
	"crypto/rand"
	"net"
	"strconv"
	"testing"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// fakeConn is the part of gnet.Conn the relay path uses, backed by memory,
// so the per-frame path can be measured without sockets.
type fakeConn struct {
	gnet.Conn // nil: any method not overridden panics
	in        []byte
	written   int
	frames    int
}

func (f *fakeConn) Peek(n int) ([]byte, error) {
	if n <= 0 || n > len(f.in) {
		return f.in, nil
	}
	return f.in[:n], nil
}

func (f *fakeConn) Discard(n int) (int, error) {
	if n <= 0 || n >= len(f.in) {
		n = len(f.in)
	}
	f.in = f.in[n:]
	return n, nil
}

func (f *fakeConn) Read(p []byte) (int, error) {
	n := copy(p, f.in)
	f.in = f.in[n:]
	return n, nil
}

func (f *fakeConn) InboundBuffered() int  { return len(f.in) }
func (f *fakeConn) OutboundBuffered() int { return 0 }
func (f *fakeConn) Write(b []byte) (int, error) {
	f.written += len(b)
	f.frames++
	return len(b), nil
}

func (f *fakeConn) Writev(bs [][]byte) (int, error) {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	f.written += n
	f.frames++
	return n, nil
}
func (f *fakeConn) Close() error         { return nil }
func (f *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// relayFixture is a session in stateRelay over fake conns, paired with a
// client-side mte.Session.
type relayFixture struct {
	sess       *session
	client, up *fakeConn
	clientSide mte.Session
}

func newRelayFixture(t testing.TB) *relayFixture {
	p, err := mte.NewProfile(mte.Params{Strength: mte.Strength512, Window: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{cfg: DefaultConfig(), log: zap.NewNop(), profile: p}
	l := newLoop(srv, nil)
	f := &relayFixture{client: &fakeConn{}, up: &fakeConn{}}
	sess := l.newSession(f.client)
	sess.state = stateRelay
	sess.client.ws = true
	sess.up = leg{sess: sess, conn: f.up, upstream: true, state: legOpen, ws: true, maxMsg: sess.client.maxMsg}

	in, err := mte.NewInitiator(p, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := sess.mte.Respond(p, in.Request(), rand.Reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Finish(resp, &f.clientSide); err != nil {
		t.Fatal(err)
	}
	f.sess = sess
	return f
}

// clientFrames returns n masked client frames carrying size-byte proxyData.
func (f *relayFixture) clientFrames(t testing.TB, n, size int) []byte {
	var out []byte
	payload := make([]byte, size)
	for range n {
		msg, err := f.clientSide.Seal(nil, mte.ActionProxyData, mte.TypeBinary, payload)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, wstest.Frame(true, codec.OpBinary, msg)...)
	}
	return out
}

// upstreamFrames returns n unmasked server frames of size bytes.
func upstreamFrames(n, size int) []byte {
	var out []byte
	payload := make([]byte, size)
	for range n {
		out = codec.AppendFrameHeader(out, true, codec.OpBinary, size, nil)
		out = append(out, payload...)
	}
	return out
}

// TestRelayZeroAllocs proves the per-frame path allocates nothing in steady
// state, in both directions: parse, unmask, MTE open/seal, frame build,
// batched write.
func TestRelayZeroAllocs(t *testing.T) {
	for _, size := range []int{64, 1024, 16 << 10} {
		f := newRelayFixture(t)
		const perRead = 16
		const runs = 50
		// Client frames carry sequence numbers: build one batch per run.
		batches := make([][]byte, runs+2)
		for i := range batches {
			batches[i] = f.clientFrames(t, perRead, size)
		}
		buf := make([]byte, len(batches[0]))
		run := 0
		allocs := testing.AllocsPerRun(runs, func() {
			copy(buf, batches[run])
			run++
			f.client.in = buf
			f.sess.readClient()
		})
		if f.sess.state != stateRelay || f.up.written == 0 {
			t.Fatalf("size %d: state %v, upstream got %d bytes", size, f.sess.state, f.up.written)
		}
		if allocs != 0 {
			t.Errorf("client→upstream %d B: %.1f allocs per read of %d frames, want 0", size, allocs, perRead)
		}
		if got := f.sess.audit.msgsUp; got != uint64(perRead*(runs+1)) {
			t.Errorf("size %d: relayed %d messages up, want %d", size, got, perRead*(runs+1))
		}

		tmpl := upstreamFrames(perRead, size)
		ubuf := make([]byte, len(tmpl))
		allocs = testing.AllocsPerRun(runs, func() {
			copy(ubuf, tmpl)
			f.up.in = ubuf
			f.sess.readUpstream()
		})
		if allocs != 0 {
			t.Errorf("upstream→client %d B: %.1f allocs per read of %d frames, want 0", size, allocs, perRead)
		}
		if got := f.sess.audit.msgsDown; got != uint64(perRead*(runs+1)) {
			t.Errorf("size %d: relayed %d messages down, want %d", size, got, perRead*(runs+1))
		}
	}
}

// TestRelaySplitFrameZeroAllocs: a frame whose payload arrives over
// several reads (the fake conn replaces its input, so each split falls
// after the header) is assembled in a pooled buffer, in both directions,
// without allocating in steady state, and is relayed intact.
func TestRelaySplitFrameZeroAllocs(t *testing.T) {
	for _, size := range []int{100, 16 << 10, 200 << 10} {
		f := newRelayFixture(t)
		const runs = 50
		frames := make([][]byte, runs+2)
		for i := range frames {
			frames[i] = f.clientFrames(t, 1, size)
		}
		buf := make([]byte, len(frames[0]))
		run := 0
		before := f.up.written
		allocs := testing.AllocsPerRun(runs, func() {
			copy(buf, frames[run])
			run++
			for _, part := range [][]byte{buf[:20], buf[20 : len(buf)/3], buf[len(buf)/3:]} {
				f.client.in = part
				f.sess.readClient()
			}
		})
		if allocs != 0 {
			t.Errorf("client→upstream %d B in 3 reads: %.1f allocs per message, want 0", size, allocs)
		}
		if got, want := f.sess.audit.msgsUp, uint64(runs+1); got != want {
			t.Errorf("size %d: relayed %d messages up, want %d", size, got, want)
		}
		if got, want := f.up.written-before, (runs+1)*(size+len(codec.AppendFrameHeader(nil, true, codec.OpBinary, size, &[4]byte{}))); got != want {
			t.Errorf("size %d: upstream got %d bytes, want %d", size, got, want)
		}

		tmpl := upstreamFrames(1, size)
		ubuf := make([]byte, len(tmpl))
		allocs = testing.AllocsPerRun(runs, func() {
			copy(ubuf, tmpl)
			for _, part := range [][]byte{ubuf[:12], ubuf[12 : len(ubuf)/2], ubuf[len(ubuf)/2:]} {
				f.up.in = part
				f.sess.readUpstream()
			}
		})
		if allocs != 0 {
			t.Errorf("upstream→client %d B in 3 reads: %.1f allocs per message, want 0", size, allocs)
		}
		if got, want := f.sess.audit.msgsDown, uint64(runs+1); got != want {
			t.Errorf("size %d: relayed %d messages down, want %d", size, got, want)
		}
		if f.sess.mem.held != 0 || f.sess.loop.memUsed != 0 {
			t.Errorf("size %d: %d bytes still held (loop %d)", size, f.sess.mem.held, f.sess.loop.memUsed)
		}
	}
}

// BenchmarkRelayFrames measures the in-memory per-message cost of each
// direction (no syscalls): 16 messages per read, like a busy connection.
func BenchmarkRelayFrames(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run("up/"+strconv.Itoa(size)+"B", func(b *testing.B) {
			f := newRelayFixture(b)
			const perRead = 16
			// Client frames carry sequence numbers the decoder accepts once:
			// build them in large chunks outside the timer, one flat buffer
			// per chunk so regeneration stays rare and cheap to collect.
			const chunk = 1024
			one := len(f.clientFrames(b, 1, size))
			batchLen := one * perRead
			flat := make([]byte, 0, batchLen*chunk)
			refill := func() {
				flat = flat[:0]
				flat = append(flat, f.clientFrames(b, perRead*chunk, size)...)
			}
			buf := make([]byte, batchLen)
			b.SetBytes(int64(size * perRead))
			b.ReportAllocs()
			b.StopTimer()
			refill()
			b.StartTimer()
			for i := range b.N {
				j := i % chunk
				if j == 0 && i > 0 {
					b.StopTimer()
					refill()
					b.StartTimer()
				}
				copy(buf, flat[j*batchLen:(j+1)*batchLen])
				f.client.in = buf
				f.sess.readClient()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRead), "ns/msg")
		})
		b.Run("down/"+strconv.Itoa(size)+"B", func(b *testing.B) {
			f := newRelayFixture(b)
			const perRead = 16
			tmpl := upstreamFrames(perRead, size)
			buf := make([]byte, len(tmpl))
			b.SetBytes(int64(size * perRead))
			b.ReportAllocs()
			for range b.N {
				copy(buf, tmpl)
				f.up.in = buf
				f.sess.readUpstream()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRead), "ns/msg")
		})
	}
}
