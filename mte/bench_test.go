package mte

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
)

// BenchmarkRespond is the server side of one pairing, unauthenticated and
// (the "+auth" cases) authenticated with a server key: the extra cost is
// one ML-KEM-768 decapsulation and the serverConfirm HMACs.
func BenchmarkRespond(b *testing.B) {
	key, _ := GenerateServerPrivateKey(detReader("bench server key"))
	for _, auth := range []bool{false, true} {
		for _, st := range allStrengths {
			name := st.KeyExchange()
			if auth {
				name += "+auth"
			}
			b.Run(name, func(b *testing.B) { benchRespond(b, st, key, auth) })
		}
	}
}

func benchRespond(b *testing.B, st Strength, key *ServerPrivateKey, auth bool) {
	p := mustProfile(b, Params{Strength: st, Window: 64, ServerKeys: []*ServerPrivateKey{key}})
	in, err := NewInitiator(p, rand.Reader)
	if auth {
		in, err = NewPinnedInitiator(p, key.Public(), rand.Reader)
	}
	if err != nil {
		b.Fatal(err)
	}
	req := in.Request()
	var s Session
	buf := make([]byte, 0, MaxPairResponse) // as the engine's reused scratch: 1024's response is 4.3 KB
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Respond(p, req, rand.Reader, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInitiator is the full client side of one pairing: key
// generation (NewInitiator), request building (Request) and response
// handling (Finish). The client's random stream is replayed each iteration,
// so one pairResponse computed up front answers every request.
func BenchmarkInitiator(b *testing.B) {
	for _, st := range allStrengths {
		b.Run(st.KeyExchange(), func(b *testing.B) {
			p := mustProfile(b, Params{Strength: st, Window: 64})
			crand := make([]byte, 1024) // seeds + personalization draws, with room to spare
			detReader("bench client").Read(crand)
			r := bytes.NewReader(crand)
			in, err := NewInitiator(p, r)
			if err != nil {
				b.Fatal(err)
			}
			var ss, cs Session
			resp, err := ss.Respond(p, in.Request(), rand.Reader, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(crand)
				in, err := NewInitiator(p, r)
				if err != nil {
					b.Fatal(err)
				}
				if len(in.Request()) == 0 {
					b.Fatal("empty request")
				}
				if err := in.Finish(resp, &cs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchSizes = []int{64, 1024, 16384, 65536}

func BenchmarkSeal(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e, _ := newTestPair(0)
			pt := make([]byte, n)
			buf := make([]byte, 0, HeaderLen+Overhead+n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Seal(buf[:0], ActionProxyData, TypeBinary, pt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen opens the same message repeatedly: each iteration restores
// the ciphertext (Open decrypts in place) and rewinds the window, so it
// includes one memmove of the message.
func BenchmarkOpen(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e, d := newTestPair(0)
			msg := seal(b, e, ActionProxyData, TypeBinary, make([]byte, n))
			work := make([]byte, len(msg))
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(work, msg)
				d.win.next = 0
				if _, _, err := d.Open(work); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSealOpen1KiB is the per-message crypto cost of one relayed 1 KiB
// message: seal on one side, open on the other.
func BenchmarkSealOpen1KiB(b *testing.B) {
	e, d := newTestPair(0)
	pt := make([]byte, 1024)
	buf := make([]byte, 0, HeaderLen+Overhead+1024)
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if e.seq>>epochBits != (e.seq+1)>>epochBits {
			e.seq, d.win.next = 0, 0 // stay in epoch 0: measure steady state
		}
		m, err := e.Seal(buf[:0], ActionProxyData, TypeBinary, pt)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := d.Open(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncapsulate is the server's key exchange for one direction
// (circl's Unpack + EncapsulateTo for ML-KEM, circl's dh/x25519 for X25519, both
// halves and the SHA3-256 combiner for X-Wing): the
// floor under Respond, which runs it twice.
func BenchmarkEncapsulate(b *testing.B) {
	for _, st := range allStrengths {
		b.Run(st.KeyExchange(), func(b *testing.B) {
			seed := make([]byte, keySeedSize(st))
			detReader("bench encapsulate").Read(seed)
			k, err := newKexKey(st, seed)
			if err != nil {
				b.Fatal(err)
			}
			m := make([]byte, encapsSeedSize(st))
			secret := make([]byte, st.SecretSize())
			shared := make([]byte, sharedSize)
			b.ReportAllocs()
			for b.Loop() {
				if err := encapsulate(st, fieldEncPub, k.pub, m, secret, shared); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
