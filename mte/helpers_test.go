package mte

import (
	"crypto/sha3"
	"io"
	"testing"
)

// detReader is a deterministic random source: SHAKE256(label).
func detReader(label string) io.Reader {
	h := sha3.NewSHAKE256()
	h.Write([]byte(label))
	return h
}

var allStrengths = []Strength{StrengthClassical, Strength512, Strength768, Strength1024, StrengthXWing}

func mustProfile(t testing.TB, p Params) *Profile {
	t.Helper()
	pr, err := NewProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// pair runs a full pairing and returns the client and server sessions.
func pair(t testing.TB, server, client *Profile, label string) (cs, ss *Session) {
	t.Helper()
	in, err := NewInitiator(client, detReader("client "+label))
	if err != nil {
		t.Fatal(err)
	}
	ss = new(Session)
	resp, err := ss.Respond(server, in.Request(), detReader("server "+label), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs = new(Session)
	if err := in.Finish(resp, cs); err != nil {
		t.Fatal(err)
	}
	return cs, ss
}

// seal is Seal that fails the test on error.
func seal(t testing.TB, e interface {
	Seal([]byte, Action, MessageType, []byte) ([]byte, error)
}, a Action, ty MessageType, pt []byte) []byte {
	t.Helper()
	m, err := e.Seal(nil, a, ty, pt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newKexKey is a fresh kexKey initialized from seed.
func newKexKey(st Strength, seed []byte) (*kexKey, error) {
	k := new(kexKey)
	if err := k.init(st, seed); err != nil {
		return nil, err
	}
	return k, nil
}

// randomPersonalization draws one personalization from rand as
// NewInitiator does.
func randomPersonalization(rand io.Reader) (string, error) {
	var out, buf [personalizationLen]byte
	if err := drawPersonalization(&out, &buf, rand); err != nil {
		return "", err
	}
	return string(out[:]), nil
}

// newInitiator builds an Initiator from explicit material (vectors).
func newInitiator(p *Profile, encSeed []byte, encPers string, decSeed []byte, decPers string) (*Initiator, error) {
	in := new(Initiator)
	if err := in.init(p, encSeed, encPers, decSeed, decPers); err != nil {
		return nil, err
	}
	return in, nil
}
