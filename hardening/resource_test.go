package hardening

import (
	"bytes"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketx/socketx-server/codec"
	"github.com/socketx/socketx-server/internal/wstest"
	"github.com/socketx/socketx-server/mte"
)

// Resource edges with the real binary: what an unauthenticated or hostile
// peer can make the proxy hold and spend. Figures are printed; the
// assertions are the documented bounds (docs/HARDENING.md, "Resource
// exhaustion").

// maxHandshakeMessage mirrors the engine's cap on a client message before
// relaying (docs/PROTOCOL.md §11): header, sequence, tag, 8 KiB pathname.
const maxHandshakeMessage = mte.HeaderLen + mte.Overhead + mte.MaxPathnameRequest

// waitMetric polls /metrics (bounded) until cond holds for series.
func (p proc) waitMetric(t *testing.T, series string, cond func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := int64(metricValue(t, p.metricsText(t), series))
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting on %s (now %d)", series, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cpuTime is the CPU time all of the process's threads have run, in
// nanoseconds (/proc/PID/task/*/schedstat: /proc/PID/stat counts in
// 10 ms ticks, too coarse for one message).
func (p proc) cpuTime(t testing.TB) time.Duration {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(p.Cmd.Process.Pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var sum time.Duration
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/" + task.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		sum += time.Duration(ns)
	}
	return sum
}

// readCalls is the process's count of read-type system calls
// (/proc/PID/io syscr).
func (p proc) readCalls(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.Cmd.Process.Pid) + "/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no syscr in /proc/PID/io")
	return 0
}

// TestResourcePrePairingFrames: 1,000 connections each send the largest
// handshake frame the proxy accepts before pairing, all but its last byte,
// and wait. The proxy holds exactly that much per connection in message
// buffers, and its live heap grows by less than 16 MiB in all. A frame
// declaring more is refused from its header with 1009.
func TestResourcePrePairingFrames(t *testing.T) {
	const conns = 1000
	p := startSocketx(t, startEcho(t), "LOG_LEVEL=warn", "HANDSHAKE_TIMEOUT=60")
	addr := "127.0.0.1:" + strconv.Itoa(p.Port)

	over := wstest.Dial(t, addr)
	over.Upgrade("/")
	over.Write(codec.AppendFrameHeader(nil, true, codec.OpBinary, 1<<20, &[4]byte{}))
	over.ExpectClose(1009, "message too big")

	base := p.sample(t)
	frame := codec.AppendFrameHeader(nil, true, codec.OpBinary, maxHandshakeMessage, &[4]byte{})
	frame = append(frame, make([]byte, maxHandshakeMessage-1)...)
	start := time.Now()
	clients := make([]*wstest.Client, conns)
	for i := range clients {
		c := wstest.Dial(t, addr)
		_ = c.Conn.SetDeadline(time.Now().Add(90 * time.Second))
		c.Upgrade("/")
		if i%2 == 1 { // half of them one state further, in statePair
			c.Hello()
		}
		c.Write(frame)
		clients[i] = c
	}
	held := p.waitMetric(t, "socketx_memory_budget_used_bytes", func(v int64) bool { return v == conns*maxHandshakeMessage })
	peak := p.sample(t)
	grow := peak.HeapInuse - base.HeapInuse
	t.Logf("%d connections × a %d-byte handshake frame less one byte (%v): budget counts %d bytes; heap in use after GC %d KiB → %d KiB (+%d B per connection, everything included); RSS %d MiB → %d MiB; fds %d → %d",
		conns, maxHandshakeMessage, time.Since(start).Round(time.Millisecond), held, base.HeapInuse>>10, peak.HeapInuse>>10, grow/conns, base.RSS>>20, peak.RSS>>20, base.FDs, peak.FDs)
	if grow >= 16<<20 {
		t.Fatalf("heap grew by %d KiB for %d pre-pairing connections, want < 16 MiB", grow>>10, conns)
	}
	// The connections still work: one of them completes its (invalid)
	// hello and gets the pairing's verdict, one its pairRequest's.
	clients[0].Write([]byte{0})
	clients[0].ExpectClose(1002, "mte: bad header magic")
	clients[1].Write([]byte{0})
	clients[1].ExpectClose(1002, "mte: bad header magic")
	for _, c := range clients[2:] {
		c.Conn.Close()
	}
	p.waitMetric(t, "socketx_memory_budget_used_bytes", func(v int64) bool { return v == 0 })
	p.waitMetric(t, "socketx_connections_open", func(v int64) bool { return v == 0 })
}

