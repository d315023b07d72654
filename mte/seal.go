package mte

import (
	"crypto/cipher"
	"encoding/binary"
	"math"
)

// Encoder seals the messages of one direction. The zero value is unpaired;
// it is initialized by pairing (Session.Respond, Initiator.Finish).
// Not safe for concurrent use; messages are numbered in the order Seal is
// called, and the peer decoder (strict on clients) expects exactly that
// order on the wire.
type Encoder struct {
	_ noCopy

	aead   cipher.AEAD   // AES-256-GCM with key; nil until first used and after Release
	seq    uint64        // sequence number of the next message
	epoch  uint64        // epoch of key
	paired bool          // keys derived
	iv     [ivSize]byte  // IV_epoch
	nonce  [ivSize]byte  // scratch: must live here, a stack array would escape through cipher.AEAD
	key    [keySize]byte // K_epoch, from which aead is (re)built
	ck     [keySize]byte // CK_{epoch+1}
}

// init sets up the encoder from CK_0. The AES-GCM object is built by the
// first Seal, so a paired connection that stays idle holds only raw keys.
func (e *Encoder) init(ck0 [keySize]byte) {
	*e = Encoder{ck: ck0, paired: true}
	ek := ratchet(&e.ck)
	e.key, e.iv = ek.key, ek.iv
	clear(ek.key[:])
}

// Paired reports whether the encoder has keys.
func (e *Encoder) Paired() bool { return e.paired }

// Release drops the AES-GCM object (≈ 0.8 KiB of heap with its expanded
// key schedule); the next Seal rebuilds it from the epoch key, which costs
// one allocation. The engine calls it for connections that have gone idle.
func (e *Encoder) Release() { e.aead = nil }

// Seq returns the sequence number the next Seal will use.
func (e *Encoder) Seq() uint64 { return e.seq }

// advance moves to the next epoch; Seal builds its AES-GCM object.
func (e *Encoder) advance() {
	ek := ratchet(&e.ck)
	e.aead = nil
	e.key, e.iv = ek.key, ek.iv
	e.epoch++
	clear(ek.key[:])
}

// Seal appends the complete SocketX message for plaintext to dst:
//
//	header(7) || seq (8, big-endian) || AES-256-GCM(K, IV^seq, plaintext, AAD = header || seq)
//
// a must be ActionUpstreamRequest (with TypeHandshake) or ActionProxyData
// (with TypeText or TypeBinary); anything else is ErrBadMessageType. Seal
// does not allocate when cap(dst)-len(dst) ≥ HeaderLen+Overhead+len(plaintext),
// except when it builds its AES-GCM object: on the first message, after
// Release, and once every 65,536 messages when the key ratchets.
//
// The plaintext may already sit where its ciphertext goes, i.e. at
// dst[len(dst)+HeaderLen+8:], to seal in place; any other overlap between
// plaintext and the output is invalid.
func (e *Encoder) Seal(dst []byte, a Action, t MessageType, plaintext []byte) ([]byte, error) {
	if !e.paired {
		return dst, ErrNotPaired
	}
	if !a.encoded() || (Header{Action: a, Type: t}).Validate() != nil {
		return dst, ErrBadMessageType
	}
	seq := e.seq
	if seq == math.MaxUint64 {
		return dst, ErrSeqExhausted
	}
	if seq>>epochBits != e.epoch {
		e.advance()
	}
	if e.aead == nil {
		e.aead = newAEAD(&e.key)
	}
	start := len(dst)
	dst = AppendHeader(dst, a, t)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	aad := dst[start:]
	gcmNonce(&e.nonce, &e.iv, seq)
	dst = e.aead.Seal(dst, e.nonce[:], plaintext, aad)
	e.seq = seq + 1
	return dst, nil
}

// skipTo advances the encoder to sequence number seq (tests and vectors).
func (e *Encoder) skipTo(seq uint64) {
	for seq>>epochBits > e.epoch {
		e.advance()
	}
	e.seq = seq
}
