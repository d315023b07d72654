package codec

import "testing"

func BenchmarkParseRequest(b *testing.B) {
	head := []byte(browserHead)
	var r Request
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for b.Loop() {
		if _, err := ParseRequest(head, 8192, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckUpgradeAndRespond(b *testing.B) {
	var r Request
	if _, err := ParseRequest([]byte(browserHead), 8192, &r); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckUpgrade(&r); err != nil {
			b.Fatal(err)
		}
		buf = AppendUpgradeResponse(buf[:0], r.SecKey, nil)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	frame := []byte{0x82, 0xfe, 0x04, 0x00, 1, 2, 3, 4}
	var h Header
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(frame, clientLim, &h); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkUnmask(b *testing.B, size int) {
	p := make([]byte, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		Unmask(p, [4]byte{1, 2, 3, 4}, 0)
	}
}

func BenchmarkUnmask64(b *testing.B)  { benchmarkUnmask(b, 64) }
func BenchmarkUnmask1K(b *testing.B)  { benchmarkUnmask(b, 1<<10) }
func BenchmarkUnmask64K(b *testing.B) { benchmarkUnmask(b, 64<<10) }

func BenchmarkPutHeaderBefore(b *testing.B) {
	buf := make([]byte, MaxHeaderLen+1024)
	mask := [4]byte{1, 2, 3, 4}
	b.ReportAllocs()
	for b.Loop() {
		PutHeaderBefore(buf, MaxHeaderLen, true, OpBinary, 1024, &mask)
	}
}

func BenchmarkParseHandshakeResponse(b *testing.B) {
	resp := []byte(good101)
	key := []byte(testKey)
	var r HandshakeResponse
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		if _, err := ParseHandshakeResponse(resp, 4096, key, &r); err != nil {
			b.Fatal(err)
		}
	}
}