// TestResourceMemoryBudget: paired clients together ask for three times
// MEMORY_BUDGET in partial messages. The largest holders are closed with
// 1013 as the budget fills; smaller holders and a witness session keep
// working; RSS stays under the budget plus a margin.
func TestResourceMemoryBudget(t *testing.T) {
	const budget = 8 << 20
	const margin = 48 << 20 // runtime, read and staging buffers, garbage between collections
	p := startSocketx(t, startEcho(t), "LOG_LEVEL=warn",
		"MEMORY_BUDGET="+strconv.Itoa(budget))
	addr := "127.0.0.1:" + strconv.Itoa(p.Port)
	profile, err := mte.NewProfile(mte.Params{Strength: mte.Strength512, Window: 1000})
	if err != nil {
		t.Fatal(err)
	}
	base := p.sample(t)
	witness := wstest.Dial(t, addr)
	witness.Upgrade("/")
	witness.Pair(profile, "/witness")
	witness.RoundTrip(mte.TypeText, []byte("before"))

	type holder struct {
		c     *wstest.Client
		msg   []byte
		frame []byte
	}
	newHolder := func(size int) *holder {
		h := &holder{c: wstest.Dial(t, addr), msg: bytes.Repeat([]byte{byte(size)}, size)}
		h.c.Upgrade("/")
		h.c.Pair(profile, "/holder")
		h.frame = wstest.Frame(true, codec.OpBinary, h.c.Seal(mte.TypeBinary, h.msg))
		return h
	}
	// 20 big (1 MiB) and 8 small (100 KiB) holders: 20 × 1 MiB + 8 × 128 KiB
	// requested, three times the budget.
	var big, small []*holder
	for range 20 {
		big = append(big, newHolder(1<<20))
	}
	for range 8 {
		small = append(small, newHolder(100<<10))
	}
	var maxHeld int64
	for i, h := range append(append([]*holder{}, small...), big...) {
		h.c.Write(h.frame[:len(h.frame)*9/10])
		if i%4 == 3 {
			witness.RoundTrip(mte.TypeBinary, []byte{byte(i)})
		}
		maxHeld = max(maxHeld, int64(metricValue(t, p.metricsText(t), "socketx_memory_budget_used_bytes")))
	}
	peak := p.sample(t)
	witness.RoundTrip(mte.TypeText, []byte("during"))

	// Every big holder either still holds its message or was closed with
	// 1013; every small one completes.
	var shed, kept int
	for _, h := range big {
		_ = h.c.Conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		f, err := readFrame(h.c)
		if err != nil {
			kept++
			continue
		}
		if f.op != codec.OpClose || f.code != 1013 || f.reason != "proxy memory budget exceeded" {
			t.Fatalf("big holder got op %v close %d %q", f.op, f.code, f.reason)
		}
		shed++
	}
	for _, h := range small {
		h.c.Write(h.frame[len(h.frame)*9/10:])
		if typ, got := h.c.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, h.msg) {
			t.Fatalf("small holder's echo differs (%d bytes)", len(got))
		}
	}
	witness.RoundTrip(mte.TypeText, []byte("after"))
	metricShed := int64(metricValue(t, p.metricsText(t), `socketx_connections_shed_total{reason="memory"}`))
	t.Logf("budget %d MiB: %d of %d big holders closed 1013, %d kept; small holders and the witness unaffected; peak counted %d KiB; RSS %d MiB → peak %d MiB (HWM), heap after GC %d KiB",
		budget>>20, shed, len(big), kept, maxHeld>>10, base.RSS>>20, peak.HWM>>20, peak.HeapInuse>>10)
	if int64(shed) != metricShed || shed < len(big)-budget/(1<<20) {
		t.Fatalf("%d big holders closed, shed metric %d; want at least %d closed", shed, metricShed, len(big)-budget/(1<<20))
	}
	if maxHeld > budget {
		t.Fatalf("counted %d bytes held, over the %d budget", maxHeld, budget)
	}
	if peak.HWM > base.RSS+budget+margin {
		t.Fatalf("peak RSS %d MiB, over baseline %d MiB + budget %d MiB + margin %d MiB", peak.HWM>>20, base.RSS>>20, budget>>20, margin>>20)
	}
}

