//go:build unix && !linux

package upstream

import "syscall"

// socketpair returns a connected AF_UNIX stream pair, close-on-exec. Without
// SOCK_CLOEXEC the fork lock keeps a concurrent exec from inheriting it.
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}

func closeFD(fd int) { _ = syscall.Close(fd) }
