package client

import (
	"errors"
	"strconv"
	"strings"

	"github.com/socketx/socketx-server/mte"
)

// KeyExchange is the key exchange of a pairing, for Options.KeyExchange.
// Its values are the names the proxy's MTE_KEY_EXCHANGE takes, so a value
// copied from the proxy's configuration means the same exchange here; the
// empty value means DefaultKeyExchange.
type KeyExchange string

// Key exchanges, in the order of MTE_KYBER_STRENGTH's numbers 0, 512, 768
// and 1024, then X-Wing (which has no number).
const (
	// X25519 is the classical exchange (RFC 7748), not post-quantum:
	// MTE_KEY_EXCHANGE=x25519 or MTE_KYBER_STRENGTH=0.
	X25519 KeyExchange = "x25519"
	// MLKEM512 is ML-KEM-512 (FIPS 203): mlkem512 or 512.
	MLKEM512 KeyExchange = "mlkem512"
	// MLKEM768 is ML-KEM-768: mlkem768 or 768.
	MLKEM768 KeyExchange = "mlkem768"
	// MLKEM1024 is ML-KEM-1024: mlkem1024 or 1024.
	MLKEM1024 KeyExchange = "mlkem1024"
	// XWing is X-Wing (draft-connolly-cfrg-xwing-kem), the hybrid of
	// ML-KEM-768 and X25519: MTE_KEY_EXCHANGE=xwing.
	XWing KeyExchange = "xwing"
)

// ErrBadKeyExchange is wrapped by ParseKeyExchange's error and by Dial's
// when Options.KeyExchange is not one of the constants.
var ErrBadKeyExchange = errors.New("client: unknown key exchange")

// ParseKeyExchange reads a key exchange as the proxy's configuration spells
// it: an MTE_KEY_EXCHANGE name (x25519, mlkem512, mlkem768, mlkem1024,
// xwing) or an MTE_KYBER_STRENGTH number (0 is X25519; 512, 768, 1024 are
// ML-KEM), case-insensitive, surrounding spaces ignored.
func ParseKeyExchange(s string) (KeyExchange, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "0":
		return X25519, nil
	case "512", "768", "1024":
		return KeyExchange("mlkem" + v), nil
	}
	if _, err := mte.ParseKeyExchange(v); err == nil {
		return KeyExchange(v), nil
	}
	return "", &keyExchangeError{s}
}

// keyExchangeError names the value that is not a key exchange; it wraps
// ErrBadKeyExchange.
type keyExchangeError struct{ value string }

func (e *keyExchangeError) Error() string {
	return "client: key exchange " + strconv.Quote(e.value) + " is not one of x25519, mlkem512, mlkem768, mlkem1024, xwing (MTE_KEY_EXCHANGE) or 0, 512, 768, 1024 (MTE_KYBER_STRENGTH)"
}

func (e *keyExchangeError) Unwrap() error { return ErrBadKeyExchange }

// String names the exchange: "X25519", "ML-KEM-512", ..., "X-Wing"; the
// empty value is DefaultKeyExchange's name.
func (k KeyExchange) String() string {
	if k == "" {
		k = DefaultKeyExchange
	}
	st, err := k.strength()
	if err != nil {
		return "keyexchange(" + strconv.Quote(string(k)) + ")"
	}
	return st.String()
}

// strength is the mte strength of k, which must be one of the constants.
func (k KeyExchange) strength() (mte.Strength, error) {
	st, err := mte.ParseKeyExchange(string(k))
	if err != nil {
		return 0, &keyExchangeError{string(k)}
	}
	return st, nil
}
