package mte

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
)

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p   Params
		err string
	}{
		{Params{}, ""},
		{Params{Strength: 512, Window: MaxWindow}, ""},
		{Params{Strength: 1024, Window: 64, Company: "c", License: "l"}, ""},
		{Params{Strength: 256}, "mte: strength 256 is not one of 0, 512, 768, 1024, StrengthXWing"},
		{Params{Strength: 768, Window: -1}, "mte: window -1 is outside 0..65535"},
		{Params{Strength: 768, Window: 65536}, "mte: window 65536 is outside 0..65535"},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err || !errors.Is(err, ErrBadParams)) {
			t.Errorf("%+v: %v", tc.p, err)
		}
		if _, perr := NewProfile(tc.p); (perr == nil) != (err == nil) {
			t.Errorf("%+v: NewProfile %v", tc.p, perr)
		}
	}
}

func TestSizesAndPQ(t *testing.T) {
	want := map[Strength][3]int{0: {32, 32, 0}, 512: {800, 768, 1}, 768: {1184, 1088, 1}, 1024: {1568, 1568, 1}, StrengthXWing: {1216, 1120, 1}}
	for st, w := range want {
		p := mustProfile(t, Params{Strength: st})
		pq := 0
		if p.PostQuantum() {
			pq = 1
		}
		if st.PublicKeySize() != w[0] || st.SecretSize() != w[1] || pq != w[2] {
			t.Errorf("%v: %d %d %v", st, st.PublicKeySize(), st.SecretSize(), p.PostQuantum())
		}
	}
}

func TestKeyExchangeNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     Strength
		str    string
		hybrid bool
	}{
		{"x25519", StrengthClassical, "X25519", false},
		{"mlkem512", Strength512, "ML-KEM-512", false},
		{"mlkem768", Strength768, "ML-KEM-768", false},
		{"mlkem1024", Strength1024, "ML-KEM-1024", false},
		{"xwing", StrengthXWing, "X-Wing", true},
	} {
		st, err := ParseKeyExchange(tc.name)
		if err != nil || st != tc.st || st.KeyExchange() != tc.name || st.String() != tc.str || st.Hybrid() != tc.hybrid || !st.Valid() {
			t.Errorf("%s: %v %v %q %q", tc.name, st, err, st.KeyExchange(), st.String())
		}
	}
	for _, bad := range []string{"", "XWING", "768", "mlkem", "x-wing"} {
		if _, err := ParseKeyExchange(bad); err == nil || !errors.Is(err, ErrBadParams) ||
			err.Error() != "mte: key exchange "+strconv.Quote(bad)+" is not one of x25519, mlkem512, mlkem768, mlkem1024, xwing" {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if Strength(256).KeyExchange() != "" || Strength(256).Valid() || Strength(hybridX25519|512).Valid() {
		t.Error("invalid strengths")
	}
}

func TestTenantSalt(t *testing.T) {
	if got := string(tenantSalt("Eclypses Inc", "")); got != "socketx-mte-v1" {
		t.Fatalf("no license: %q", got)
	}
	m := hmac.New(sha256.New, []byte("LICENSE-KEY"))
	m.Write([]byte("socketx-mte-v1 tenant\x00Acme"))
	if got, want := hex.EncodeToString(tenantSalt("Acme", "LICENSE-KEY")), hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("salt %s, want %s", got, want)
	}
}

// TestTenantMismatchIsAuth: a client with another license pairs, but its
// first message (action 4) fails authentication.
func TestTenantMismatchIsAuth(t *testing.T) {
	server := mustProfile(t, Params{Strength: 512, Company: "Acme", License: "right"})
	for _, client := range []Params{
		{Strength: 512, Company: "Acme", License: "wrong"},
		{Strength: 512, Company: "Other", License: "right"},
		{Strength: 512},
	} {
		cs, ss := pair(t, server, mustProfile(t, client), "tenant")
		m := seal(t, cs, ActionUpstreamRequest, TypeHandshake, []byte(`{"pathname":"/"}`))
		if _, _, err := ss.Open(m); err != ErrAuth {
			t.Fatalf("%+v: %v", client, err)
		}
		if code, reason := CloseCode(ErrAuth); code != 1008 || reason != "mte: message authentication failed" {
			t.Fatalf("close %d %q", code, reason)
		}
	}
	cs, ss := pair(t, server, mustProfile(t, Params{Strength: 512, Company: "Acme", License: "right"}), "tenant")
	if _, _, err := ss.Open(seal(t, cs, ActionUpstreamRequest, TypeHandshake, []byte(`{}`))); err != nil {
		t.Fatal(err)
	}
}
