package mte

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"io"
	"strings"

	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
)

// Server authentication (docs/PROTOCOL.md §6.1, "Server authentication"),
// KEMTLS-style implicit authentication: a pinned client encapsulates to a
// long-term ML-KEM-768 server key; only the holder of its private key
// recovers ss_server, which enters both directions' key schedule and the
// serverConfirm MAC of the pairResponse.

// Sizes of a server key (ML-KEM-768, FIPS 203) and its pieces.
const (
	ServerKeySeedSize   = mlkem768.KeySeedSize    // 64: d || z
	ServerPublicKeySize = mlkem768.PublicKeySize  // 1184
	ServerSecretSize    = mlkem768.CiphertextSize // 1088: serverSecret
	serverKeyIDHexLen   = 2 * len(ServerKeyID{})  // 16
	serverConfirmSize   = sha256.Size             // 32
	serverConfirmB64Len = (serverConfirmSize + 2) / 3 * 4
)

// Labels of server authentication.
const (
	serverAuthLabel    = "socketx-mte-v1 server auth"    // transcript hash
	serverConfirmLabel = "socketx-mte-v1 server confirm" // confirmation key
)

// serverKeyPEMType is the PEM type of a server private key file; the
// block holds the 64-byte seed d || z.
const serverKeyPEMType = "SOCKETX MLKEM768 SERVER KEY"

// ServerKeyID names a server key: the first 8 bytes of SHA-256 of its
// public key (the 1,184-byte ML-KEM-768 encapsulation key).
type ServerKeyID [8]byte

// String returns 16 lowercase hex digits, as serverKeyId carries it.
func (id ServerKeyID) String() string { return hex.EncodeToString(id[:]) }

func serverKeyID(pub []byte) (id ServerKeyID) {
	sum := sha256.Sum256(pub)
	copy(id[:], sum[:])
	return id
}

// ServerPublicKey is a client's pin: a server's ML-KEM-768 public key.
// The zero value is not usable; build one with ParseServerPublicKey or
// ServerPrivateKey.Public.
type ServerPublicKey struct {
	id  ServerKeyID
	raw []byte // 1184 bytes
	pk  *mlkem768.PublicKey
}

// ParseServerPublicKey parses a pin: the standard padded base64 of the
// 1,184-byte public key that `socketx keygen` prints. It applies the FIPS
// 203 §7.2 modulus check.
func ParseServerPublicKey(b64 string) (ServerPublicKey, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(b64))
	if err != nil || len(raw) != ServerPublicKeySize {
		return ServerPublicKey{}, detail("mte: a server public key is the base64 of 1184 bytes", ErrBadServerKey)
	}
	pk := new(mlkem768.PublicKey)
	if pk.Unpack(raw) != nil {
		return ServerPublicKey{}, detail("mte: server public key fails the FIPS 203 modulus check", ErrBadServerKey)
	}
	return ServerPublicKey{id: serverKeyID(raw), raw: raw, pk: pk}, nil
}

// ID returns the key ID.
func (k ServerPublicKey) ID() ServerKeyID { return k.id }

// Bytes returns the public key; the caller must not modify it.
func (k ServerPublicKey) Bytes() []byte { return k.raw }

// String returns the standard padded base64 of the public key.
func (k ServerPublicKey) String() string { return base64.StdEncoding.EncodeToString(k.raw) }

// ServerPrivateKey is one of a deployment's long-term server keys. It is
// immutable and safe for concurrent use.
type ServerPrivateKey struct {
	pub  ServerPublicKey
	sk   *mlkem768.PrivateKey
	seed []byte // d || z, for MarshalPEM
}

// NewServerPrivateKey derives a server key from its 64-byte seed d || z
// (ML-KEM.KeyGen_internal, FIPS 203 §6.1).
func NewServerPrivateKey(seed []byte) (*ServerPrivateKey, error) {
	if len(seed) != ServerKeySeedSize {
		return nil, detail("mte: a server key seed is 64 bytes", ErrBadServerKey)
	}
	pk, sk := mlkem768.NewKeyFromSeed(seed)
	raw := make([]byte, ServerPublicKeySize)
	pk.Pack(raw)
	return &ServerPrivateKey{pub: ServerPublicKey{id: serverKeyID(raw), raw: raw, pk: pk}, sk: sk, seed: bytes.Clone(seed)}, nil
}

// GenerateServerPrivateKey makes a new server key from 64 bytes of rand.
func GenerateServerPrivateKey(rand io.Reader) (*ServerPrivateKey, error) {
	var seed [ServerKeySeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, err
	}
	return NewServerPrivateKey(seed[:])
}

