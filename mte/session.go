package mte

import (
	crand "crypto/rand"
	"encoding/binary"
	"io"
)

// Session is the MTE state of one paired connection: an encoder for the
// messages this side sends, a decoder for those it receives, and the
// pairing's EEID. The zero value is unpaired. A Session uses fixed arrays
// only; once paired it owns up to two AES-GCM objects (built on first use,
// dropped by Release) and, for windows above 128, one bitmap slice. Seal
// and Open may run concurrently with each other, but each must have a
// single caller at a time; pairing must not overlap either. A Session must
// not be copied after pairing.
type Session struct {
	enc  Encoder
	dec  Decoder
	eeid EEID
	// srvKey names the server key of an authenticated pairing (srvAuth).
	srvKey  ServerKeyID
	srvAuth bool
}

// Encoder returns the session's encoder.
func (s *Session) Encoder() *Encoder { return &s.enc }

// Decoder returns the session's decoder.
func (s *Session) Decoder() *Decoder { return &s.dec }

// EEID returns the pairing identifier (zero before pairing).
func (s *Session) EEID() EEID { return s.eeid }

// ServerKey reports whether the pairing was authenticated (docs/PROTOCOL.md
// §6.1) and, if so, the ID of the server key that answered it. The ID is
// public: it is safe to log.
func (s *Session) ServerKey() (ServerKeyID, bool) { return s.srvKey, s.srvAuth }

// Paired reports whether pairing completed.
func (s *Session) Paired() bool { return s.enc.Paired() }

// Release drops both AES-GCM objects of an idle session (about 1.5 KiB of
// heap); the next Seal and Open rebuild theirs. Keys and sequence numbers
// are kept, so nothing changes on the wire. It reports whether there was
// anything to drop.
func (s *Session) Release() bool {
	had := s.enc.aead != nil || s.dec.aead != nil
	s.enc.Release()
	s.dec.Release()
	return had
}

// Reset forgets all keys and returns s to the unpaired state.
func (s *Session) Reset() { *s = Session{} }

// Seal is s.Encoder().Seal, for callers that hold a Session rather than
// its halves (the test clients in internal/wstest and the client package's
// tests; the engine calls Encoder and Decoder).
func (s *Session) Seal(dst []byte, a Action, t MessageType, plaintext []byte) ([]byte, error) {
	return s.enc.Seal(dst, a, t, plaintext)
}

// Open is s.Decoder().Open, for the same callers as Seal.
func (s *Session) Open(msg []byte) (Header, []byte, error) {
	return s.dec.Open(msg)
}

// serverRandSize is what Respond reads from rand for st, in this order:
// s2c encapsulation seed (32; 64 for X-Wing), s2c nonce (8, little-endian →
// encoderNonce), c2s encapsulation seed, c2s nonce (8 → decoderNonce).
func serverRandSize(st Strength) int { return 2 * (encapsSeedSize(st) + 8) }

const maxServerRand = 2 * (maxEncapsSeedSize + 8)