// frameInfo is the part of a server frame these tests look at.
type frameInfo struct {
	op     codec.OpCode
	code   uint16
	reason string
}

// readFrame reads one server frame (skipping pings) without failing the
// test on a timeout.
func readFrame(c *wstest.Client) (frameInfo, error) {
	for {
		var h codec.Header
		hb := make([]byte, 2, 14)
		if _, err := ioReadFull(c, hb); err != nil {
			return frameInfo{}, err
		}
		need := 2
		switch hb[1] & 0x7f {
		case 126:
			need = 4
		case 127:
			need = 10
		}
		hb = hb[:need]
		if _, err := ioReadFull(c, hb[2:]); err != nil {
			return frameInfo{}, err
		}
		if _, err := codec.ParseHeader(hb, codec.Limits{}, &h); err != nil {
			return frameInfo{}, err
		}
		payload := make([]byte, h.Length)
		if _, err := ioReadFull(c, payload); err != nil {
			return frameInfo{}, err
		}
		if h.Op == codec.OpPing || h.Op == codec.OpPong {
			continue
		}
		f := frameInfo{op: h.Op}
		if h.Op == codec.OpClose && len(payload) >= 2 {
			f.code = uint16(payload[0])<<8 | uint16(payload[1])
			f.reason = string(payload[2:])
		}
		return f, nil
	}
}

