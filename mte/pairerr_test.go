package mte

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

func b64(n int, fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

func reqJSON(encPub, encPers, decPub, decPers string) string {
	return `{"encoderPublicKey":"` + encPub + `","encoderPersonalization":"` + encPers +
		`","decoderPublicKey":"` + decPub + `","decoderPersonalization":"` + decPers + `"}`
}

func TestRespondRejects(t *testing.T) {
	p512 := mustProfile(t, Params{Strength: 512})
	in, err := NewInitiator(p512, detReader("rejects"))
	if err != nil {
		t.Fatal(err)
	}
	goodReq := string(in.Request())
	k := base64.StdEncoding.EncodeToString(in.enc.pub)
	pers := in.encPers
	// A key whose first coefficient is 0xFFF ≥ q = 3329: fails the FIPS 203
	// §7.2 modulus check.
	bad := bytes.Clone(in.enc.pub)
	bad[0], bad[1] = 0xFF, bad[1]|0x0F
	badMod := base64.StdEncoding.EncodeToString(bad)
	tests := []struct {
		name string
		st   Strength
		req  string
		err  string
		is   []error
	}{
		{"not object", 512, `[]`, "mte: pairRequest is not a JSON object", nil},
		{"empty", 512, ``, "mte: pairRequest is not a JSON object", nil},
		{"truncated", 512, goodReq[:40], "mte: pairRequest is not valid JSON", nil},
		{"trailing", 512, goodReq + `{}`, "mte: pairRequest has data after the JSON object", nil},
		{"missing", 512, `{"encoderPublicKey":"` + k + `","encoderPersonalization":"x","decoderPublicKey":"` + k + `"}`,
			"mte: pairRequest lacks field decoderPersonalization", nil},
		{"case", 512, strings.Replace(goodReq, "decoderPersonalization", "DecoderPersonalization", 1),
			"mte: pairRequest lacks field decoderPersonalization", nil},
		{"duplicate", 512, `{"encoderPublicKey":"a","encoderPublicKey":"b"}`, "mte: pairRequest has duplicate field encoderPublicKey", nil},
		{"non-string", 512, `{"encoderPublicKey":1}`, "mte: pairRequest field encoderPublicKey is not a string", nil},
		{"null", 512, `{"encoderPublicKey":null}`, "mte: pairRequest field encoderPublicKey is not a string", nil},
		{"bad b64", 512, reqJSON("!!!!", pers, k, pers), "mte: encoderPublicKey is not standard padded base64", nil},
		{"unpadded", 512, reqJSON(strings.TrimRight(b64(799, 1), "="), pers, k, pers), "mte: encoderPublicKey is not standard padded base64", nil},
		{"newline", 512, reqJSON(k[:8]+`\n`+k[8:], pers, k, pers), "mte: encoderPublicKey is not standard padded base64", nil},
		{"768 key to 512", 512, reqJSON(b64(1184, 1), pers, k, pers),
			"mte: encoderPublicKey is 1184 bytes, want 800 for ML-KEM-512", []error{ErrKeySize}},
		{"512 key to 768", 768, reqJSON(k, pers, k, pers),
			"mte: encoderPublicKey is 800 bytes, want 1184 for ML-KEM-768", []error{ErrKeySize}},
		{"512 key to 1024 dec", 1024, reqJSON(b64(1568, 0), pers, k, pers),
			"mte: decoderPublicKey is 800 bytes, want 1568 for ML-KEM-1024", []error{ErrKeySize}},
		{"512 key to x25519", 0, reqJSON(k, pers, k, pers),
			"mte: encoderPublicKey is 800 bytes, want 32 for X25519", []error{ErrKeySize}},
		{"empty pers", 512, reqJSON(k, "", k, pers), "mte: encoderPersonalization is 0 bytes, want 1 to 256", nil},
		{"long pers", 512, reqJSON(k, pers, k, strings.Repeat("a", 257)), "mte: decoderPersonalization is 257 bytes, want 1 to 256", nil},
		{"ctl pers", 512, reqJSON(k, "ab\\ncd", k, pers), "mte: encoderPersonalization has byte 0xa at offset 2, want printable ASCII", nil},
		{"utf8 pers", 512, reqJSON(k, pers, k, "é"), "mte: decoderPersonalization has byte 0xc3 at offset 0, want printable ASCII", nil},
		{"modulus", 512, reqJSON(badMod, pers, k, pers), "mte: encoderPublicKey is not a valid ML-KEM-512 key (FIPS 203 modulus check)", nil},
		{"low order", 0, reqJSON(b64(32, 0), pers, b64(32, 9), pers), "mte: encoderPublicKey is a low-order X25519 point", nil},
		{"too big", 512, `{"x":"` + strings.Repeat("a", MaxPairRequest) + `"}`, "mte: pairRequest is 8200 bytes, limit 8192", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Session
			dst := []byte("keep")
			out, err := s.Respond(mustProfile(t, Params{Strength: tc.st}), []byte(tc.req), detReader("x"), dst)
			if err == nil || err.Error() != tc.err || !errors.Is(err, ErrBadPairRequest) {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
			for _, e := range tc.is {
				if !errors.Is(err, e) {
					t.Fatalf("%v is not %v", err, e)
				}
			}
			if string(out) != "keep" || s.Paired() {
				t.Fatalf("state changed: %q %v", out, s.Paired())
			}
			if code, reason := CloseCode(err); code != 1002 || reason != tc.err[:min(len(tc.err), 123)] {
				t.Fatalf("close %d %q", code, reason)
			}
		})
	}
	// Unknown fields are ignored; field order is free.
	var s Session
	req := `{"x":{"y":[1,2]},"decoderPersonalization":"` + pers + `","decoderPublicKey":"` + k +
		`","encoderPersonalization":"` + pers + `","encoderPublicKey":"` + k + `","z":null}`
	if _, err := s.Respond(p512, []byte(req), detReader("x"), nil); err != nil {
		t.Fatal(err)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("entropy gone") }

func TestRespondRandFailure(t *testing.T) {
	p := mustProfile(t, Params{Strength: 768})
	in, _ := NewInitiator(p, detReader("c"))
	var s Session
	_, err := s.Respond(p, in.Request(), failReader{}, nil)
	if code, reason := CloseCode(err); err == nil || code != 1011 || reason != "mte: internal error" {
		t.Fatalf("%v %d %q", err, code, reason)
	}
	if _, err := NewInitiator(p, io.LimitReader(detReader("c"), 10)); err == nil {
		t.Fatal("short rand accepted")
	}
}

func TestFinishRejects(t *testing.T) {
	p := mustProfile(t, Params{Strength: 512})
	in, _ := NewInitiator(p, detReader("c"))
	var ss Session
	resp, err := ss.Respond(p, in.Request(), detReader("s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	good := string(resp)
	sec := b64(768, 3)
	tests := []struct{ resp, err string }{
		{`{}`, "mte: pairResponse lacks field encoderSecret"},
		{strings.Replace(good, `"encoderNonce":"`, `"encoderNonce":"-`, 1), "mte: encoderNonce is not a decimal uint64 string"},
		{`{"encoderSecret":"` + sec + `","encoderNonce":1,"decoderSecret":"` + sec + `","decoderNonce":"1"}`, "mte: pairResponse field encoderNonce is not a string"},
		{`{"encoderSecret":"` + sec + `","encoderNonce":"18446744073709551616","decoderSecret":"` + sec + `","decoderNonce":"1"}`, "mte: encoderNonce is not a decimal uint64 string"},
		{`{"encoderSecret":"` + sec + `","encoderNonce":"1","decoderSecret":"` + sec + `","decoderNonce":""}`, "mte: decoderNonce is not a decimal uint64 string"},
		{`{"encoderSecret":"` + sec + `","encoderNonce":"1","decoderSecret":"` + sec + `","decoderNonce":"+1"}`, "mte: decoderNonce is not a decimal uint64 string"},
		{`{"encoderSecret":"` + b64(1088, 1) + `","encoderNonce":"1","decoderSecret":"` + sec + `","decoderNonce":"1"}`, "mte: encoderSecret is 1088 bytes, want 768 for ML-KEM-512"},
	}
	for i, tc := range tests {
		var cs Session
		err := in.Finish([]byte(tc.resp), &cs)
		if err == nil || err.Error() != tc.err || !errors.Is(err, ErrBadPairResponse) || cs.Paired() {
			t.Errorf("%d: %v, want %q", i, err, tc.err)
		}
	}
	var cs Session
	if err := in.Finish(resp, &cs); err != nil || cs.EEID() != ss.EEID() {
		t.Fatal(err)
	}
}

func TestCloseCode(t *testing.T) {
	long := detail("mte: "+strings.Repeat("é", 100), ErrBadPairRequest)
	tests := []struct {
		err    error
		code   uint16
		reason string
	}{
		{nil, 1000, ""},
		{ErrAuth, 1008, "mte: message authentication failed"},
		{ErrReplay, 1008, "mte: replayed message"},
		{ErrOutsideWindow, 1008, "mte: sequence number outside window"},
		{ErrBadMagic, 1002, "mte: bad header magic"},
		{ErrBadVersion, 1002, "mte: unsupported header version"},
		{ErrShortMessage, 1002, "mte: message too short"},
		{ErrBadMessageType, 1002, "mte: invalid action/messageType combination"},
		{ErrNotPaired, 1002, "mte: not paired"},
		{ErrBadPathname, 1002, "mte: bad pathname request"},
		{long, 1002, "mte: " + strings.Repeat("é", 59)},
		{errors.New("boom"), 1011, "mte: internal error"},
	}
	for _, tc := range tests {
		code, reason := CloseCode(tc.err)
		if code != tc.code || reason != tc.reason || len(reason) > 123 {
			t.Errorf("%v: %d %q", tc.err, code, reason)
		}
	}
}

func TestEEIDText(t *testing.T) {
	id := EEID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	b, _ := id.AppendText([]byte("eeid="))
	if id.String() != "0123456789abcdef" || string(b) != "eeid=0123456789abcdef" {
		t.Fatalf("%s %s", id, b)
	}
	if n := testing.AllocsPerRun(10, func() { b, _ = id.AppendText(b[:0]) }); n != 0 {
		t.Fatalf("AppendText allocs %v", n)
	}
}
