package mte

import "golang.org/x/sys/cpu"

// circl's AVX2 assembly (its Keccak ×4 and ML-KEM polynomial code, v1.6.3)
// returns with the upper halves of the YMM registers dirty: it never runs
// VZEROUPPER. The legacy-SSE code that follows then pays a penalty on every
// instruction: measured for crypto/sha256's SHA-NI path (AES-NI is encoded
// the same way, not measured). On this project's test machine the eeid
// (SHA-256 of ~3 KB) took 160 µs after an encapsulation instead of 1.7 µs,
// most of Respond's time. clearUpperYMM after each circl call restores it
// (BenchmarkRespond; TestClearUpperYMM runs the path).

//go:noescape
func vzeroupper()

// clearUpperYMM runs VZEROUPPER where the CPU has AVX (circl uses AVX2
// only where it does).
func clearUpperYMM() {
	if cpu.X86.HasAVX {
		vzeroupper()
	}
}
