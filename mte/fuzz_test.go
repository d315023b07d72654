package mte

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"
)

func isSentinel(err error, allowed ...error) bool {
	for _, a := range allowed {
		if errors.Is(err, a) {
			return true
		}
	}
	return false
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x4D, 0x54, 0x45, 0x02, 0x01, 6, 1, 'x'}, uint8(3))
	f.Add([]byte{0x4D, 0x54, 0x45, 0x02, 0x01, 2, 254}, uint8(7))
	f.Add([]byte{0x4D, 0x54}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		h, p, err := ParseHeader(data)
		if err != nil {
			if !isSentinel(err, ErrShortMessage, ErrBadMagic, ErrBadVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(p) != len(data)-HeaderLen || !bytes.Equal(AppendHeader(nil, h.Action, h.Type), data[:HeaderLen]) {
			t.Fatal("header round trip")
		}
		if verr := h.Validate(); verr != nil && verr != ErrBadMessageType {
			t.Fatal(verr)
		}
		// Split input: a prefix of at least HeaderLen bytes gives the same header.
		if n := int(k); n >= HeaderLen && n <= len(data) {
			h2, _, err2 := ParseHeader(data[:n])
			if err2 != nil || h2 != h {
				t.Fatal("prefix parse differs")
			}
		} else if n < HeaderLen {
			if _, _, err2 := ParseHeader(data[:min(n, len(data))]); err2 != ErrShortMessage && n < len(data) {
				t.Fatalf("short prefix: %v", err2)
			}
		}
	})
}

func FuzzOpen(f *testing.F) {
	var e Encoder
	e.init(testCK0)
	for i := 0; i < 3; i++ {
		m, _ := e.Seal(nil, ActionProxyData, TypeBinary, []byte("seed message"))
		f.Add(uint16(0), m)
		f.Add(uint16(8), m)
	}
	m, _ := e.Seal(nil, ActionUpstreamRequest, TypeHandshake, []byte(`{"pathname":"/"}`))
	f.Add(uint16(4), m)
	f.Add(uint16(1), []byte{0x4D, 0x54, 0x45, 0x02, 0x01, 6, 0})
	f.Fuzz(func(t *testing.T, win uint16, msg []byte) {
		var d Decoder
		d.init(testCK0, int(win))
		orig := bytes.Clone(msg)
		h, pt, err := d.Open(msg)
		if err != nil {
			if !isSentinel(err, ErrShortMessage, ErrBadMagic, ErrBadVersion, ErrBadMessageType,
				ErrAuth, ErrReplay, ErrOutsideWindow) {
				t.Fatalf("unexpected error %v", err)
			}
			if d.win.next != 0 || d.epoch != 0 {
				t.Fatal("state changed on error")
			}
			return
		}
		// Accepted: it must be exactly what the encoder produces.
		var e Encoder
		e.init(testCK0)
		e.skipTo(d.win.next - 1)
		again, err := e.Seal(nil, h.Action, h.Type, pt)
		if err != nil || !bytes.Equal(again, orig) {
			t.Fatal("accepted a message the encoder did not produce")
		}
	})
}

// FuzzRespond: the server side of pairing under any pairRequest, sel
// choosing the configured exchange (an index into allStrengths). The corpus
// holds each exchange's request under its own configuration, and X-Wing's
// and ML-KEM-768's (1216- and 1184-byte keys) under each other's.
func FuzzRespond(f *testing.F) {
	for i, st := range allStrengths {
		p, _ := NewProfile(Params{Strength: st})
		in, _ := NewInitiator(p, detReader("fuzz"))
		f.Add(uint8(i), in.Request())
		switch st {
		case Strength768:
			f.Add(uint8(slices.Index(allStrengths, StrengthXWing)), in.Request())
		case StrengthXWing:
			f.Add(uint8(slices.Index(allStrengths, Strength768)), in.Request())
		}
	}
	f.Add(uint8(2), []byte(`{"encoderPublicKey":"","encoderPublicKey":1}`))
	f.Add(uint8(0), []byte(`{"x":[{"y":"\u0000"}]}`))
	// Server authentication (sel bit 7: the proxy holds the key).
	key, _ := GenerateServerPrivateKey(detReader("fuzz server key"))
	for i, st := range allStrengths {
		p, _ := NewProfile(Params{Strength: st})
		in, _ := NewPinnedInitiator(p, key.Public(), detReader("fuzz"))
		f.Add(uint8(i)|0x80, in.Request())
		f.Add(uint8(i), in.Request())
	}
	f.Fuzz(func(t *testing.T, sel uint8, req []byte) {
		st := allStrengths[int(sel&0x7f)%len(allStrengths)]
		params := Params{Strength: st}
		if sel&0x80 != 0 {
			params.ServerKeys = []*ServerPrivateKey{key}
		}
		p, _ := NewProfile(params)
		var s Session
		resp, err := s.Respond(p, req, detReader("fuzz server"), nil)
		if err != nil {
			if s.Paired() || len(resp) != 0 {
				t.Fatalf("paired on %v", err)
			}
			code, reason := CloseCode(err)
			switch {
			case errors.Is(err, ErrUnknownServerKey):
				if sel&0x80 == 0 || code != ClosePolicyViolated || reason != "mte: unknown server key" {
					t.Fatalf("unknown key: %v, close %d %q", err, code, reason)
				}
			case !errors.Is(err, ErrBadPairRequest) || code != CloseProtocolError || len(reason) > 123:
				t.Fatalf("unexpected %v, close %d %q", err, code, reason)
			}
			return
		}
		pr, err := parsePairResponse(resp, st, new(pairScratch))
		if err != nil || !s.Paired() {
			t.Fatalf("own response does not parse: %v", err)
		}
		if pr.confirm != nil && sel&0x80 == 0 {
			t.Fatalf("serverConfirm %x for %q", pr.confirm, req)
		}
	})
}

