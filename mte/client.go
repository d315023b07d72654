package mte

import (
	"io"
)

// Initiator is the client side of pairing, used by the Go SDK and tests. It
// holds two fresh key pairs: the encoder key (c2s direction) and the decoder
// key (s2c direction).
type Initiator struct {
	profile *Profile
	enc     *kexKey // client encoder key: decapsulates decoderSecret
	dec     *kexKey // client decoder key: decapsulates encoderSecret
	encPers string
	decPers string
	request []byte
}

// personalizationLen and personalizationAlphabet match the SocketX SDKs.
const (
	personalizationLen      = 64
	personalizationAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// NewInitiator generates the client's two key pairs and personalizations
// from rand. It reads, in order: the encoder key seed (64 bytes for ML-KEM:
// d || z; 32 for X25519), the encoder personalization, the decoder key seed,
// the decoder personalization. Personalizations are 64 characters of
// [A-Za-z0-9], drawn by rejection sampling from rand bytes (a byte b < 248
// gives alphabet[b % 62]).
func NewInitiator(p *Profile, rand io.Reader) (*Initiator, error) {
	st := p.Strength()
	seed := make([]byte, keySeedSize(st))
	defer clear(seed)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, err
	}
	encPers, err := randomPersonalization(rand)
	if err != nil {
		return nil, err
	}
	encSeed := append([]byte(nil), seed...)
	defer clear(encSeed)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, err
	}
	decPers, err := randomPersonalization(rand)
	if err != nil {
		return nil, err
	}
	return newInitiator(p, encSeed, encPers, seed, decPers)
}

// newInitiator builds an Initiator from explicit material (vectors).
func newInitiator(p *Profile, encSeed []byte, encPers string, decSeed []byte, decPers string) (*Initiator, error) {
	st := p.Strength()
	if len(encSeed) != keySeedSize(st) || len(decSeed) != keySeedSize(st) {
		return nil, ErrKeySize
	}
	if err := checkPersonalization(fieldEncPers, encPers); err != nil {
		return nil, err
	}
	if err := checkPersonalization(fieldDecPers, decPers); err != nil {
		return nil, err
	}
	enc, err := newKexKey(st, encSeed)
	if err != nil {
		return nil, err
	}
	dec, err := newKexKey(st, decSeed)
	if err != nil {
		return nil, err
	}
	in := &Initiator{profile: p, enc: enc, dec: dec, encPers: encPers, decPers: decPers}
	in.request = appendPairRequest(nil, enc.pub, encPers, dec.pub, decPers)
	return in, nil
}

func randomPersonalization(rand io.Reader) (string, error) {
	var out [personalizationLen]byte
	var buf [personalizationLen]byte
	n := 0
	for n < len(out) {
		if _, err := io.ReadFull(rand, buf[:len(out)-n]); err != nil {
			return "", err
		}
		for _, b := range buf[:len(out)-n] {
			if b < 248 { // 248 = 4·62: unbiased
				out[n] = personalizationAlphabet[b%62]
				n++
			}
		}
	}
	return string(out[:]), nil
}

// Request returns the pairRequest payload (action 2, without header). The
// caller must not modify it.
func (in *Initiator) Request() []byte { return in.request }

// Finish completes pairing from the server's pairResponse payload (action 3,
// without header) and pairs s: its encoder is the c2s direction, its decoder
// the s2c direction in strict order (window 0), as in every SocketX client.
// On error s is left unpaired.
func (in *Initiator) Finish(pairResponse []byte, s *Session) error {
	s.Reset()
	st := in.profile.Strength()
	resp, err := parsePairResponse(pairResponse, st)
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
	s.enc.init(chainKey0(salt, encShared[:], dirC2S, resp.decNonce, in.encPers))
	s.dec.init(chainKey0(salt, decShared[:], dirS2C, resp.encNonce, in.decPers), 0)
	s.eeid = computeEEID(pairResponse)
	return nil
}
