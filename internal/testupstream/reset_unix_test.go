//go:build unix

package testupstream

import "syscall"

func syscallECONNRESET() error { return syscall.ECONNRESET }
