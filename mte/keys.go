package mte

import (
	"crypto/aes"
	"crypto/cipher"
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

// text is a personalization or info string held either way: the server
// reads it from the request bytes, the client keeps it as a string.
type text interface{ ~string | ~[]byte }

// hmacSHA256 holds the padded key blocks of HMAC-SHA256 (RFC 2104 §2):
// K XOR ipad and K XOR opad. Each sum hashes them again rather than
// caching digest states, because crypto/sha256 only lets a digest stay on
// the stack when it is created and used in one function (New is inlined
// and its methods devirtualized). Nothing here allocates.
type hmacSHA256 struct {
	ipad, opad [sha256.BlockSize]byte
}

// init keys m; keys longer than a block are hashed first (RFC 2104 §2).
func (m *hmacSHA256) init(key []byte) {
	if len(key) > sha256.BlockSize {
		k := sha256.Sum256(key)
		copy(m.ipad[:], k[:])
		clear(k[:])
	} else {
		copy(m.ipad[:], key)
		clear(m.ipad[len(key):])
	}
	m.opad = m.ipad
	for i := range m.ipad {
		m.ipad[i] ^= 0x36
		m.opad[i] ^= 0x5c
	}
}

func (m *hmacSHA256) clear() {
	clear(m.ipad[:])
	clear(m.opad[:])
}

// hmacSum writes HMAC(K, a || b || c || d) into out.
func hmacSum[T text](m *hmacSHA256, out *[sha256.Size]byte, a, b []byte, c T, d []byte) {
	h := sha256.New()
	h.Write(m.ipad[:])
	h.Write(a)
	h.Write(b)
	var chunk [sha256.BlockSize]byte // c through a stack copy: []byte(c) would allocate
	for len(c) > 0 {
		n := copy(chunk[:], c)
		h.Write(chunk[:n])
		c = c[n:]
	}
	h.Write(d)
	h.Sum(out[:0])
	h = sha256.New()
	h.Write(m.opad[:])
	h.Write(out[:])
	h.Sum(out[:0])
}

// expand is HKDF-Expand-SHA256 (RFC 5869 §2.3) keyed by m (the PRK) into
// out, with info = info1 || info2:
//
//	T(0) = empty, T(i) = HMAC(PRK, T(i-1) || info || i), OKM = T(1) || T(2) ...
//
// len(out) must be at most 255·32 bytes.
func expand[T text](m *hmacSHA256, out, info1 []byte, info2 T) {
	if len(out) > 255*sha256.Size {
		panic("mte: hkdf: output too long") // fixed sizes here: never
	}
	var t [sha256.Size]byte
	prev := t[:0]
	ctr := [1]byte{0}
	for n := 0; n < len(out); n += sha256.Size {
		ctr[0]++
		hmacSum(m, &t, prev, info1, info2, ctr[:])
		copy(out[n:], t[:])
		prev = t[:]
	}
	clear(t[:])
}

// hkdfExpand is HKDF-Expand-SHA256 (RFC 5869 §2.3) into out.
func hkdfExpand(out, prk []byte, info string) {
	var m hmacSHA256
	m.init(prk)
	expand(&m, out, nil, info)
	m.clear()
}

// hkdfExtract is HKDF-Extract-SHA256 (RFC 5869 §2.2): PRK = HMAC(salt, IKM).
func hkdfExtract(prk *[sha256.Size]byte, salt, ikm []byte) {
	var m hmacSHA256
	m.init(salt)
	hmacSum(&m, prk, ikm, nil, "", nil)
	m.clear()
}

// chainKey0 derives CK_0 of one direction from the shared secret. It does
// not allocate.
func chainKey0[T text](salt, secret []byte, dir string, nonce uint64, pers T) (ck [keySize]byte) {
	var prk [sha256.Size]byte
	hkdfExtract(&prk, salt, secret)
	// info = "socketx-mte-v1 " || dir || 0x00 || nonce LE64 || personalization
	var head [len(profileLabel) + 1 + len(dirC2S) + 1 + 8]byte
	info := append(head[:0], profileLabel...)
	info = append(info, ' ')
	info = append(info, dir...)
	info = append(info, 0)
	info = binary.LittleEndian.AppendUint64(info, nonce)
	var m hmacSHA256
	m.init(prk[:])
	expand(&m, ck[:], info, pers)
	m.clear()
	clear(prk[:])
	return ck
}

// epochKeys are the key and IV of one epoch.
type epochKeys struct {
	key [keySize]byte
	iv  [ivSize]byte
}

// ratchet derives the keys of the epoch whose chain key is *ck and replaces
// *ck with the next chain key, erasing the old one. It does not allocate.
func ratchet(ck *[keySize]byte) (ek epochKeys) {
	var m hmacSHA256
	m.init(ck[:])
	expand(&m, ek.key[:], nil, "key")
	expand(&m, ek.iv[:], nil, "iv")
	expand(&m, ck[:], nil, "chain") // m holds the old key's pads
	m.clear()
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
