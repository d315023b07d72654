package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// Hooks observe a run; each may be nil.
type Hooks struct {
	// Progress is called about once a second from a separate goroutine.
	Progress func(Progress)
	// DialDone is called once, when every connection is established or
	// has failed (in hold mode: the connections are now held).
	DialDone func()
}

// Progress is a snapshot of a running load.
type Progress struct {
	Elapsed     time.Duration `json:"elapsed_ns"`
	Established int64         `json:"established"`
	Failed      int64         `json:"failed"`
	Active      int64         `json:"active"`
	Msgs        uint64        `json:"msgs"`
	Bytes       uint64        `json:"bytes"`
	Errors      uint64        `json:"errors"`
	DialDone    bool          `json:"dial_done"`
}

type runner struct {
	cfg   Config
	d     *dialer
	start time.Time

	established, failed, active atomic.Int64
	msgs, bytes                 atomic.Uint64
	errs                        [numKinds]atomic.Uint64
	lastSetup                   atomic.Int64 // ns after start of the last successful setup
	dialDone                    atomic.Bool
	stop                        atomic.Bool
	stopCh                      chan struct{}

	setup, rtt Hist

	mu    sync.Mutex // guards live
	live  map[int]wsConn
	dials sync.WaitGroup // one per connection until its setup ends
	conns sync.WaitGroup // one per connection until it is closed
}

// Run executes cfg in this process and returns its result. Cancelling ctx
// ends the run early (connections are closed and the result covers what
// happened so far). No hook is called after Run returns.
func Run(ctx context.Context, cfg Config, hooks Hooks) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	d, err := newDialer(cfg)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, d: d, stopCh: make(chan struct{}), live: make(map[int]wsConn)}
	r.start = time.Now()

	// No hook runs after Run returns: wait for the reporter to exit.
	progressDone, reporterExited := make(chan struct{}), make(chan struct{})
	if hooks.Progress != nil {
		go func() {
			defer close(reporterExited)
			r.report(hooks.Progress, progressDone)
		}()
	} else {
		close(reporterExited)
	}
	defer func() {
		close(progressDone)
		<-reporterExited
	}()

	r.dials.Add(cfg.Conns)
	r.conns.Add(cfg.Conns)
	go r.dialAll(ctx)

	dialed := make(chan struct{})
	go func() { r.dials.Wait(); close(dialed) }()
	select {
	case <-dialed:
	case <-ctx.Done():
		r.halt()
		<-dialed
	}
	t0 := time.Now()
	msgs0, bytes0 := r.msgs.Load(), r.bytes.Load()
	r.dialDone.Store(true)
	if hooks.DialDone != nil {
		hooks.DialDone()
	}

	finished := make(chan struct{})
	go func() { r.conns.Wait(); close(finished) }()
	var timer <-chan time.Time
	if cfg.Duration > 0 || cfg.Hold {
		timer = time.After(cfg.Duration)
	}
	select {
	case <-timer:
	case <-ctx.Done():
	case <-finished: // -m reached on every connection
	}
	t1 := time.Now()
	msgs1, bytes1 := r.msgs.Load(), r.bytes.Load()
	r.halt()

	wait := cfg.Drain
	if cfg.Hold {
		wait = closeTimeout
	}
	select {
	case <-finished:
	case <-time.After(wait):
		r.mu.Lock()
		for _, c := range r.live {
			c.abort()
		}
		r.mu.Unlock()
		<-finished
	}
	res := r.result(t1.Sub(t0), msgs1-msgs0, bytes1-bytes0)
	return res, nil
}

// hold keeps c open until the run ends. It reads meanwhile, because the
// proxy pings idle connections (CLIENT_PING_INTERVAL) and closes those
// that do not answer: receive answers pings. A connection the peer drops
// during the hold counts as an error of its kind.
func (r *runner) hold(c wsConn) {
	dropped := make(chan error, 1)
	go func() {
		for {
			if _, err := c.receive(); err != nil {
				dropped <- err
				return
			}
		}
	}()
	select {
	case <-r.stopCh:
		c.close() // safe alongside receive; the reader then ends
		<-dropped
	case err := <-dropped:
		r.errs[classifyRelay(err)].Add(1)
		c.abort()
	}
}

// halt stops new sends (and ends holds) once.
func (r *runner) halt() {
	if r.stop.CompareAndSwap(false, true) {
		close(r.stopCh)
	}
}

