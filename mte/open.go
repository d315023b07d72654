package mte

import (
	"crypto/cipher"
	"encoding/binary"
	"strconv"
)

// Decoder authenticates and decodes the messages of one direction. The zero
// value is unpaired. Not safe for concurrent use.
//
// It keeps the current epoch's key and builds its AES-GCM object on first
// use (and again after Release). When its window is non-zero it also keeps
// the previous epoch's key and IV so that a late message from just before a
// key boundary still opens (that rare path builds a temporary cipher and
// allocates).
type Decoder struct {
	_ noCopy

	aead    cipher.AEAD // AES-256-GCM with key; nil until first used and after Release
	epoch   uint64
	win     window
	paired  bool          // keys derived
	iv      [ivSize]byte  // IV_epoch
	nonce   [ivSize]byte  // scratch: lives here so it does not escape per call
	prevIV  [ivSize]byte  // IV_{epoch-1}, valid when hasPrev
	hasPrev bool          // window > 0 and epoch > 0
	ck      [keySize]byte // CK_{epoch+1}
	key     [keySize]byte // K_epoch
	prevKey [keySize]byte // K_{epoch-1}, valid when hasPrev
}

// init sets up the decoder from CK_0 with the given window (0 = strict).
func (d *Decoder) init(ck0 [keySize]byte, win int) {
	*d = Decoder{ck: ck0, paired: true}
	d.win.init(win)
	ek := ratchet(&d.ck)
	d.key, d.iv = ek.key, ek.iv
	clear(ek.key[:])
}

// Paired reports whether the decoder has keys.
func (d *Decoder) Paired() bool { return d.paired }

// Release drops the AES-GCM object; the next Open rebuilds it (one
// allocation). See Encoder.Release.
func (d *Decoder) Release() { d.aead = nil }

// Next returns the lowest sequence number above every accepted one.
func (d *Decoder) Next() uint64 { return d.win.next }

// Open authenticates and decrypts a complete SocketX message in place and
// returns its header and plaintext. The plaintext aliases msg and is valid
// as long as msg is. Only actions 4 and 6 carry encoded payloads; other
// actions are ErrBadMessageType.
//
// The decoder's state changes only when the message authenticates. On an
// authentication failure msg's ciphertext bytes are overwritten (cleared).
// Open does not allocate except when it builds its AES-GCM object (first
// message, after Release), when a message opens a new key epoch, or when one
// arrives late from the previous one.
func (d *Decoder) Open(msg []byte) (Header, []byte, error) {
	h, payload, err := ParseHeader(msg)
	if err != nil {
		return Header{}, nil, err
	}
	if !h.Action.encoded() || h.Validate() != nil {
		return h, nil, ErrBadMessageType
	}
	if !d.paired {
		return h, nil, ErrNotPaired
	}
	if len(payload) < Overhead {
		return h, nil, ErrShortMessage
	}
	seq := binary.BigEndian.Uint64(payload)
	if err := d.win.check(seq); err != nil {
		return h, nil, err
	}
	aad := msg[:HeaderLen+seqSize]
	body := msg[HeaderLen+seqSize:]
	epoch := seq >> epochBits
	var pt []byte
	switch {
	case epoch == d.epoch:
		if d.aead == nil {
			d.aead = newAEAD(&d.key)
		}
		gcmNonce(&d.nonce, &d.iv, seq)
		pt, err = d.aead.Open(body[:0], d.nonce[:], body, aad)
	case epoch+1 == d.epoch && d.hasPrev:
		// Late message from the previous epoch (window mode only).
		gcmNonce(&d.nonce, &d.prevIV, seq)
		pt, err = newAEAD(&d.prevKey).Open(body[:0], d.nonce[:], body, aad)
	case epoch == d.epoch+1:
		// First message of the next epoch: derive into temporaries and
		// commit only if it authenticates.
		ck := d.ck
		ek := ratchet(&ck)
		a := newAEAD(&ek.key)
		gcmNonce(&d.nonce, &ek.iv, seq)
		pt, err = a.Open(body[:0], d.nonce[:], body, aad)
		if err == nil {
			if d.win.size > 0 {
				d.prevKey, d.prevIV, d.hasPrev = d.key, d.iv, true
			}
			d.aead, d.key, d.iv, d.ck = a, ek.key, ek.iv, ck
			d.epoch++
		}
		clear(ek.key[:])
		clear(ck[:])
	default:
		// Unreachable given the window bounds (W < 65,536); kept as a
		// guard so no path opens with a wrong key.
		return h, nil, ErrOutsideWindow
	}
	if err != nil {
		return h, nil, ErrAuth
	}
	d.win.accept(seq)
	return h, pt, nil
}

// OpenUpstreamRequest is Open for the client's upstream connection request
// (action 4), which is the first encoded message of the c2s direction and
// so must carry sequence number 0 (docs/PROTOCOL.md §3), whatever the
// window. An action 4 with another sequence number is refused before
// decryption with an error wrapping ErrFirstSeq ("mte: action 4 is
// sequence 5, want 0"); the decoder does not change. Any other message is
// passed to Open as it is.
func (d *Decoder) OpenUpstreamRequest(msg []byte) (Header, []byte, error) {
	h, payload, err := ParseHeader(msg)
	if err == nil && h.Action == ActionUpstreamRequest && len(payload) >= seqSize {
		if seq := binary.BigEndian.Uint64(payload); seq != 0 {
			return h, nil, detail("mte: action 4 is sequence "+strconv.FormatUint(seq, 10)+", want 0", ErrFirstSeq)
		}
	}
	return d.Open(msg)
}