// ParseServerPrivateKey reads a server key as MTE_SERVER_KEYS and
// MTE_SERVER_KEY_FILES hold it: the PEM block `SOCKETX MLKEM768 SERVER KEY`
// that MarshalPEM writes, or the bare standard base64 of the 64-byte seed.
// Errors never include the input.
func ParseServerPrivateKey(text []byte) (*ServerPrivateKey, error) {
	if b, _ := pem.Decode(text); b != nil {
		if b.Type != serverKeyPEMType {
			return nil, detail("mte: server key PEM block is not "+serverKeyPEMType, ErrBadServerKey)
		}
		return NewServerPrivateKey(b.Bytes)
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, detail("mte: a server key is a PEM block or the base64 of a 64-byte seed", ErrBadServerKey)
	}
	defer clear(seed)
	return NewServerPrivateKey(seed)
}

// MarshalPEM returns the key's PEM block (the 64-byte seed), the format of
// `socketx keygen` files.
func (k *ServerPrivateKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: serverKeyPEMType, Bytes: k.seed})
}

// Public returns the public key, the clients' pin.
func (k *ServerPrivateKey) Public() ServerPublicKey { return k.pub }

// ID returns the key ID.
func (k *ServerPrivateKey) ID() ServerKeyID { return k.pub.id }

// errBadServerKeyID is parseServerKeyID's error.
var errBadServerKeyID = detail("mte: "+fieldSrvKeyID+" is not 16 lowercase hex digits", ErrBadPairRequest, ErrBadServerAuth)

// parseServerKeyID accepts exactly 16 lowercase hex digits. It does not
// allocate.
func parseServerKeyID(v jsonString) (id ServerKeyID, err error) {
	bad := errBadServerKeyID
	var buf [6 * serverKeyIDHexLen]byte // a \uXXXX escape per digit at most
	s := v.raw
	if v.esc {
		if len(v.raw) > len(buf) {
			return id, bad
		}
		s = v.appendTo(buf[:0])
	}
	if len(s) != serverKeyIDHexLen {
		return id, bad
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return id, bad
		}
	}
	if _, err := hex.Decode(id[:], s); err != nil {
		return id, bad
	}
	return id, nil
}

// authIKM writes ss_dir || ss_server, the authenticated pairing's HKDF
// input keying material of one direction.
func authIKM(ikm *[2 * sharedSize]byte, ssDir, ssServer []byte) []byte {
	copy(ikm[:sharedSize], ssDir)
	copy(ikm[sharedSize:], ssServer)
	return ikm[:]
}

// serverConfirm computes the pairResponse's serverConfirm into out:
//
//	PRK_confirm = HKDF-Extract(salt, ss_server || ss_c2s || ss_s2c)
//	CK_confirm  = HKDF-Expand(PRK_confirm, "socketx-mte-v1 server confirm", 32)
//	TH          = SHA-256("socketx-mte-v1 server auth" || 0x00 || BE32(len(pairRequest)) ||
//	                      pairRequest || encoderSecret || LE64(encoderNonce) ||
//	                      decoderSecret || LE64(decoderNonce))
//	serverConfirm = HMAC-SHA256(CK_confirm, TH)
func serverConfirm(out *[serverConfirmSize]byte, salt, ssServer, ssC2S, ssS2C, pairRequest []byte,
	encSecret []byte, encNonce uint64, decSecret []byte, decNonce uint64) {
	var ikm [3 * sharedSize]byte
	copy(ikm[0:], ssServer)
	copy(ikm[32:], ssC2S)
	copy(ikm[64:], ssS2C)
	var prk [sha256.Size]byte
	hkdfExtract(&prk, salt, ikm[:])
	clear(ikm[:])
	var ck [keySize]byte
	hkdfExpand(ck[:], prk[:], serverConfirmLabel)
	clear(prk[:])
	th := transcriptHash(pairRequest, encSecret, encNonce, decSecret, decNonce)
	var m hmacSHA256
	m.init(ck[:])
	hmacSum(&m, out, th[:], nil, "", nil)
	m.clear()
	clear(ck[:])
}

// transcriptHash is TH of serverConfirm.
func transcriptHash(pairRequest, encSecret []byte, encNonce uint64, decSecret []byte, decNonce uint64) [sha256.Size]byte {
	h := sha256.New()
	var head [len(serverAuthLabel) + 1 + 4]byte
	copy(head[:], serverAuthLabel)
	binary.BigEndian.PutUint32(head[len(serverAuthLabel)+1:], uint32(len(pairRequest)))
	h.Write(head[:])
	h.Write(pairRequest)
	var n [8]byte
	h.Write(encSecret)
	binary.LittleEndian.PutUint64(n[:], encNonce)
	h.Write(n[:])
	h.Write(decSecret)
	binary.LittleEndian.PutUint64(n[:], decNonce)
	h.Write(n[:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// confirmEqual compares two confirmations in constant time.
func confirmEqual(a, b []byte) bool { return hmac.Equal(a, b) }
