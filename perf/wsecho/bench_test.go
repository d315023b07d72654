package wsecho

import (
	"bytes"
	"testing"

	"github.com/socketx/socketx-server/codec"
)

// BenchmarkProcess is the echo's per-read cost for 16 masked 1 KiB frames.
func BenchmarkProcess(b *testing.B) {
	one := maskedFrame(true, codec.OpBinary, string(bytes.Repeat([]byte("q"), 1024)))
	batch := bytes.Repeat(one, 16)
	in := make([]byte, len(batch))
	out := make([]byte, 0, 32<<10)
	st := conn{upgraded: true}
	b.ReportAllocs()
	b.SetBytes(int64(16 * 1024))
	for b.Loop() {
		copy(in, batch)
		if r := st.process(in, out[:0], 1<<20); r.frames != 16 {
			b.Fatal(r.frames)
		}
	}
}
