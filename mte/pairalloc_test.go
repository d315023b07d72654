package mte

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

// TestRespondAllocs proves that the server side of pairing does not
// allocate, for every key exchange, with a dst of sufficient capacity (the
// engine reuses one) and crypto/rand.Reader: the keys unpack on the stack
// (see encaps768), X25519 runs on fixed arrays (encapsX25519, and the
// X25519 half of encapsXWing), and the random bytes stay on the stack
// (readRand). Any other reader costs one allocation. Under the race
// detector crypto/rand.Read lets its argument escape, so the random bytes
// cost one allocation more.
func TestRespondAllocs(t *testing.T) {
	var extra float64
	if raceEnabled {
		extra = 1
	}
	key, _ := GenerateServerPrivateKey(detReader("allocs server key"))
	for _, auth := range []bool{false, true} { // server authentication costs no allocation
		for _, st := range allStrengths {
			p := mustProfile(t, Params{Strength: st, Window: 64, ServerKeys: []*ServerPrivateKey{key}})
			in, err := NewInitiator(p, detReader("allocs"))
			if auth {
				in, err = NewPinnedInitiator(p, key.Public(), detReader("allocs"))
			}
			if err != nil {
				t.Fatal(err)
			}
			req := in.Request()
			dst := make([]byte, 0, MaxPairResponse)
			var s Session
			n := testing.AllocsPerRun(50, func() {
				if _, err := s.Respond(p, req, rand.Reader, dst); err != nil {
					t.Fatal(err)
				}
			})
			if n != extra {
				t.Errorf("%v auth=%v: Respond allocates %v times, want %v", st, auth, n, extra)
			}
			r := detReader("allocs reader")
			n = testing.AllocsPerRun(50, func() {
				if _, err := s.Respond(p, req, r, dst); err != nil {
					t.Fatal(err)
				}
			})
			if n != 1+extra {
				t.Errorf("%v auth=%v: Respond with another reader allocates %v times, want %v", st, auth, n, 1+extra)
			}
		}
	}
}

// TestInitiatorAllocs proves the client side's budget for ML-KEM:
// NewInitiator allocates 11 times (the Initiator, one string holding both
// personalizations, the request, and 4 objects per key pair inside circl's
// NewKeyFromSeed) and Finish not at all.
func TestInitiatorAllocs(t *testing.T) {
	for _, st := range []Strength{Strength512, Strength768, Strength1024} {
		p := mustProfile(t, Params{Strength: st})
		crand := make([]byte, 1024)
		detReader("allocs client").Read(crand)
		r := bytes.NewReader(crand)
		var in *Initiator
		n := testing.AllocsPerRun(20, func() {
			r.Reset(crand)
			var err error
			if in, err = NewInitiator(p, r); err != nil {
				t.Fatal(err)
			}
		})
		if n != 11 {
			t.Errorf("%v: NewInitiator allocates %v times, want 11", st, n)
		}
		var ss, cs Session
		resp, err := ss.Respond(p, in.Request(), rand.Reader, nil)
		if err != nil {
			t.Fatal(err)
		}
		n = testing.AllocsPerRun(20, func() {
			if err := in.Finish(resp, &cs); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 || cs.EEID() != ss.EEID() {
			t.Errorf("%v: Finish allocates %v times, want 0 (eeid %v %v)", st, n, cs.EEID(), ss.EEID())
		}
	}
}

// TestParsePairZeroAllocs: parsing a pairRequest or pairResponse into a
// pairScratch allocates nothing, with or without JSON escapes in names and
// values.
func TestParsePairZeroAllocs(t *testing.T) {
	for _, st := range allStrengths {
		p := mustProfile(t, Params{Strength: st})
		in, err := NewInitiator(p, detReader("zero allocs"))
		if err != nil {
			t.Fatal(err)
		}
		var s Session
		resp, err := s.Respond(p, in.Request(), detReader("zero allocs server"), nil)
		if err != nil {
			t.Fatal(err)
		}
		esc := func(b []byte) []byte {
			m := strings.ReplaceAll(string(b), "/", `\/`)
			m = strings.Replace(m, "Key", `K\u0065y`, 1)
			if i := strings.Index(m, "Nonce\":\"") + len("Nonce\":\""); i >= len("Nonce\":\"") {
				m = m[:i] + `\u003` + m[i:] // escape the first digit
			}
			return []byte(strings.ReplaceAll(m, "q", `\u0071`))
		}
		var sc pairScratch
		for _, req := range [][]byte{in.Request(), esc(in.Request())} {
			if n := testing.AllocsPerRun(20, func() {
				if _, err := parsePairRequest(req, st, &sc); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v: parsePairRequest allocates %v times", st, n)
			}
		}
		for _, r := range [][]byte{resp, esc(resp)} {
			if n := testing.AllocsPerRun(20, func() {
				if _, err := parsePairResponse(r, st, &sc); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v: parsePairResponse allocates %v times", st, n)
			}
		}
	}
}
