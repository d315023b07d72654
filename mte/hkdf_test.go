package mte

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestHKDFRFC5869Cases checks hkdfExtract and hkdfExpand against RFC 5869
// Appendix A.1–A.3 (SHA-256 test cases 1, 2 and 3).
func TestHKDFRFC5869Cases(t *testing.T) {
	seq := func(from, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(from + i)
		}
		return b
	}
	tests := []struct {
		name            string
		ikm, salt, info []byte
		prk, okm        string
	}{
		{"A.1", bytes.Repeat([]byte{0x0b}, 22), seq(0x00, 13), seq(0xf0, 10),
			"077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
		{"A.2", seq(0x00, 80), seq(0x60, 80), seq(0xb0, 80),
			"06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
			"b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
		{"A.3", bytes.Repeat([]byte{0x0b}, 22), nil, nil,
			"19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
			"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
	}
	for _, tc := range tests {
		var prk [32]byte
		hkdfExtract(&prk, tc.salt, tc.ikm)
		if hex.EncodeToString(prk[:]) != tc.prk {
			t.Fatalf("%s: PRK %x", tc.name, prk)
		}
		okm := make([]byte, len(tc.okm)/2)
		hkdfExpand(okm, prk[:], string(tc.info))
		if hex.EncodeToString(okm) != tc.okm {
			t.Fatalf("%s: OKM %x", tc.name, okm)
		}
	}
}

// TestHKDFNaiveTwin compares hkdfExtract, hkdfExpand and the split-info
// expand with crypto/hkdf over key, info and output lengths around the
// SHA-256 block and digest sizes (keys above 64 bytes are hashed first).
func TestHKDFNaiveTwin(t *testing.T) {
	r := detReader("hkdf twin")
	lens := []int{0, 1, 13, 31, 32, 33, 55, 56, 63, 64, 65, 100, 128, 129, 300}
	for _, kl := range lens {
		for _, il := range lens {
			key, info := make([]byte, kl), make([]byte, il)
			r.Read(key)
			r.Read(info)
			wantPRK, _ := hkdf.Extract(sha256.New, info, key)
			var prk [32]byte
			hkdfExtract(&prk, key, info)
			if !bytes.Equal(prk[:], wantPRK) {
				t.Fatalf("extract key %d ikm %d", kl, il)
			}
			for _, n := range []int{1, 12, 32, 33, 64, 100} {
				want, _ := hkdf.Expand(sha256.New, key, string(info), n)
				got := make([]byte, n)
				hkdfExpand(got, key, string(info))
				if !bytes.Equal(got, want) {
					t.Fatalf("expand key %d info %d out %d", kl, il, n)
				}
				for _, cut := range []int{0, il / 2, il} {
					var m hmacSHA256
					m.init(key)
					clear(got)
					expand(&m, got, info[:cut], info[cut:]) // []byte second part
					if !bytes.Equal(got, want) {
						t.Fatalf("split expand key %d info %d/%d out %d", kl, cut, il, n)
					}
					clear(got)
					expand(&m, got, info[:cut], string(info[cut:]))
					if !bytes.Equal(got, want) {
						t.Fatalf("split string expand key %d info %d/%d out %d", kl, cut, il, n)
					}
				}
			}
		}
	}
}

// TestKeyScheduleZeroAllocs: CK_0 (with a string or a byte personalization
// longer than the compiler's 32-byte conversion buffer) and the ratchet do
// not allocate.
func TestKeyScheduleZeroAllocs(t *testing.T) {
	salt, secret := []byte(profileLabel), bytes.Repeat([]byte{7}, 32)
	pers := string(bytes.Repeat([]byte{'p'}, 256))
	persB := []byte(pers)
	var ck [keySize]byte
	if n := testing.AllocsPerRun(100, func() { ck = chainKey0(salt, secret, dirS2C, 42, pers) }); n != 0 {
		t.Errorf("chainKey0(string) allocates %v", n)
	}
	if n := testing.AllocsPerRun(100, func() { ck = chainKey0(salt, secret, dirS2C, 42, persB) }); n != 0 {
		t.Errorf("chainKey0([]byte) allocates %v", n)
	}
	if chainKey0(salt, secret, dirS2C, 42, pers) != chainKey0(salt, secret, dirS2C, 42, persB) {
		t.Error("chainKey0 differs between string and []byte personalization")
	}
	if n := testing.AllocsPerRun(100, func() { _ = ratchet(&ck) }); n != 0 {
		t.Errorf("ratchet allocates %v", n)
	}
	var prk [32]byte
	if n := testing.AllocsPerRun(100, func() { hkdfExtract(&prk, salt, secret) }); n != 0 {
		t.Errorf("hkdfExtract allocates %v", n)
	}
}
