package mte

import (
	"crypto/ecdh"
	"crypto/sha3"

	"github.com/cloudflare/circl/dh/x25519"
	"github.com/cloudflare/circl/kem/mlkem/mlkem1024"
	"github.com/cloudflare/circl/kem/mlkem/mlkem512"
	"github.com/cloudflare/circl/kem/mlkem/mlkem768"
	"github.com/cloudflare/circl/kem/xwing"
	kpke1024 "github.com/cloudflare/circl/pke/kyber/kyber1024"
	kpke512 "github.com/cloudflare/circl/pke/kyber/kyber512"
	kpke768 "github.com/cloudflare/circl/pke/kyber/kyber768"
)

// The key exchange of one direction. For ML-KEM (FIPS 203) the client's
// public key is an encapsulation key and the server's "secret" is the
// ciphertext of ML-KEM.Encaps (§7.2) with the 32-byte message m = seed. For
// Strength 0 the client's public key is an X25519 public key (RFC 7748 §5)
// and the server's "secret" is its ephemeral X25519 public key, the private
// scalar being the 32-byte seed; the shared secret is X25519(eph, client).
// For X-Wing (draft-connolly-cfrg-xwing-kem-10) the client's public key is
// pk_M || pk_X, the server's secret is ct_M || ct_X from the derandomized
// Encapsulate with the 64-byte eseed, and the shared secret is X-Wing's.
//
// Sizes are checked by the callers; these functions never see attacker
// bytes of the wrong length, since circl panics on those.

const (
	sharedSize        = 32 // ML-KEM shared key, X25519 output, X-Wing ss
	mlkemEncapsSeed   = 32 // ML-KEM m, X25519 ephemeral scalar
	xwingEncapsSeed   = 64 // X-Wing eseed: ML-KEM m || X25519 ephemeral scalar
	maxEncapsSeedSize = xwingEncapsSeed
	mlkemKeySeed      = 64 // ML-KEM d || z (FIPS 203 §7.1)
	x25519KeySeed     = 32
	xwingKeySeed      = 32 // X-Wing sk, expanded with SHAKE256
	maxKeySeed        = mlkemKeySeed
	maxSecret         = 1568
)

// encapsSeedSize is the randomness one encapsulation of st takes.
func encapsSeedSize(st Strength) int {
	if st == StrengthXWing {
		return xwingEncapsSeed
	}
	return mlkemEncapsSeed
}

// encapsulate runs the server side for one direction: it writes the secret
// for the client (ciphertext or ephemeral public key) and the shared secret.
// field names the JSON field pub came from, for error messages.
func encapsulate(st Strength, field string, pub, seed, secret, shared []byte) error {
	defer clearUpperYMM()
	switch st {
	case Strength512:
		if !encaps512(pub, seed, secret, shared) {
			return modulusError(field, st)
		}
	case Strength768:
		if !encaps768(pub, seed, secret, shared) {
			return modulusError(field, st)
		}
	case Strength1024:
		if !encaps1024(pub, seed, secret, shared) {
			return modulusError(field, st)
		}
	case StrengthXWing:
		if !encapsXWing(pub, seed, secret, shared) {
			return modulusError(field, st)
		}
	default:
		if !encapsX25519(pub, seed, secret, shared) { // all-zero output: low-order point (RFC 7748 §6.1)
			return detail("mte: "+field+" is a low-order X25519 point", ErrBadPairRequest)
		}
	}
	return nil
}

// encapsX25519 is the server side of X25519 (RFC 7748 §6.1) on fixed
// arrays with circl's dh/x25519: the ephemeral public key
// X25519(seed, 9) goes to secret, X25519(seed, pub) to shared. Clamping the
// scalar and masking the top bit of pub are X25519's own (§5). It reports
// false for a low-order pub (an all-zero shared secret, which it clears).
// crypto/ecdh computes the same with 7 allocations and, measured here, about
// 1.5× the time (BenchmarkEncapsulate/x25519); TestX25519AgainstECDH pins the
// two together.
func encapsX25519(pub, seed, secret, shared []byte) bool {
	var sk, pk, eph, ss x25519.Key
	copy(sk[:], seed)
	copy(pk[:], pub)
	x25519.KeyGen(&eph, &sk)
	ok := x25519.Shared(&ss, &sk, &pk)
	if ok {
		copy(shared, ss[:])
		copy(secret, eph[:])
	}
	clear(sk[:])
	clear(ss[:])
	return ok
}

