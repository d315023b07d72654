package mte

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

// FuzzParseServerPrivateKey: one MTE_SERVER_KEYS value or key file
// (docs/PROTOCOL.md §6.1) as ParseServerPrivateKey reads it, a PEM block or
// the base64 of a 64-byte seed. A failure is ErrBadServerKey and its text
// never quotes the input; a key that parses writes a PEM block that parses
// back to the same key, and its pin parses to the same key ID.
func FuzzParseServerPrivateKey(f *testing.F) {
	key, _ := GenerateServerPrivateKey(detReader("fuzz server key"))
	seed := base64.StdEncoding.EncodeToString(key.seed)
	f.Add(key.MarshalPEM())
	f.Add([]byte(seed))
	f.Add([]byte(" \n" + seed + "\r\n"))
	f.Add([]byte(seed[:40] + "\n" + seed[40:]))
	f.Add([]byte(strings.TrimRight(seed, "=")))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key.seed}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: serverKeyPEMType, Bytes: key.seed[:63]}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: serverKeyPEMType, Headers: map[string]string{"a": "b"}, Bytes: key.seed}))
	f.Add(append(key.MarshalPEM(), key.MarshalPEM()...))
	f.Add([]byte("-----BEGIN " + serverKeyPEMType + "-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, text []byte) {
		k, err := ParseServerPrivateKey(text)
		if err != nil {
			if k != nil || !errors.Is(err, ErrBadServerKey) {
				t.Fatalf("%v (key %v)", err, k != nil)
			}
			if s := strings.TrimSpace(string(text)); len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q quotes the input", err)
			}
			return
		}
		again, err := ParseServerPrivateKey(k.MarshalPEM())
		if err != nil || again.ID() != k.ID() || !bytes.Equal(again.MarshalPEM(), k.MarshalPEM()) {
			t.Fatalf("PEM round trip: %v", err)
		}
		pin, err := ParseServerPublicKey(k.Public().String())
		if err != nil || pin.ID() != k.ID() {
			t.Fatalf("pin round trip: %v", err)
		}
	})
}

// FuzzParseServerPublicKey: a client's pin (Go: client.ParseServerKey).
// A failure is ErrBadServerKey; a pin that parses is 1,184 bytes whose
// key ID is the first 8 bytes of their SHA-256 and whose String is the
// input without surrounding space and line breaks.
func FuzzParseServerPublicKey(f *testing.F) {
	key, _ := GenerateServerPrivateKey(detReader("fuzz server key"))
	pin := key.Public().String()
	f.Add(pin)
	f.Add("\t" + pin + "\n")
	f.Add(pin[:76] + "\r\n" + pin[76:])
	f.Add(pin[:len(pin)-4])
	f.Add(strings.NewReplacer("+", "-", "/", "_").Replace(pin))
	// The first coefficient set to 4095 ≥ q: fails the modulus check.
	raw := bytes.Clone(key.Public().Bytes())
	raw[0], raw[1] = 0xff, raw[1]|0x0f
	f.Add(base64.StdEncoding.EncodeToString(raw))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseServerPublicKey(s)
		if err != nil {
			if !errors.Is(err, ErrBadServerKey) || k.pk != nil {
				t.Fatalf("%v", err)
			}
			return
		}
		sum := sha256.Sum256(k.Bytes())
		if len(k.Bytes()) != ServerPublicKeySize || k.ID() != ServerKeyID(sum[:8]) {
			t.Fatalf("%d bytes, id %v", len(k.Bytes()), k.ID())
		}
		if want := strings.NewReplacer("\r", "", "\n", "").Replace(strings.TrimSpace(s)); k.String() != want {
			t.Fatalf("String %q, input %q", k.String(), s)
		}
	})
}

// FuzzFinishPinned: a pinned client's side of pairing under any
// pairResponse, sel choosing the exchange. Errors are ErrBadPairResponse,
// or ErrServerAuth with exactly one of ErrServerAuthUnsupported (no
// serverConfirm) and ErrServerAuthMismatch, closing 1008 "mte: server not
// authenticated"; never a panic. Pairing succeeds only with a
// serverConfirm. The corpus holds, per exchange, the honest proxy's
// response, a keyless proxy's (no serverConfirm) and one with a made-up
// serverConfirm.
func FuzzFinishPinned(f *testing.F) {
	key, _ := GenerateServerPrivateKey(detReader("fuzz server key"))
	for i, st := range allStrengths {
		keyless, _ := NewProfile(Params{Strength: st})
		keyed, _ := NewProfile(Params{Strength: st, ServerKeys: []*ServerPrivateKey{key}})
		in, _ := NewPinnedInitiator(keyless, key.Public(), detReader("fuzz finish"))
		var s Session
		honest, _ := s.Respond(keyed, in.Request(), detReader("fuzz finish server"), nil)
		f.Add(uint8(i), honest)
		stripped, _ := s.Respond(keyless, in.Request(), detReader("fuzz finish server"), nil)
		f.Add(uint8(i), stripped)
		f.Add(uint8(i), withConfirm(stripped))
	}
	f.Add(uint8(1), []byte(`{"encoderSecret":"","encoderNonce":"1","decoderSecret":"","decoderNonce":"1","serverConfirm":"AA=="}`))
	f.Fuzz(func(t *testing.T, sel uint8, resp []byte) {
		st := allStrengths[int(sel)%len(allStrengths)]
		p, _ := NewProfile(Params{Strength: st})
		in, err := NewPinnedInitiator(p, key.Public(), detReader("fuzz finish"))
		if err != nil {
			t.Fatal(err)
		}
		var s Session
		err = in.Finish(resp, &s)
		switch {
		case err == nil:
			if !s.Paired() {
				t.Fatal("Finish succeeded unpaired")
			}
			if pr, err := parsePairResponse(resp, st, new(pairScratch)); err != nil || pr.confirm == nil {
				t.Fatalf("paired without serverConfirm: %v", err)
			}
		case s.Paired():
			t.Fatalf("paired on %v", err)
		case errors.Is(err, ErrServerAuth):
			if errors.Is(err, ErrServerAuthUnsupported) == errors.Is(err, ErrServerAuthMismatch) {
				t.Fatalf("%v: neither or both of unsupported and mismatch", err)
			}
			if code, reason := CloseCode(err); code != ClosePolicyViolated || reason != "mte: server not authenticated" {
				t.Fatalf("%v: close %d %q", err, code, reason)
			}
		case !errors.Is(err, ErrBadPairResponse):
			t.Fatalf("unexpected %v", err)
		}
	})
}

// withConfirm returns a copy of the pairResponse object resp with a
// serverConfirm of zero bytes added.
func withConfirm(resp []byte) []byte {
	out := append(bytes.Clone(resp[:len(resp)-1]), `,"serverConfirm":"`...)
	out = base64.StdEncoding.AppendEncode(out, make([]byte, serverConfirmSize))
	return append(out, `"}`...)
}
