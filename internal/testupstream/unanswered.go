package testupstream

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// UnansweredAddr returns the address of a 127.0.0.1 listener with backlog 0
// that never accepts, its accept queue filled so that the kernel drops
// further SYNs: a dial to it neither succeeds nor fails until it times out.
func UnansweredAddr(tb testing.TB) string {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		tb.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	for i := 0; ; i++ {
		if i == 16 {
			tb.Fatal("accept queue never filled")
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return addr
			}
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = c.Close() })
	}
}