// ML-KEM.Encaps_internal (FIPS 203 Algorithm 17) over circl's K-PKE:
//
//	(K, r) = G(m || H(ek)),  c = K-PKE.Encrypt(ek, m, r)
//
// with G = SHA3-512 and H = SHA3-256. circl's kem packages allocate the
// unpacked key (≈ 3–10 KiB) on every call; its pke packages unpack into a
// caller value, which here lives on the stack. UnpackMLKEM is the FIPS 203
// §7.2 modulus check. One function per parameter set keeps one key's frame
// live at a time (a generic version would move the key to the heap: go
// build -gcflags=-m reports "moved to heap: pk" for method calls through a
// type parameter). The ACVP encapsulation cases in mlkem_test.go pin them.

func encaps512(pub, m, ct, shared []byte) bool {
	var pk kpke512.PublicKey
	if pk.UnpackMLKEM(pub) != nil {
		return false
	}
	kr := encapsKR(pub, m)
	pk.EncryptTo(ct, m, kr[32:])
	copy(shared, kr[:sharedSize])
	clear(kr[:])
	return true
}

func encaps768(pub, m, ct, shared []byte) bool {
	var pk kpke768.PublicKey
	if pk.UnpackMLKEM(pub) != nil {
		return false
	}
	kr := encapsKR(pub, m)
	pk.EncryptTo(ct, m, kr[32:])
	copy(shared, kr[:sharedSize])
	clear(kr[:])
	return true
}

func encaps1024(pub, m, ct, shared []byte) bool {
	var pk kpke1024.PublicKey
	if pk.UnpackMLKEM(pub) != nil {
		return false
	}
	kr := encapsKR(pub, m)
	pk.EncryptTo(ct, m, kr[32:])
	copy(shared, kr[:sharedSize])
	clear(kr[:])
	return true
}

// X-Wing sizes (draft-connolly-cfrg-xwing-kem-10 §5).
const (
	xwingPKM = 1184 // pk_M, the ML-KEM-768 encapsulation key
	xwingCTM = 1088 // ct_M, the ML-KEM-768 ciphertext
	xwingX   = 32   // pk_X, ct_X, ss_X
)

