package client

import (
	"errors"
	"testing"

	"github.com/socketx/socketx-server/mte"
)

// TestParseKeyExchange: every value the proxy's MTE_KEY_EXCHANGE and
// MTE_KYBER_STRENGTH take names the same exchange here, 0 included.
func TestParseKeyExchange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want KeyExchange
		name string
		st   mte.Strength
	}{
		{"0", X25519, "X25519", mte.StrengthClassical},
		{"512", MLKEM512, "ML-KEM-512", mte.Strength512},
		{"768", MLKEM768, "ML-KEM-768", mte.Strength768},
		{"1024", MLKEM1024, "ML-KEM-1024", mte.Strength1024},
		{"x25519", X25519, "X25519", mte.StrengthClassical},
		{"mlkem512", MLKEM512, "ML-KEM-512", mte.Strength512},
		{"mlkem768", MLKEM768, "ML-KEM-768", mte.Strength768},
		{"mlkem1024", MLKEM1024, "ML-KEM-1024", mte.Strength1024},
		{"xwing", XWing, "X-Wing", mte.StrengthXWing},
		{" XWing ", XWing, "X-Wing", mte.StrengthXWing},
	} {
		got, err := ParseKeyExchange(tc.in)
		if err != nil || got != tc.want || got.String() != tc.name {
			t.Fatalf("ParseKeyExchange(%q) = %q (%v), %v; want %q (%s)", tc.in, got, got, err, tc.want, tc.name)
		}
		if st, err := got.strength(); err != nil || st != tc.st || st.KeyExchange() != string(got) {
			t.Fatalf("%q: mte strength %v, %v; want %v", got, st, err, tc.st)
		}
	}
	for _, in := range []string{"", "256", "65536", "kyber", "x-wing", "ML-KEM-512"} {
		if got, err := ParseKeyExchange(in); got != "" || !errors.Is(err, ErrBadKeyExchange) {
			t.Fatalf("ParseKeyExchange(%q) = %q, %v; want ErrBadKeyExchange", in, got, err)
		}
	}
}

// TestDefaultKeyExchange: the zero Options pair with ML-KEM-512, the
// proxy's exchange when MTE_KEY_EXCHANGE and MTE_KYBER_STRENGTH are unset.
func TestDefaultKeyExchange(t *testing.T) {
	var o Options
	p, err := o.profileParams()
	if err != nil || p.Strength != mte.Strength512 || DefaultKeyExchange != MLKEM512 || KeyExchange("").String() != "ML-KEM-512" {
		t.Fatalf("zero Options: strength %v, %v", p.Strength, err)
	}
}