func (r *runner) report(f func(Progress), done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			f(r.progress())
		}
	}
}

func (r *runner) progress() Progress {
	var errs uint64
	for i := range r.errs {
		errs += r.errs[i].Load()
	}
	return Progress{
		Elapsed: time.Since(r.start), Established: r.established.Load(), Failed: r.failed.Load(),
		Active: r.active.Load(), Msgs: r.msgs.Load(), Bytes: r.bytes.Load(), Errors: errs,
		DialDone: r.dialDone.Load(),
	}
}

// dialAll starts the connections at cfg.Rate with at most cfg.Parallel
// setups in flight.
func (r *runner) dialAll(ctx context.Context) {
	sem := make(chan struct{}, r.cfg.Parallel)
	for i := 0; i < r.cfg.Conns; i++ {
		if r.cfg.Rate > 0 {
			at := r.start.Add(time.Duration(float64(i) / r.cfg.Rate * float64(time.Second)))
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-r.stopCh:
				}
			}
		}
		select {
		case sem <- struct{}{}:
		case <-r.stopCh:
		}
		if r.stop.Load() || ctx.Err() != nil {
			for ; i < r.cfg.Conns; i++ { // never started
				r.dials.Done()
				r.conns.Done()
			}
			return
		}
		go r.conn(ctx, i, sem)
	}
}

// conn is the life of connection i.
func (r *runner) conn(ctx context.Context, i int, sem chan struct{}) {
	defer r.conns.Done()
	begin := time.Now()
	c, err := r.d.dial(ctx, r.cfg.IndexBase+i)
	<-sem
	if err != nil {
		r.errs[classifyDial(err)].Add(1)
		r.failed.Add(1)
		r.dials.Done()
		return
	}
	r.setup.Record(time.Since(begin))
	r.lastSetup.Store(int64(time.Since(r.start)))
	r.established.Add(1)
	r.active.Add(1)
	defer r.active.Add(-1)
	r.mu.Lock()
	r.live[i] = c
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.live, i)
		r.mu.Unlock()
	}()
	if r.cfg.Hold && r.cfg.Messages > 0 {
		// Warm the connection (-m echoes) before it counts as set up, so
		// the ready file means "every connection has carried traffic".
		if err := r.echo(c); err != nil {
			r.errs[classifyRelay(err)].Add(1)
			r.dials.Done()
			c.abort()
			return
		}
	}
	r.dials.Done()

	if r.cfg.Hold {
		r.hold(c)
		return
	}
	if err := r.echo(c); err != nil {
		r.errs[classifyRelay(err)].Add(1)
		c.abort()
		return
	}
	c.close()
}

// seqLen is the ASCII sequence number at the start of every message of at
// least seqLen bytes; the rest is a constant filler.
const seqLen = 16

// echo sends with cfg.Inflight messages outstanding and checks every echo.
func (r *runner) echo(c wsConn) error {
	n := r.cfg.Inflight
	sentAt := make([]time.Time, n)
	msg := bytes.Repeat([]byte{'x'}, r.cfg.Size)
	var want [seqLen]byte
	var sent, recvd int
	canSend := func() bool {
		return !r.stop.Load() && (r.cfg.Messages == 0 || sent < r.cfg.Messages)
	}
	send := func() error {
		putSeq(msg, uint64(sent))
		sentAt[sent%n] = time.Now()
		sent++
		return c.send(msg)
	}
	for sent < n && canSend() {
		if err := send(); err != nil {
			return err
		}
	}
	for recvd < sent {
		p, err := c.receive()
		if err != nil {
			return err
		}
		r.rtt.Record(time.Since(sentAt[recvd%n]))
		if len(p) != len(msg) {
			return ErrMismatch
		}
		if len(p) >= seqLen {
			putSeq(want[:], uint64(recvd))
			if !bytes.Equal(p[:seqLen], want[:]) || !bytes.Equal(p[seqLen:], msg[seqLen:]) {
				return ErrMismatch
			}
		}
		recvd++
		r.msgs.Add(1)
		r.bytes.Add(uint64(len(p)))
		if canSend() {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return nil
}

// putSeq writes seq as 16 hex digits at the start of b (if it fits).
func putSeq(b []byte, seq uint64) {
	if len(b) < seqLen {
		return
	}
	var raw [8]byte
	binary.BigEndian.PutUint64(raw[:], seq)
	hex.Encode(b[:seqLen], raw[:])
}
