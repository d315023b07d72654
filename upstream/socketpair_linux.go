//go:build linux

package upstream

import "syscall"

// socketpair returns a connected AF_UNIX stream pair, close-on-exec.
func socketpair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}

func closeFD(fd int) { _ = syscall.Close(fd) }