// FuzzFinish: the client side of pairing under any pairResponse, sel
// choosing the exchange. Errors are ErrBadPairResponse, never a panic; an
// X-Wing or ML-KEM secret of the right size always decapsulates (implicit
// rejection), so a forged one pairs to keys the server does not have.
func FuzzFinish(f *testing.F) {
	for i, st := range allStrengths {
		p, _ := NewProfile(Params{Strength: st})
		in, _ := NewInitiator(p, detReader("fuzz finish"))
		var s Session
		resp, _ := s.Respond(p, in.Request(), detReader("fuzz finish server"), nil)
		f.Add(uint8(i), resp)
		f.Add(uint8(i), withConfirm(resp)) // serverConfirm to an unpinned client: refused
	}
	f.Add(uint8(4), []byte(`{"encoderSecret":"","encoderNonce":"1","decoderSecret":"","decoderNonce":"1"}`))
	f.Fuzz(func(t *testing.T, sel uint8, resp []byte) {
		st := allStrengths[int(sel)%len(allStrengths)]
		p, _ := NewProfile(Params{Strength: st})
		in, err := NewInitiator(p, detReader("fuzz finish"))
		if err != nil {
			t.Fatal(err)
		}
		var s Session
		if err := in.Finish(resp, &s); err != nil {
			if !errors.Is(err, ErrBadPairResponse) || s.Paired() {
				t.Fatalf("unexpected %v", err)
			}
			return
		}
		if !s.Paired() {
			t.Fatal("Finish succeeded unpaired")
		}
	})
}

func FuzzParsePathname(f *testing.F) {
	f.Add([]byte(`{"pathname":"\/chat?room=dogs"}`))
	f.Add([]byte(`{"pathname":""}`))
	f.Add([]byte(`{"pathname":"/a","pathname":"/b"}`))
	f.Add([]byte(`{"Pathname":"/a"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePathname(data)
		if err != nil {
			if !errors.Is(err, ErrBadPathname) {
				t.Fatalf("unexpected %v", err)
			}
			return
		}
		if p != "" && p[0] != '/' && p[0] != '?' {
			t.Fatalf("accepted %q", p)
		}
		// Naive twin: encoding/json agrees on the value.
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			t.Fatal("accepted invalid JSON")
		}
		var s string
		if json.Unmarshal(m["pathname"], &s) != nil || s != p {
			t.Fatalf("encoding/json says %q, ParsePathname %q", s, p)
		}
	})
}

// FuzzJSONScanner checks the strict scanner against encoding/json.
func FuzzJSONScanner(f *testing.F) {
	for _, s := range []string{`"a\u00e9\ud83d\ude00\ud800x\/"`, `{"a":[1,-0.5e+3,true,null,{"b":"c"}]}`, `01`, `"\x01"`, `[1,]`, `{"a" 1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := jsonScanner{b: data}
		ok := s.skipValue(0)
		if ok {
			s.ws()
		}
		ours := ok && s.i == len(data)
		theirs := json.Valid(data)
		if ours && !theirs {
			t.Fatalf("scanner accepts invalid JSON %q", data)
		}
		if theirs && !ours && utf8.Valid(data) && len(data) <= maxJSONDepth {
			t.Fatalf("scanner rejects valid JSON %q", data)
		}
		s = jsonScanner{b: data}
		if v, ok := s.str(); ok && s.i == len(data) {
			var want string
			if json.Unmarshal(data, &want) != nil || want != v {
				t.Fatalf("string %q: got %q want %q", data, v, want)
			}
		}
	})
}
