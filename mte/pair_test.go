package mte

import (
	"bytes"
	"fmt"
	"strings"
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

// TestRespondEscapedRequest: a pairRequest whose encoder escaped '/' as \/
// (Swift's JSONSerialization does) or letters as \u escapes gets the same
// response, byte for byte, as the plain one, and pairs.
func TestRespondEscapedRequest(t *testing.T) {
	for _, st := range allStrengths {
		p := mustProfile(t, Params{Strength: st})
		in, err := NewInitiator(p, detReader("escaped "+st.String()))
		if err != nil {
			t.Fatal(err)
		}
		var s Session
		want, err := s.Respond(p, in.Request(), detReader("escaped server"), nil)
		if err != nil {
			t.Fatal(err)
		}
		plain := string(in.Request())
		for _, req := range []string{
			strings.ReplaceAll(plain, "/", `\/`),
			strings.ReplaceAll(strings.ReplaceAll(plain, "A", `\u0041`), "z", `\u007A`),
		} {
			if req == plain {
				t.Fatalf("%v: nothing escaped", st)
			}
			got, err := s.Respond(p, []byte(req), detReader("escaped server"), nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%v: %v, response differs: %v", st, err, !bytes.Equal(got, want))
			}
			var cs Session
			if err := in.Finish(got, &cs); err != nil || cs.EEID() != s.EEID() {
				t.Fatalf("%v: finish %v", st, err)
			}
		}
	}
}
