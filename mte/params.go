package mte

import (
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
)

// Strength selects the key exchange used for both directions of a pairing
// (MTE_KEY_EXCHANGE, or MTE_KYBER_STRENGTH for all but X-Wing).
type Strength int

// Strengths. The zero value is the classical X25519 exchange.
const (
	StrengthClassical Strength = 0    // X25519 (RFC 7748), not post-quantum
	Strength512       Strength = 512  // ML-KEM-512 (FIPS 203)
	Strength768       Strength = 768  // ML-KEM-768
	Strength1024      Strength = 1024 // ML-KEM-1024
	// StrengthXWing is X-Wing (draft-connolly-cfrg-xwing-kem), the hybrid
	// of ML-KEM-768 and X25519: it stays secure while either half does.
	// MTE_KYBER_STRENGTH has no value for it; the number is the hybrid bit
	// 1<<16 over the ML-KEM parameter set, and appears only inside this
	// process and in testdata/vectors.json.
	StrengthXWing Strength = hybridX25519 | Strength768
)

const hybridX25519 = 1 << 16

// String names the key exchange, e.g. "ML-KEM-512", "X25519" or "X-Wing".
func (s Strength) String() string {
	switch s {
	case StrengthClassical:
		return "X25519"
	case Strength512, Strength768, Strength1024:
		return "ML-KEM-" + strconv.Itoa(int(s))
	case StrengthXWing:
		return "X-Wing"
	}
	return "strength(" + strconv.Itoa(int(s)) + ")"
}

// Key exchange names, as MTE_KEY_EXCHANGE takes them, in Strength order.
var keyExchangeNames = [...]struct {
	name string
	st   Strength
}{
	{"x25519", StrengthClassical},
	{"mlkem512", Strength512},
	{"mlkem768", Strength768},
	{"mlkem1024", Strength1024},
	{"xwing", StrengthXWing},
}

// KeyExchange returns the MTE_KEY_EXCHANGE name of s ("mlkem512", "xwing",
// "x25519", ...), or "" if s is not valid.
func (s Strength) KeyExchange() string {
	for _, k := range keyExchangeNames {
		if k.st == s {
			return k.name
		}
	}
	return ""
}

// ParseKeyExchange returns the Strength of an MTE_KEY_EXCHANGE name.
func ParseKeyExchange(name string) (Strength, error) {
	for _, k := range keyExchangeNames {
		if k.name == name {
			return k.st, nil
		}
	}
	return 0, detail("mte: key exchange "+strconv.Quote(name)+" is not one of "+KeyExchangeNames(), ErrBadParams)
}

// KeyExchangeNames lists the MTE_KEY_EXCHANGE names: "x25519, mlkem512,
// mlkem768, mlkem1024, xwing".
func KeyExchangeNames() string {
	s := ""
	for i, k := range keyExchangeNames {
		if i > 0 {
			s += ", "
		}
		s += k.name
	}
	return s
}

// Valid reports whether s is one of the five supported key exchanges.
func (s Strength) Valid() bool { return s.KeyExchange() != "" }

// PostQuantum reports whether s is an ML-KEM parameter set or X-Wing.
func (s Strength) PostQuantum() bool { return s.Valid() && s != StrengthClassical }

// Hybrid reports whether s combines a post-quantum and a classical KEM
// (X-Wing).
func (s Strength) Hybrid() bool { return s == StrengthXWing }

// PublicKeySize is the size in bytes of a client public key
// (encoderPublicKey, decoderPublicKey): the ML-KEM encapsulation key, the
// X25519 public key, or X-Wing's pk_M || pk_X. All five differ, so a key's
// size names its exchange.
func (s Strength) PublicKeySize() int {
	switch s {
	case Strength512:
		return 800
	case Strength768:
		return 1184
	case Strength1024:
		return 1568
	case StrengthXWing:
		return 1216 // 1184 + 32
	}
	return 32
}

// SecretSize is the size in bytes of a server "secret" (encoderSecret,
// decoderSecret): the ML-KEM ciphertext, the server's ephemeral X25519
// public key, or X-Wing's ct_M || ct_X.
func (s Strength) SecretSize() int {
	switch s {
	case Strength512:
		return 768
	case Strength768:
		return 1088
	case Strength1024:
		return 1568
	case StrengthXWing:
		return 1120 // 1088 + 32
	}
	return 32
}