func ioReadFull(c *wstest.Client, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.BR.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestResourceTrickleCPU: a 1 MiB message delivered in 4 KiB, 64-byte and
// 1-byte segments costs proxy CPU linear in its bytes and segments. Each
// segment the proxy reads costs a read(2), an epoll wake-up and the
// kernel's TCP receive path (a few µs, whatever the proxy does), so small
// segments cost more than one write; what must not happen is a cost per
// read that grows with what is already buffered. Figures are printed; the
// assertions are generous.
func TestResourceTrickleCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("trickle CPU measurement skipped in -short mode")
	}
	p := startSocketx(t, startEcho(t), "LOG_LEVEL=warn", "CLIENT_PONG_TIMEOUT=120", "CLIENT_PING_INTERVAL=100")
	addr := "127.0.0.1:" + strconv.Itoa(p.Port)
	profile, err := mte.NewProfile(mte.Params{Strength: mte.Strength512, Window: 1000})
	if err != nil {
		t.Fatal(err)
	}
	c := wstest.Dial(t, addr)
	_ = c.Conn.SetDeadline(time.Now().Add(10 * time.Minute))
	c.Conn.(*net.TCPConn).SetNoDelay(true)
	c.Upgrade("/")
	c.Pair(profile, "/trickle")

	// send writes the frame of a size-byte message: everything but the
	// last tail bytes at once (tail < 0: nothing), the tail in seg-byte
	// writes; it returns the proxy's CPU time and read calls for the
	// message, its echo included.
	send := func(size, tail, seg int) (time.Duration, int64) {
		msg := bytes.Repeat([]byte{byte(seg)}, size)
		frame := wstest.Frame(true, codec.OpBinary, c.Seal(mte.TypeBinary, msg))
		if tail < 0 || tail > len(frame) {
			tail = len(frame)
		}
		cpu0, r0 := p.cpuTime(t), p.readCalls(t)
		head := len(frame) - tail
		if _, err := c.Conn.Write(frame[:head]); err != nil {
			t.Fatal(err)
		}
		for off := head; off < len(frame); off += seg {
			if _, err := c.Conn.Write(frame[off:min(off+seg, len(frame))]); err != nil {
				t.Fatal(err)
			}
		}
		if typ, got := c.Recv(); typ != mte.TypeBinary || !bytes.Equal(got, msg) {
			t.Fatalf("echo of %d bytes in %d-byte segments differs", size, seg)
		}
		return p.cpuTime(t) - cpu0, p.readCalls(t) - r0
	}
	send(1<<20, 0, 1) // warm up buffers and pools

	// oneWrite is the median CPU time (and read calls) of five size-byte
	// messages each sent in one write.
	oneWrite := func(size int) (time.Duration, int64) {
		type run struct {
			d time.Duration
			r int64
		}
		var runs []run
		for range 5 {
			d, r := send(size, 0, 1)
			runs = append(runs, run{d, r})
		}
		slices.SortFunc(runs, func(a, b run) int { return int(a.d - b.d) })
		return runs[2].d, runs[2].r
	}
	one, oneReads := oneWrite(1 << 20)
	t.Logf("1 MiB in one write: %v proxy CPU, %d reads (median of 5)", one, oneReads)
	for _, seg := range []int{4096, 64, 1} {
		whole, reads := send(1<<20, -1, seg)
		perRead := float64(whole-one) / float64(max(reads-oneReads, 1))
		t.Logf("1 MiB in %d-byte segments: %v proxy CPU (%.1f× one write), %d proxy reads, %.2f µs per extra read",
			seg, whole, float64(whole)/float64(one), reads, perRead/1e3)
		switch {
		case seg == 4096 && whole > 3*one+2*time.Millisecond:
			t.Errorf("4 KiB segments cost %v, more than 3× one write (%v)", whole, one)
		case reads-oneReads > 500 && perRead > 30e3:
			t.Errorf("%d-byte segments: %.2f µs per read: not linear", seg, perRead/1e3)
		}
		if seg == 4096 {
			continue
		}
		// The same segments trickled at the end of a 1 MiB frame and
		// making up a small frame cost the same per extra read: a read
		// costs the same whatever is already buffered. (How many reads the
		// kernel's coalescing leaves varies from run to run.)
		tail := 4096 * seg
		if seg == 1 {
			tail = 16384
		}
		atEnd, readsEnd := send(1<<20, tail, seg)
		small, readsSmall := send(tail-64, -1, seg)
		smallOne, smallOneReads := oneWrite(tail - 64)
		nEnd, nSmall := readsEnd-oneReads, readsSmall-smallOneReads
		perEnd := float64(atEnd-one) / float64(max(nEnd, 1))
		perSmall := float64(small-smallOne) / float64(max(nSmall, 1))
		t.Logf("%d-byte segments, %d bytes of them: %.2f µs per extra read at the end of a 1 MiB frame (%d reads), %.2f µs as a frame of their own (%d reads): %.2f×",
			seg, tail, perEnd/1e3, nEnd, perSmall/1e3, nSmall, perEnd/perSmall)
		if nEnd >= 500 && nSmall >= 500 && perEnd > 3*perSmall+5e3 {
			t.Errorf("%d-byte segments: %.2f µs per read at the end of a 1 MiB frame, %.2f µs in a small one: cost depends on what is buffered", seg, perEnd/1e3, perSmall/1e3)
		}
	}
}
