package mte

import (
	"bufio"
	"bytes"
	"crypto/sha3"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/cloudflare/circl/kem/xwing"
)

// xwingDraftVector is one test vector of draft-connolly-cfrg-xwing-kem-10
// Appendix C (testdata/xwing-draft10.txt, see testdata/README.md).
type xwingDraftVector struct {
	seed, sk, pk, eseed, ct, ss []byte
}

// readXWingDraftVectors parses the draft's text format: "name     hex" on
// one line, or "name" followed by lines of hex indented by two spaces.
func readXWingDraftVectors(t *testing.T) []xwingDraftVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/xwing-draft10.txt")
	if err != nil {
		t.Fatal(err)
	}
	// circl v1.6.3 kem/xwing/xwing_test.go pins the SHAKE-128 of the
	// draft's spec/test-vectors.txt: this file is that file, byte for byte.
	if got := hex.EncodeToString(shake128Sum32(raw)); got != "1bcd0057d861d6b866239936cadcaeee1ec0164dedc181c386e9e54fe46156fe" {
		t.Fatalf("testdata/xwing-draft10.txt SHAKE-128 %s: not the draft's vectors", got)
	}
	var out []xwingDraftVector
	fields := map[string][]byte{}
	var cur string
	flush := func() {
		if len(fields) == 0 {
			return
		}
		out = append(out, xwingDraftVector{fields["seed"], fields["sk"], fields["pk"], fields["eseed"], fields["ct"], fields["ss"]})
		fields = map[string][]byte{}
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "  "):
			fields[cur] = append(fields[cur], unhex(t, strings.TrimSpace(line))...)
		default:
			name, val, _ := strings.Cut(line, " ")
			cur = name
			fields[name] = unhex(t, strings.TrimSpace(val))
		}
	}
	flush()
	if len(out) != 3 {
		t.Fatalf("%d vectors", len(out))
	}
	return out
}

func shake128Sum32(b []byte) []byte {
	h := sha3.NewSHAKE128()
	h.Write(b)
	out := make([]byte, 32)
	h.Read(out)
	return out
}

// TestXWingDraftVectors checks the X-Wing exchange of this package (the
// client's key derivation through circl, the server's encapsXWing, the
// client's decapsulation) against the draft's official vectors.
func TestXWingDraftVectors(t *testing.T) {
	for i, v := range readXWingDraftVectors(t) {
		if len(v.seed) != xwingKeySeed || len(v.pk) != 1216 || len(v.eseed) != xwingEncapsSeed || len(v.ct) != 1120 || len(v.ss) != sharedSize {
			t.Fatalf("vector %d: sizes", i)
		}
		k, err := newKexKey(StrengthXWing, v.seed)
		if err != nil || !bytes.Equal(k.pub, v.pk) {
			t.Fatalf("vector %d: public key differs (%v)", i, err)
		}
		ct, ss := make([]byte, 1120), make([]byte, sharedSize)
		if err := encapsulate(StrengthXWing, fieldEncPub, v.pk, v.eseed, ct, ss); err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if !bytes.Equal(ct, v.ct) || !bytes.Equal(ss, v.ss) {
			t.Fatalf("vector %d: encapsulation differs", i)
		}
		clear(ss)
		if err := k.decapsulate(fieldDecSec, v.ct, ss); err != nil || !bytes.Equal(ss, v.ss) {
			t.Fatalf("vector %d: decapsulation differs (%v)", i, err)
		}
	}
}

// TestXWingAgainstCircl compares encapsXWing with circl's packaged
// EncapsulateTo (its naive twin) over random keys and seeds, including
// public keys whose X25519 half is arbitrary bytes or a low-order point,
// which X-Wing does not refuse.
func TestXWingAgainstCircl(t *testing.T) {
	r := detReader("xwing twin")
	lowOrder := [][]byte{make([]byte, 32), append([]byte{1}, make([]byte, 31)...)}
	for i := range 64 {
		seed := make([]byte, xwingKeySeed)
		r.Read(seed)
		_, pub := xwing.DeriveKeyPairPacked(seed)
		switch {
		case i%4 == 1:
			r.Read(pub[xwingPKM:])
		case i%4 == 2:
			copy(pub[xwingPKM:], lowOrder[i/4%2])
		}
		eseed := make([]byte, xwingEncapsSeed)
		r.Read(eseed)
		var pk xwing.PublicKey
		if err := pk.Unpack(pub); err != nil {
			t.Fatal(err)
		}
		wantCT, wantSS := make([]byte, 1120), make([]byte, 32)
		pk.EncapsulateTo(wantCT, wantSS, eseed)
		ct, ss := make([]byte, 1120), make([]byte, 32)
		if err := encapsulate(StrengthXWing, fieldEncPub, pub, eseed, ct, ss); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ct, wantCT) || !bytes.Equal(ss, wantSS) {
			t.Fatalf("case %d: differs from circl", i)
		}
	}
}

