package mte

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
)

// Key schedule (docs/PROTOCOL.md §Key schedule), HKDF-SHA256 per RFC 5869:
//
//	PRK  = HKDF-Extract(salt, shared secret)
//	CK_0 = HKDF-Expand(PRK, "socketx-mte-v1 " || dir || 0x00 || nonce LE64 || personalization, 32)
//	K_e  = HKDF-Expand(CK_e, "key", 32)
//	IV_e = HKDF-Expand(CK_e, "iv", 12)
//	CK_e+1 = HKDF-Expand(CK_e, "chain", 32), after which CK_e is erased.
//
// The epoch of message seq is seq >> epochBits (65,536 messages per key).

// Direction labels.
const (
	dirC2S = "c2s" // client→server: client encoder, server decoder
	dirS2C = "s2c" // server→client: server encoder, client decoder
)

const (
	epochBits = 16
	keySize   = 32 // AES-256 key, chain key
	ivSize    = 12 // GCM nonce
	tagSize   = 16
	seqSize   = 8
)

// Overhead is the number of bytes an encoded payload adds to the plaintext
// after the 7-byte header: the 8-byte sequence number and the 16-byte tag.
const Overhead = seqSize + tagSize

// hkdfExpand is HKDF-Expand-SHA256 (RFC 5869 §2.3) into out.
func hkdfExpand(out, prk []byte, info string) {
	k, err := hkdf.Expand(sha256.New, prk, info, len(out))
	if err != nil { // only for len(out) > 255*32, never here
		panic("mte: hkdf: " + err.Error())
	}
	copy(out, k)
	clear(k)
}

// chainKey0 derives CK_0 of one direction from the shared secret.
func chainKey0(salt, secret []byte, dir string, nonce uint64, pers string) (ck [keySize]byte) {
	prk, err := hkdf.Extract(sha256.New, secret, salt) // RFC 5869 §2.2
	if err != nil {
		panic("mte: hkdf: " + err.Error())
	}
	info := make([]byte, 0, len(profileLabel)+1+len(dir)+1+8+len(pers))
	info = append(info, profileLabel...)
	info = append(info, ' ')
	info = append(info, dir...)
	info = append(info, 0)
	info = binary.LittleEndian.AppendUint64(info, nonce)
	info = append(info, pers...)
	hkdfExpand(ck[:], prk, string(info))
	clear(prk)
	return ck
}

// epochKeys are the key and IV of one epoch.
type epochKeys struct {
	key [keySize]byte
	iv  [ivSize]byte
}

// ratchet derives the keys of the epoch whose chain key is *ck and replaces
// *ck with the next chain key, erasing the old one.
func ratchet(ck *[keySize]byte) (ek epochKeys) {
	hkdfExpand(ek.key[:], ck[:], "key")
	hkdfExpand(ek.iv[:], ck[:], "iv")
	var next [keySize]byte
	hkdfExpand(next[:], ck[:], "chain")
	*ck = next
	clear(next[:])
	return ek
}

// newAEAD returns AES-256-GCM (NIST SP 800-38D) with a 12-byte nonce and a
// 16-byte tag.
func newAEAD(key *[keySize]byte) cipher.AEAD {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic("mte: aes: " + err.Error()) // key size is fixed at 32
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic("mte: gcm: " + err.Error())
	}
	return a
}

// gcmNonce writes IV XOR (0^32 || seq big-endian 64) into nonce.
func gcmNonce(nonce *[ivSize]byte, iv *[ivSize]byte, seq uint64) {
	*nonce = *iv
	s := binary.BigEndian.Uint64(nonce[4:])
	binary.BigEndian.PutUint64(nonce[4:], s^seq)
}