// xwingLabel is X-Wing's domain separator, ASCII \./ /^\ (hex 5c2e2f2f5e5c).
const xwingLabel = `\.//^\`

// encapsXWing is X-Wing's derandomized Encapsulate
// (draft-connolly-cfrg-xwing-kem-10 §5.4):
//
//	pk_M = pk[0:1184], pk_X = pk[1184:1216]
//	ek_X = eseed[32:64], ct_X = X25519(ek_X, 9), ss_X = X25519(ek_X, pk_X)
//	(ss_M, ct_M) = ML-KEM-768.Encaps_internal(pk_M, eseed[0:32])
//	ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel), ct = ct_M || ct_X
//
// on the stack: circl's kem/xwing unpacks pk_M into a heap value on every
// call (PublicKey.Unpack), so the ML-KEM half reuses encaps768 and the
// X25519 half circl's dh/x25519 on fixed arrays. As the draft specifies,
// an all-zero ss_X (a low-order pk_X) is not refused: the combiner still
// binds ss_M, which alone keeps ss secret. TestXWingDraftVectors and
// TestXWingAgainstCircl pin it. It reports false if pk_M fails the FIPS
// 203 §7.2 modulus check.
func encapsXWing(pub, eseed, ct, shared []byte) bool {
	var ssM [sharedSize]byte
	if !encaps768(pub[:xwingPKM], eseed[:mlkemEncapsSeed], ct[:xwingCTM], ssM[:]) {
		return false
	}
	var ekX, ctX, ssX, pkX x25519.Key
	copy(ekX[:], eseed[mlkemEncapsSeed:])
	copy(pkX[:], pub[xwingPKM:])
	x25519.KeyGen(&ctX, &ekX)
	x25519.Shared(&ssX, &ekX, &pkX) // false for a low-order pk_X: ignored, see above
	xwingCombine(shared, &ssM, &ssX, &ctX, &pkX)
	copy(ct[xwingCTM:], ctX[:])
	clear(ssM[:])
	clear(ekX[:])
	clear(ssX[:])
	return true
}

// xwingCombine writes X-Wing's combiner (draft §5.3) into out:
// SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel), one 134-byte block.
func xwingCombine(out []byte, ssM *[sharedSize]byte, ssX, ctX, pkX *x25519.Key) {
	var in [sharedSize + 3*xwingX + len(xwingLabel)]byte
	copy(in[0:], ssM[:])
	copy(in[32:], ssX[:])
	copy(in[64:], ctX[:])
	copy(in[96:], pkX[:])
	copy(in[128:], xwingLabel)
	sum := sha3.Sum256(in[:])
	copy(out, sum[:])
	clear(in[:])
	clear(sum[:])
}

// encapsKR returns G(m || H(ek)) = K || r.
func encapsKR(ek, m []byte) [64]byte {
	var in [64]byte
	copy(in[:32], m)
	h := sha3.Sum256(ek)
	copy(in[32:], h[:])
	kr := sha3.Sum512(in[:])
	clear(in[:])
	return kr
}

func modulusError(field string, st Strength) error {
	return detail("mte: "+field+" is not a valid "+st.String()+" key (FIPS 203 modulus check)", ErrBadPairRequest)
}

// kexKey is a client key pair for one direction.
type kexKey struct {
	st   Strength
	k512 *mlkem512.PrivateKey
	k768 *mlkem768.PrivateKey
	k1k  *mlkem1024.PrivateKey
	xw   *xwing.PrivateKey
	x    *ecdh.PrivateKey
	pub  []byte // pubBuf[:st.PublicKeySize()]

	pubBuf [maxSecret]byte
}

// keySeedSize is the seed length kexKey.init needs for st.
func keySeedSize(st Strength) int {
	switch st {
	case StrengthXWing:
		return xwingKeySeed
	case Strength512, Strength768, Strength1024:
		return mlkemKeySeed
	}
	return x25519KeySeed
}

// init derives k's key pair deterministically from seed (d || z for
// ML-KEM.KeyGen_internal, the private scalar for X25519, X-Wing's 32-byte
// sk for its GenerateKeyPairDerand). circl allocates the key itself (the
// private key and the public key it keeps, each with its inner CPA-PKE
// key: 4 objects for ML-KEM).
func (k *kexKey) init(st Strength, seed []byte) error {
	defer clearUpperYMM()
	*k = kexKey{st: st}
	k.pub = k.pubBuf[:st.PublicKeySize()]
	switch st {
	case Strength512:
		pk, sk := mlkem512.NewKeyFromSeed(seed)
		pk.Pack(k.pub)
		k.k512 = sk
	case Strength768:
		pk, sk := mlkem768.NewKeyFromSeed(seed)
		pk.Pack(k.pub)
		k.k768 = sk
	case Strength1024:
		pk, sk := mlkem1024.NewKeyFromSeed(seed)
		pk.Pack(k.pub)
		k.k1k = sk
	case StrengthXWing:
		sk, pk := xwing.DeriveKeyPair(seed)
		pk.Pack(k.pub)
		k.xw = sk
	default:
		sk, err := ecdh.X25519().NewPrivateKey(seed)
		if err != nil {
			return err
		}
		k.x = sk
		copy(k.pub, sk.PublicKey().Bytes())
	}
	return nil
}

// decapsulate recovers the shared secret from the server's secret, whose
// size the caller checked.
func (k *kexKey) decapsulate(field string, secret, shared []byte) error {
	defer clearUpperYMM()
	switch k.st {
	case Strength512:
		k.k512.DecapsulateTo(shared, secret)
	case Strength768:
		k.k768.DecapsulateTo(shared, secret)
	case Strength1024:
		k.k1k.DecapsulateTo(shared, secret)
	case StrengthXWing:
		k.xw.DecapsulateTo(shared, secret)
	default:
		peer, err := ecdh.X25519().NewPublicKey(secret)
		if err != nil {
			return detail("mte: "+field+" is not an X25519 public key", ErrBadPairResponse)
		}
		ss, err := k.x.ECDH(peer)
		if err != nil {
			return detail("mte: "+field+" is a low-order X25519 point", ErrBadPairResponse)
		}
		copy(shared, ss)
		clear(ss)
	}
	return nil
}
