package mte

import (
	"bytes"
	"fmt"
	"testing"
)

func TestRoundTripAllStrengths(t *testing.T) {
	large := make([]byte, 70<<10)
	for i := range large {
		large[i] = byte(i % 251)
	}
	for _, st := range allStrengths {
		for _, win := range []int{0, 64, 1000} {
			t.Run(fmt.Sprintf("%v/w%d", st, win), func(t *testing.T) {
				p := mustProfile(t, Params{Strength: st, Window: win})
				cs, ss := pair(t, p, p, st.String())
				if cs.EEID() != ss.EEID() || cs.EEID() == (EEID{}) {
					t.Fatalf("eeid client %v server %v", cs.EEID(), ss.EEID())
				}
				msgs := []struct {
					a  Action
					ty MessageType
					pt []byte
				}{
					{ActionUpstreamRequest, TypeHandshake, []byte(`{"pathname":"\/chat?x=1"}`)},
					{ActionProxyData, TypeText, []byte("hello")},
					{ActionProxyData, TypeBinary, []byte{0, 1, 2, 255}},
					{ActionProxyData, TypeText, nil},
					{ActionProxyData, TypeBinary, large},
				}
				for dir, pr := range [][2]*Session{{cs, ss}, {ss, cs}} {
					for i, m := range msgs {
						enc := seal(t, pr[0], m.a, m.ty, m.pt)
						if len(enc) != HeaderLen+Overhead+len(m.pt) {
							t.Fatalf("dir %d msg %d: len %d", dir, i, len(enc))
						}
						h, got, err := pr[1].Open(enc)
						if err != nil {
							t.Fatalf("dir %d msg %d: %v", dir, i, err)
						}
						if h != (Header{m.a, m.ty}) || !bytes.Equal(got, m.pt) {
							t.Fatalf("dir %d msg %d: got %v %q", dir, i, h, got[:min(len(got), 16)])
						}
					}
				}
			})
		}
	}
}