// TestXWingModulusCheck: an X-Wing key whose ML-KEM half fails the FIPS 203
// §7.2 check is refused with the modulus error, never a panic.
func TestXWingModulusCheck(t *testing.T) {
	_, pub := xwing.DeriveKeyPairPacked(make([]byte, 32))
	pub[0], pub[1] = 0xff, 0xff // first coefficient 4095 ≥ q
	err := encapsulate(StrengthXWing, fieldEncPub, pub, make([]byte, 64), make([]byte, 1120), make([]byte, 32))
	if err == nil || err.Error() != "mte: encoderPublicKey is not a valid X-Wing key (FIPS 203 modulus check)" {
		t.Fatal(err)
	}
}

// TestXWingMismatch: each side recognises the other's exchange by size
// alone, and the error names both sizes.
func TestXWingMismatch(t *testing.T) {
	xw := mustProfile(t, Params{Strength: StrengthXWing})
	ml := mustProfile(t, Params{Strength: Strength768})
	for _, tc := range []struct {
		client, server *Profile
		want           string
	}{
		{xw, ml, "mte: encoderPublicKey is 1216 bytes, want 1184 for ML-KEM-768"},
		{ml, xw, "mte: encoderPublicKey is 1184 bytes, want 1216 for X-Wing"},
	} {
		in, err := NewInitiator(tc.client, detReader("mismatch"))
		if err != nil {
			t.Fatal(err)
		}
		var s Session
		_, err = s.Respond(tc.server, in.Request(), detReader("mismatch server"), nil)
		if code, reason := CloseCode(err); code != 1002 || reason != tc.want {
			t.Errorf("%v → %v: %d %q", tc.client.Strength(), tc.server.Strength(), code, reason)
		}
	}
}

// BenchmarkXWingCirclEncapsulate is circl's packaged X-Wing encapsulation
// (PublicKey.Unpack, which allocates the ML-KEM key, then EncapsulateTo),
// for comparison with BenchmarkEncapsulate/xwing.
func BenchmarkXWingCirclEncapsulate(b *testing.B) {
	_, pub := xwing.DeriveKeyPairPacked(make([]byte, 32))
	eseed, ct, ss := make([]byte, 64), make([]byte, 1120), make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		var pk xwing.PublicKey
		if err := pk.Unpack(pub); err != nil {
			b.Fatal(err)
		}
		pk.EncapsulateTo(ct, ss, eseed)
	}
}

// TestClearUpperYMM runs VZEROUPPER (where the CPU has AVX) between
// circl's AVX2 code and SHA-256, as encapsulate does; the effect is a
// speed one, shown by BenchmarkEEIDAfterEncapsulate.
func TestClearUpperYMM(t *testing.T) {
	k, err := newKexKey(Strength768, make([]byte, mlkemKeySeed))
	if err != nil {
		t.Fatal(err)
	}
	ct, ss := make([]byte, 1088), make([]byte, 32)
	if err := encapsulate(Strength768, fieldEncPub, k.pub, make([]byte, 32), ct, ss); err != nil {
		t.Fatal(err)
	}
	clearUpperYMM()
	if computeEEID(ct) != computeEEID(bytes.Clone(ct)) {
		t.Fatal("eeid")
	}
}

// BenchmarkEEIDAfterEncapsulate is one ML-KEM-768 encapsulation followed
// by the eeid of a 3 KB pairResponse, the order Respond runs them in;
// /raw calls circl's K-PKE directly, without clearUpperYMM.
func BenchmarkEEIDAfterEncapsulate(b *testing.B) {
	k, _ := newKexKey(Strength768, make([]byte, mlkemKeySeed))
	m, ct, ss, resp := make([]byte, 32), make([]byte, 1088), make([]byte, 32), make([]byte, 3018)
	b.Run("encapsulate", func(b *testing.B) {
		for b.Loop() {
			_ = encapsulate(Strength768, fieldEncPub, k.pub, m, ct, ss)
			computeEEID(resp)
		}
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			encaps768(k.pub, m, ct, ss)
			computeEEID(resp)
		}
	})
}
