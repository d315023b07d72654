package mte

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHKDFRFC5869 checks crypto/hkdf and hkdfExpand against RFC 5869
// Appendix A.1 (Test Case 1).
func TestHKDFRFC5869(t *testing.T) {
	ikm := unhex(t, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b")
	salt := unhex(t, "000102030405060708090a0b0c")
	info := unhex(t, "f0f1f2f3f4f5f6f7f8f9")
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil || hex.EncodeToString(prk) != "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5" {
		t.Fatalf("PRK %x %v", prk, err)
	}
	okm := make([]byte, 42)
	hkdfExpand(okm, prk, string(info))
	if hex.EncodeToString(okm) != "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" {
		t.Fatalf("OKM %x", okm)
	}
	if got := naiveExpand(prk, info, 42); !bytes.Equal(got, okm) {
		t.Fatalf("naive OKM %x", got)
	}
}

// naiveExpand is HKDF-Expand written out from RFC 5869 §2.3 with HMAC.
func naiveExpand(prk, info []byte, n int) []byte {
	var out, prev []byte
	for i := byte(1); len(out) < n; i++ {
		m := hmac.New(sha256.New, prk)
		m.Write(prev)
		m.Write(info)
		m.Write([]byte{i})
		prev = m.Sum(nil)
		out = append(out, prev...)
	}
	return out[:n]
}

func naiveHMAC(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// TestKeyScheduleNaive recomputes CK_0, K_e, IV_e, CK_e+1 with plain HMAC
// from the spec text.
func TestKeyScheduleNaive(t *testing.T) {
	salt := []byte("socketx-mte-v1")
	secret := bytes.Repeat([]byte{0x42}, 32)
	ck := chainKey0(salt, secret, dirC2S, 0x0102030405060708, "pers")
	prk := naiveHMAC(salt, secret)
	info := append([]byte("socketx-mte-v1 c2s\x00"), 8, 7, 6, 5, 4, 3, 2, 1)
	info = append(info, "pers"...)
	want := naiveHMAC(prk, info, []byte{1})
	if !bytes.Equal(ck[:], want) {
		t.Fatalf("CK0 %x want %x", ck, want)
	}
	for e := 0; e < 3; e++ {
		old := ck
		ek := ratchet(&ck)
		if !bytes.Equal(ek.key[:], naiveHMAC(old[:], []byte("key\x01"))) ||
			!bytes.Equal(ek.iv[:], naiveHMAC(old[:], []byte("iv\x01"))[:12]) ||
			!bytes.Equal(ck[:], naiveHMAC(old[:], []byte("chain\x01"))) {
			t.Fatalf("epoch %d mismatch", e)
		}
	}
}

func TestGCMNonce(t *testing.T) {
	iv := [12]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	var n [12]byte
	gcmNonce(&n, &iv, 0x0100000000000001)
	if n != [12]byte{0, 1, 2, 3, 5, 5, 6, 7, 8, 9, 10, 10} {
		t.Fatalf("% x", n)
	}
}
