//go:build linux

package gnet

import (
	"context"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// acceptHandler records the engine, opened connections and accept errors.
type acceptHandler struct {
	BuiltinEventEngine
	booted chan Engine
	opened chan struct{}

	mu     sync.Mutex // guards errs
	errs   []error
	errSig chan struct{}
}

func (h *acceptHandler) OnBoot(eng Engine) Action { h.booted <- eng; return None }

func (h *acceptHandler) OnOpen(Conn) ([]byte, Action) {
	h.opened <- struct{}{}
	return nil, None
}

func (h *acceptHandler) acceptFailed(err error, dropped bool) {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	if dropped {
		panic("dropped a connection without a reserve")
	}
	select {
	case h.errSig <- struct{}{}:
	default:
	}
}

func (h *acceptHandler) errCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.errs)
}

// With no reserve descriptor to shed with, EMFILE pauses the acceptor with
// a growing backoff instead of stopping the engine or spinning; accepting
// resumes once descriptors are free, and the engine stops promptly while
// paused.
func TestAcceptPausesOnEMFILEWithoutReserve(t *testing.T) {
	reservePath = "/nonexistent/reserve"
	defer func() { reservePath = "/dev/null" }()

	h := &acceptHandler{booted: make(chan Engine, 1), opened: make(chan struct{}, 4), errSig: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	done := make(chan error, 1)
	go func() {
		done <- Run(h, "tcp://"+addr, WithNumEventLoop(1), WithReuseAddr(true), WithAcceptErrorHandler(h.acceptFailed))
	}()
	var eng Engine
	select {
	case eng = <-h.booted:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("engine did not boot")
	}

	// OnBoot runs before the event-loops exist: wait for a first
	// connection to be opened, so the engine holds all its descriptors.
	warm, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer warm.Close()
	select {
	case <-h.opened:
	case <-time.After(10 * time.Second):
		t.Fatal("first connection not opened")
	}

	// A small soft limit, filled with /dev/null but for one slot: the
	// client's socket takes it and the acceptor gets EMFILE.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	small := lim
	small.Cur = uint64(len(ents) + 32)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &small); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) //nolint:errcheck
	var fillers []int
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		fillers = append(fillers, fd)
	}
	_ = unix.Close(fillers[len(fillers)-1])
	fillers = fillers[:len(fillers)-1]
	freeFillers := func() {
		for _, fd := range fillers {
			_ = unix.Close(fd)
		}
		fillers = nil
	}
	defer freeFillers()

	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	select {
	case <-h.errSig:
	case <-time.After(10 * time.Second):
		t.Fatal("no accept error reported")
	}
	// Backoff 5, 10, 20, 40, 80 ms: a handful of attempts in 150 ms, not a spin.
	time.Sleep(150 * time.Millisecond)
	if n := h.errCount(); n > 8 {
		t.Fatalf("%d accept errors in 150 ms: the acceptor spins", n)
	}
	h.mu.Lock()
	errs := append([]error(nil), h.errs...)
	h.mu.Unlock()
	for _, err := range errs {
		if err != unix.EMFILE {
			t.Fatalf("accept error %v, want EMFILE", err)
		}
	}

	t.Logf("%d accept errors (EMFILE) while paused for 150 ms", len(errs))
	freeFillers()
	select {
	case <-h.opened:
	case <-time.After(5 * time.Second):
		t.Fatal("accepting did not resume once descriptors were free")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := eng.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil after Stop", err)
	}
}