// Respond is the server side of pairing. It parses the client's pairRequest
// payload (action 2, without header), runs one key exchange per direction
// with randomness from rand, appends the pairResponse payload (action 3,
// without header) to dst and pairs s: its encoder is the s2c direction, its
// decoder the c2s direction with window p.Window(). On error s is left
// unpaired and dst is returned unchanged. Given a dst with room for the
// response and crypto/rand.Reader as rand, it does not allocate (any other
// reader costs one allocation: see readRand and TestRespondAllocs). It uses
// about 20 KiB of stack.
func (s *Session) Respond(p *Profile, pairRequest []byte, rand io.Reader, dst []byte) ([]byte, error) {
	s.Reset()
	st := p.Strength()
	var sc pairScratch // decoded public keys, on the stack
	req, err := parsePairRequest(pairRequest, st, &sc)
	if err != nil {
		return dst, err
	}
	var rnd [maxServerRand]byte
	n := encapsSeedSize(st)
	if err := readRand(rand, rnd[:serverRandSize(st)]); err != nil {
		return dst, err
	}
	encSeed, decSeed := rnd[0:n], rnd[n+8:2*n+8]
	encNonce := binary.LittleEndian.Uint64(rnd[n : n+8])
	decNonce := binary.LittleEndian.Uint64(rnd[2*n+8 : 2*n+16])

	var encSecret, decSecret [maxSecret]byte
	var encShared, decShared [sharedSize]byte
	defer clear(rnd[:])
	defer clear(encShared[:])
	defer clear(decShared[:])
	// Server encoder (s2c): encapsulate to the client's decoder key.
	if err := encapsulate(st, fieldDecPub, req.decPub, encSeed, encSecret[:st.SecretSize()], encShared[:]); err != nil {
		return dst, err
	}
	// Server decoder (c2s): encapsulate to the client's encoder key.
	if err := encapsulate(st, fieldEncPub, req.encPub, decSeed, decSecret[:st.SecretSize()], decShared[:]); err != nil {
		return dst, err
	}
	start := len(dst)
	dst = appendPairResponse(dst, encSecret[:st.SecretSize()], encNonce, decSecret[:st.SecretSize()], decNonce)

	if req.auth && p.ServerAuth() {
		return s.respondAuth(p, pairRequest, &req, dst, start, &authInputs{
			encSecret: encSecret[:st.SecretSize()], decSecret: decSecret[:st.SecretSize()],
			encNonce: encNonce, decNonce: decNonce, encShared: &encShared, decShared: &decShared,
		})
	}
	s.enc.init(chainKey0(p.salt, encShared[:], dirS2C, encNonce, req.decPers))
	s.dec.init(chainKey0(p.salt, decShared[:], dirC2S, decNonce, req.encPers), p.Window())
	s.eeid = computeEEID(dst[start:])
	return dst, nil
}

// readRand fills b from r without letting b escape, so that Respond's
// random bytes stay on its stack. For crypto/rand.Reader it calls
// crypto/rand.Read, which does not retain b; any other reader (tests'
// deterministic ones) reads into a heap copy: one allocation.
func readRand(r io.Reader, b []byte) error {
	if r == crand.Reader {
		_, err := crand.Read(b)
		return err
	}
	tmp := make([]byte, len(b))
	_, err := io.ReadFull(r, tmp)
	copy(b, tmp)
	clear(tmp)
	return err
}

// authInputs are what respondAuth takes over from Respond.
type authInputs struct {
	encSecret, decSecret []byte
	encNonce, decNonce   uint64
	encShared, decShared *[sharedSize]byte
}

// respondAuth finishes an authenticated pairing (docs/PROTOCOL.md §6.1):
// it decapsulates serverSecret with the named server key, appends
// serverConfirm to the pairResponse that starts at dst[start:], and keys
// both directions with IKM = ss_dir || ss_server. On error it returns
// dst[:start].
func (s *Session) respondAuth(p *Profile, pairRequest []byte, req *pairRequest, dst []byte, start int, a *authInputs) ([]byte, error) {
	k := p.serverKey(req.srvKeyID)
	if k == nil {
		return dst[:start], ErrUnknownServerKey
	}
	var ssServer [sharedSize]byte
	defer clear(ssServer[:])
	k.sk.DecapsulateTo(ssServer[:], req.srvSecret) // implicit rejection: never fails (FIPS 203 §6.3)
	clearUpperYMM()
	var confirm [serverConfirmSize]byte
	serverConfirm(&confirm, p.salt, ssServer[:], a.decShared[:], a.encShared[:], pairRequest,
		a.encSecret, a.encNonce, a.decSecret, a.decNonce)
	dst = appendServerConfirm(dst, confirm[:])
	var ikm [2 * sharedSize]byte
	defer clear(ikm[:])
	s.enc.init(chainKey0(p.salt, authIKM(&ikm, a.encShared[:], ssServer[:]), dirS2C, a.encNonce, req.decPers))
	s.dec.init(chainKey0(p.salt, authIKM(&ikm, a.decShared[:], ssServer[:]), dirC2S, a.decNonce, req.encPers), p.Window())
	s.eeid = computeEEID(dst[start:])
	s.srvKey, s.srvAuth = k.ID(), true
	return dst, nil
}

// noCopy makes go vet's copylocks check flag copies of Encoder, Decoder and
// Session: two copies of an encoder would reuse sequence numbers, and so
// AES-GCM nonces.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
