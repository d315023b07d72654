package mte

import (
	"bytes"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in      []byte
		want    Header
		payload []byte
		err     error
	}{
		{nil, Header{}, nil, ErrShortMessage},
		{[]byte{0x4D, 0x54, 0x45, 0x02, 0x01, 0}, Header{}, nil, ErrShortMessage},
		{[]byte{0x4D, 0x54, 0x45, 0x02, 0x01, 0, 254}, Header{ActionRequest, TypeHandshake}, []byte{}, nil},
		{[]byte{0x4D, 0x54, 0x45, 0x02, 0x01, 6, 1, 9, 8}, Header{ActionProxyData, TypeBinary}, []byte{9, 8}, nil},
		{[]byte{0x4D, 0x54, 0x45, 0x01, 0x01, 6, 1}, Header{}, nil, ErrBadMagic},
		{[]byte{0x4E, 0x54, 0x45, 0x02, 0x01, 6, 1}, Header{}, nil, ErrBadMagic},
		{[]byte{0x4D, 0x54, 0x45, 0x02, 0x02, 6, 1}, Header{}, nil, ErrBadVersion},
		{[]byte{0x4D, 0x54, 0x45, 0x02, 0x01, 255, 0}, Header{ActionUnknown, TypeText}, []byte{}, nil},
	}
	for i, tc := range tests {
		h, p, err := ParseHeader(tc.in)
		if err != tc.err || h != tc.want || !bytes.Equal(p, tc.payload) {
			t.Errorf("%d: got %v %x %v, want %v %x %v", i, h, p, err, tc.want, tc.payload, tc.err)
		}
		if err == nil && len(p) > 0 && &p[0] != &tc.in[HeaderLen] {
			t.Errorf("%d: payload does not alias input", i)
		}
	}
}

func TestAppendHeader(t *testing.T) {
	got := AppendHeader([]byte{1}, ActionUpstreamRequest, TypeHandshake)
	if !bytes.Equal(got, []byte{1, 0x4D, 0x54, 0x45, 0x02, 0x01, 4, 254}) {
		t.Fatalf("% x", got)
	}
}

// TestValidateAll checks every (action, type) pair against the rule table.
func TestValidateAll(t *testing.T) {
	valid := 0
	for a := 0; a < 256; a++ {
		for ty := 0; ty < 256; ty++ {
			want := (a <= 5 && ty == 254) || (a == 6 && (ty == 0 || ty == 1))
			err := Header{Action(a), MessageType(ty)}.Validate()
			if (err == nil) != want || (err != nil && err != ErrBadMessageType) {
				t.Fatalf("(%d,%d): %v", a, ty, err)
			}
			if want {
				valid++
			}
		}
	}
	if valid != 8 {
		t.Fatalf("%d valid combinations", valid)
	}
}

func TestStrings(t *testing.T) {
	names := map[Action]string{0: "request", 1: "response", 2: "pairRequest", 3: "pairResponse",
		4: "upstreamConnectionRequest", 5: "upstreamConnectionResponse", 6: "proxyData", 255: "unknown", 7: "action(7)"}
	for a, n := range names {
		if a.String() != n {
			t.Errorf("%d: %q", a, a.String())
		}
	}
	for ty, n := range map[MessageType]string{0: "text", 1: "binary", 254: "handshake", 3: "type(3)"} {
		if ty.String() != n {
			t.Errorf("%d: %q", ty, ty.String())
		}
	}
	for st, n := range map[Strength]string{0: "X25519", 512: "ML-KEM-512", 768: "ML-KEM-768", 1024: "ML-KEM-1024", 5: "strength(5)"} {
		if st.String() != n {
			t.Errorf("%d: %q", st, st.String())
		}
	}
}