// MaxWindow is the largest decoder window. It is below the 65,536 messages
// of one key epoch, so a late message is never more than one epoch old and
// one accepted message never advances the ratchet by more than one step.
const MaxWindow = 65535

// Params is the plain configuration of the MTE profile. Build a Profile from
// it with NewProfile.
type Params struct {
	// Strength is the key exchange (MTE_KEY_EXCHANGE; MTE_KYBER_STRENGTH
	// 0, 512, 768, 1024): one of the Strength constants.
	Strength Strength
	// Window is the server decoder's anti-replay window in messages
	// (MTE_DECODER_WINDOW_SIZE), 0..MaxWindow. 0 means strictly in order.
	Window int
	// Company and License (MTE_COMPANY_NAME, MTE_LICENSE_KEY) form an
	// optional tenant secret mixed into the key schedule: only clients
	// configured with the same values can talk to this server. Company is
	// ignored when License is empty.
	Company, License string
	// ServerKeys are the proxy's long-term server keys (MTE_SERVER_KEYS,
	// MTE_SERVER_KEY_FILES): a pairRequest naming one of them by
	// serverKeyId is authenticated (docs/PROTOCOL.md §6.1). Several keys
	// serve a rotation. Empty: server authentication is off and the fields
	// are ignored. Clients leave it empty.
	ServerKeys []*ServerPrivateKey
}

// Validate reports whether p is usable.
func (p Params) Validate() error {
	if !p.Strength.Valid() {
		return detail("mte: strength "+strconv.Itoa(int(p.Strength))+" is not one of 0, 512, 768, 1024, StrengthXWing", ErrBadParams)
	}
	if p.Window < 0 || p.Window > MaxWindow {
		return detail("mte: window "+strconv.Itoa(p.Window)+" is outside 0.."+strconv.Itoa(MaxWindow), ErrBadParams)
	}
	for i, k := range p.ServerKeys {
		if k == nil || k.sk == nil {
			return detail("mte: server key "+strconv.Itoa(i)+" is not set", ErrBadParams)
		}
		for _, o := range p.ServerKeys[:i] {
			if o != nil && o.ID() == k.ID() {
				return detail("mte: server key "+k.ID().String()+" is listed twice", ErrBadParams)
			}
		}
	}
	return nil
}

// Profile is the prepared, immutable form of Params. One Profile is shared
// read-only by all connections; it is safe for concurrent use.
type Profile struct {
	params Params
	salt   []byte // HKDF salt, see keys.go
}

// NewProfile validates p and precomputes the HKDF salt.
func NewProfile(p Params) (*Profile, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Profile{params: p, salt: tenantSalt(p.Company, p.License)}, nil
}

// Params returns the parameters the profile was built from.
func (p *Profile) Params() Params { return p.params }

// Strength returns the configured key exchange.
func (p *Profile) Strength() Strength { return p.params.Strength }

// Window returns the server decoder window.
func (p *Profile) Window() int { return p.params.Window }

// serverKey returns the server key with ID id, or nil.
func (p *Profile) serverKey(id ServerKeyID) *ServerPrivateKey {
	for _, k := range p.params.ServerKeys {
		if k.ID() == id {
			return k
		}
	}
	return nil
}

// ServerAuth reports whether the profile has server keys.
func (p *Profile) ServerAuth() bool { return len(p.params.ServerKeys) > 0 }

// PostQuantum reports whether the key exchange is ML-KEM or X-Wing. The
// command logs a warning at startup when it is false (Strength 0, X25519).
func (p *Profile) PostQuantum() bool { return p.params.Strength.PostQuantum() }

// Salt labels (docs/PROTOCOL.md §Key schedule).
const (
	profileLabel = "socketx-mte-v1"
	tenantLabel  = "socketx-mte-v1 tenant"
)

// tenantSalt returns the HKDF salt: the 14 bytes "socketx-mte-v1" without a
// license, else HMAC-SHA256(key = license, "socketx-mte-v1 tenant" || 0x00 ||
// company).
func tenantSalt(company, license string) []byte {
	if license == "" {
		return []byte(profileLabel)
	}
	m := hmac.New(sha256.New, []byte(license))
	m.Write([]byte(tenantLabel))
	m.Write([]byte{0})
	m.Write([]byte(company))
	return m.Sum(nil)
}
