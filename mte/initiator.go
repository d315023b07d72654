package mte

import (
	"encoding/base64"
	"io"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// Initiator is the client side of pairing, used by the Go SDK and tests. It
// holds two fresh key pairs: the encoder key (c2s direction) and the decoder
// key (s2c direction).
type Initiator struct {
	profile *Profile
	enc     kexKey // client encoder key: decapsulates decoderSecret
	dec     kexKey // client decoder key: decapsulates encoderSecret
	encPers string
	decPers string
	request []byte
	rnd     initiatorRand // NewInitiator's reads; the seeds are cleared once used

	// Server authentication (NewPinnedInitiator): the pin used and
	// ss_server, the shared secret encapsulated to it.
	pinned   bool
	pinID    ServerKeyID
	ssServer [sharedSize]byte
}

// personalizationLen and personalizationAlphabet match the SocketX SDKs.
const (
	personalizationLen      = 64
	personalizationAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// initiatorRand is NewInitiator's room for what it reads from rand, kept in
// the Initiator because rand.Read makes its argument escape (so it is on the
// heap either way). The key seeds are cleared before NewInitiator returns;
// the rest only determines the public personalizations.
type initiatorRand struct {
	seed [2][maxKeySeed]byte
	pers [2 * personalizationLen]byte
	buf  [personalizationLen]byte
}

// NewInitiator generates the client's two key pairs and personalizations
// from rand. It reads, in order: the encoder key seed (64 bytes for ML-KEM:
// d || z; 32 for X25519 and X-Wing), the encoder personalization, the decoder key seed,
// the decoder personalization. Personalizations are 64 characters of
// [A-Za-z0-9], drawn by rejection sampling from rand bytes (a byte b < 248
// gives alphabet[b % 62]).
func NewInitiator(p *Profile, rand io.Reader) (*Initiator, error) {
	in := new(Initiator)
	r := &in.rnd
	defer clear(r.seed[0][:])
	defer clear(r.seed[1][:])
	n := keySeedSize(p.Strength())
	encSeed, decSeed := r.seed[0][:n], r.seed[1][:n]
	encPers := (*[personalizationLen]byte)(r.pers[:personalizationLen])
	decPers := (*[personalizationLen]byte)(r.pers[personalizationLen:])
	if _, err := io.ReadFull(rand, encSeed); err != nil {
		return nil, err
	}
	if err := drawPersonalization(encPers, &r.buf, rand); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand, decSeed); err != nil {
		return nil, err
	}
	if err := drawPersonalization(decPers, &r.buf, rand); err != nil {
		return nil, err
	}
	pers := string(r.pers[:]) // one string for both
	if err := in.init(p, encSeed, pers[:personalizationLen], decSeed, pers[personalizationLen:]); err != nil {
		return nil, err
	}
	return in, nil
}

// NewPinnedInitiator is NewInitiator for a client that authenticates the
// server (docs/PROTOCOL.md §6.1): after NewInitiator's reads it reads the
// 32-byte ML-KEM.Encaps message m, encapsulates to pin and adds
// serverKeyId and serverSecret to the pairRequest. Finish then requires a
// serverConfirm that verifies, and keys both directions with ss_server.
func NewPinnedInitiator(p *Profile, pin ServerPublicKey, rand io.Reader) (*Initiator, error) {
	if pin.pk == nil {
		return nil, detail("mte: server public key is not set", ErrBadServerKey)
	}
	in, err := NewInitiator(p, rand)
	if err != nil {
		return nil, err
	}
	var m [mlkem768.EncapsulationSeedSize]byte
	defer clear(m[:])
	if _, err := io.ReadFull(rand, m[:]); err != nil {
		return nil, err
	}
	in.pin(pin, m[:])
	return in, nil
}

// pin encapsulates to the server key with message m and extends the
// request.
func (in *Initiator) pin(pin ServerPublicKey, m []byte) {
	var ct [ServerSecretSize]byte
	pin.pk.EncapsulateTo(ct[:], in.ssServer[:], m)
	clearUpperYMM()
	in.pinned, in.pinID = true, pin.id
	req := make([]byte, 0, len(in.request)+64+base64.StdEncoding.EncodedLen(ServerSecretSize))
	in.request = appendServerAuth(append(req, in.request...), pin.id, ct[:])
}

// Pinned reports whether the initiator authenticates the server, and
// with which key.
func (in *Initiator) Pinned() (ServerKeyID, bool) { return in.pinID, in.pinned }

// init derives in's key pairs and builds its request.
func (in *Initiator) init(p *Profile, encSeed []byte, encPers string, decSeed []byte, decPers string) error {
	st := p.Strength()
	if len(encSeed) != keySeedSize(st) || len(decSeed) != keySeedSize(st) {
		return ErrKeySize
	}
	if err := checkPersonalization(fieldEncPers, encPers); err != nil {
		return err
	}
	if err := checkPersonalization(fieldDecPers, decPers); err != nil {
		return err
	}
	in.profile, in.encPers, in.decPers = p, encPers, decPers
	if err := in.enc.init(st, encSeed); err != nil {
		return err
	}
	if err := in.dec.init(st, decSeed); err != nil {
		return err
	}
	// Exact size but for personalization quoting, which at most doubles.
	size := len(`{"`+fieldEncPub+`":"","`+fieldEncPers+`":,"`+fieldDecPub+`":"","`+fieldDecPers+`":}`) +
		2*base64.StdEncoding.EncodedLen(len(in.enc.pub)) + 2*(2+len(encPers)) + 2*(2+len(decPers))
	in.request = appendPairRequest(make([]byte, 0, size), in.enc.pub, encPers, in.dec.pub, decPers)
	return nil
}

// drawPersonalization fills out with personalizationAlphabet characters
// drawn by rejection sampling from rand; buf is room for the reads.
func drawPersonalization(out, buf *[personalizationLen]byte, rand io.Reader) error {
	n := 0
	for n < len(out) {
		if _, err := io.ReadFull(rand, buf[:len(out)-n]); err != nil {
			return err
		}
		for _, b := range buf[:len(out)-n] {
			if b < 248 { // 248 = 4·62: unbiased
				out[n] = personalizationAlphabet[b%62]
				n++
			}
		}
	}
	return nil
}

// Request returns the pairRequest payload (action 2, without header). The
// caller must not modify it.
func (in *Initiator) Request() []byte { return in.request }

// Finish completes pairing from the server's pairResponse payload (action 3,
// without header) and pairs s: its encoder is the c2s direction, its decoder
// the s2c direction in strict order (window 0), as in every SocketX client.
// On error s is left unpaired. It does not allocate on success.
func (in *Initiator) Finish(pairResponse []byte, s *Session) error {
	s.Reset()
	st := in.profile.Strength()
	var sc pairScratch // decoded secrets, on the stack
	resp, err := parsePairResponse(pairResponse, st, &sc)
	if err != nil {
		return err
	}
	var encShared, decShared [sharedSize]byte
	defer clear(encShared[:])
	defer clear(decShared[:])
	// Client encoder (c2s): decoderSecret was encapsulated to our encoder key.
	if err := in.enc.decapsulate(fieldDecSec, resp.decSecret, encShared[:]); err != nil {
		return err
	}
	// Client decoder (s2c): encoderSecret was encapsulated to our decoder key.
	if err := in.dec.decapsulate(fieldEncSec, resp.encSecret, decShared[:]); err != nil {
		return err
	}
	salt := in.profile.salt
	if in.pinned || resp.confirm != nil {
		return in.finishAuth(pairResponse, &resp, &encShared, &decShared, s)
	}
	s.enc.init(chainKey0(salt, encShared[:], dirC2S, resp.decNonce, in.encPers))
	s.dec.init(chainKey0(salt, decShared[:], dirS2C, resp.encNonce, in.decPers), 0)
	s.eeid = computeEEID(pairResponse)
	return nil
}

// finishAuth checks serverConfirm (docs/PROTOCOL.md §6.1) and keys both
// directions with IKM = ss_dir || ss_server. encShared is the c2s shared
// secret, decShared the s2c one.
func (in *Initiator) finishAuth(pairResponse []byte, resp *pairResponse, encShared, decShared *[sharedSize]byte, s *Session) error {
	switch {
	case !in.pinned:
		return detail("mte: pairResponse has "+fieldSrvConfirm+" but the pairRequest named no server key", ErrBadPairResponse)
	case resp.confirm == nil:
		return detail("mte: server does not support authentication: pairResponse lacks "+fieldSrvConfirm+
			" (server key "+in.pinID.String()+")", ErrServerAuth, ErrServerAuthUnsupported)
	}
	salt := in.profile.salt
	var want [serverConfirmSize]byte
	defer clear(want[:])
	serverConfirm(&want, salt, in.ssServer[:], encShared[:], decShared[:], in.request,
		resp.encSecret, resp.encNonce, resp.decSecret, resp.decNonce)
	if !confirmEqual(want[:], resp.confirm) {
		return detail("mte: wrong server: serverConfirm does not verify for server key "+in.pinID.String(),
			ErrServerAuth, ErrServerAuthMismatch)
	}
	var ikm [2 * sharedSize]byte
	defer clear(ikm[:])
	s.enc.init(chainKey0(salt, authIKM(&ikm, encShared[:], in.ssServer[:]), dirC2S, resp.decNonce, in.encPers))
	s.dec.init(chainKey0(salt, authIKM(&ikm, decShared[:], in.ssServer[:]), dirS2C, resp.encNonce, in.decPers), 0)
	s.eeid = computeEEID(pairResponse)
	return nil
}
