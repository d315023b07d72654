//go:build go1.26

// The cross-check needs crypto/mlkem/mlkemtest (Go 1.26); the module's
// go directive is lower, so older toolchains build mte without it.

package mte

import (
	"bytes"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"testing"
)

// TestMLKEMAgainstStdlib cross-checks circl ML-KEM-768/1024 with Go's own
// crypto/mlkem (FIPS 140-3 module) for the same seeds.
func TestMLKEMAgainstStdlib(t *testing.T) {
	r := detReader("stdlib cross-check")
	for i := 0; i < 4; i++ {
		seed := make([]byte, 64)
		m := make([]byte, 32)
		r.Read(seed)
		r.Read(m)
		for _, st := range []Strength{768, 1024} {
			k, _ := newKexKey(st, seed)
			var ek []byte
			var wantSS, wantCT []byte
			switch st {
			case 768:
				dk, _ := mlkem.NewDecapsulationKey768(seed)
				ek = dk.EncapsulationKey().Bytes()
				wantSS, wantCT, _ = mlkemtest.Encapsulate768(dk.EncapsulationKey(), m)
			case 1024:
				dk, _ := mlkem.NewDecapsulationKey1024(seed)
				ek = dk.EncapsulationKey().Bytes()
				wantSS, wantCT, _ = mlkemtest.Encapsulate1024(dk.EncapsulationKey(), m)
			}
			if !bytes.Equal(ek, k.pub) {
				t.Fatalf("%v: public keys differ", st)
			}
			ct := make([]byte, st.SecretSize())
			ss := make([]byte, 32)
			if err := encapsulate(st, "k", ek, m, ct, ss); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ct, wantCT) || !bytes.Equal(ss, wantSS) {
				t.Fatalf("%v: encapsulation differs", st)
			}
			got := make([]byte, 32)
			if err := k.decapsulate("s", ct, got); err != nil || !bytes.Equal(got, ss) {
				t.Fatalf("%v: decapsulation differs", st)
			}
		}
	}
}
