//go:build !amd64

package mte

// clearUpperYMM is a no-op off amd64 (see avx_amd64.go).
func clearUpperYMM() {}
