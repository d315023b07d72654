package mte

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

var acvpStrength = map[string]Strength{"ML-KEM-512": 512, "ML-KEM-768": 768, "ML-KEM-1024": 1024}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestMLKEMACVP checks circl's ML-KEM (as used here) against NIST ACVP
// FIPS 203 vectors; see testdata/README.md for the source.
func TestMLKEMACVP(t *testing.T) {
	raw, err := os.ReadFile("testdata/mlkem-acvp.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		KeyGen []struct {
			ParameterSet, D, Z, EkSha256, DkSha256 string
			TcID                                   int
		}
		Encapsulation []struct {
			ParameterSet, Ek, M, CSha256, K string
			TcID                            int
		}
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.KeyGen) != 3 || len(f.Encapsulation) != 3 {
		t.Fatalf("%d keyGen, %d encapsulation cases", len(f.KeyGen), len(f.Encapsulation))
	}
	for _, c := range f.KeyGen {
		st := acvpStrength[c.ParameterSet]
		seed := append(unhex(t, c.D), unhex(t, c.Z)...)
		var ek, dk []byte
		switch st {
		case 512:
			pk, sk := mlkem512.NewKeyFromSeed(seed)
			ek, dk = make([]byte, mlkem512.PublicKeySize), make([]byte, mlkem512.PrivateKeySize)
			pk.Pack(ek)
			sk.Pack(dk)
		case 768:
			pk, sk := mlkem768.NewKeyFromSeed(seed)
			ek, dk = make([]byte, mlkem768.PublicKeySize), make([]byte, mlkem768.PrivateKeySize)
			pk.Pack(ek)
			sk.Pack(dk)
		case 1024:
			pk, sk := mlkem1024.NewKeyFromSeed(seed)
			ek, dk = make([]byte, mlkem1024.PublicKeySize), make([]byte, mlkem1024.PrivateKeySize)
			pk.Pack(ek)
			sk.Pack(dk)
		}
		if sha256hex(ek) != c.EkSha256 || sha256hex(dk) != c.DkSha256 {
			t.Errorf("keyGen tcId %d (%s): mismatch", c.TcID, c.ParameterSet)
		}
		// The same key through this package's client path.
		k, _ := newKexKey(st, seed)
		if !bytes.Equal(k.pub, ek) {
			t.Errorf("keyGen tcId %d: newKexKey differs", c.TcID)
		}
	}
	for _, c := range f.Encapsulation {
		st := acvpStrength[c.ParameterSet]
		ct := make([]byte, st.SecretSize())
		ss := make([]byte, sharedSize)
		if err := encapsulate(st, "ek", unhex(t, c.Ek), unhex(t, c.M), ct, ss); err != nil {
			t.Fatal(err)
		}
		if sha256hex(ct) != c.CSha256 || hex.EncodeToString(ss) != c.K {
			t.Errorf("encapsulation tcId %d (%s): mismatch", c.TcID, c.ParameterSet)
		}
	}
}
