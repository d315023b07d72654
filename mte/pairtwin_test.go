package mte

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// The naive twins of the pairing parsers (pairjson.go) and of
// printableASCII (jsonscan.go), and the tests and fuzz target that hold the
// fast code to them.
//
// The naive twin of the pairing parsers: the string-based code they
// replaced, kept verbatim in spirit (decode every JSON string into a Go
// string, base64.DecodeString, strconv.ParseUint). The allocation-free
// parsers must agree with it on every input: same values, same error text.

func naiveStr(s *jsonScanner) (string, bool) {
	if !s.consume('"') {
		return "", false
	}
	var out []byte
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return "", false
			}
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", false
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					r2, ok := s.hex4()
					if !ok {
						return "", false
					}
					if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
						r = c
					} else {
						r = utf8.RuneError
						s.i = save
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return "", false
}

// naiveParseFields: the first required names must appear, the rest may;
// seen reports which did.
func naiveParseFields(data []byte, what string, names []string, required int, kind error) (vals [maxFields]string, seen [maxFields]bool, err error) {
	s := jsonScanner{b: data}
	if !s.consume('{') {
		return vals, seen, detail("mte: "+what+" is not a JSON object", kind)
	}
	if !s.consume('}') {
		for {
			key, ok := naiveStr(&s)
			if !ok || !s.consume(':') {
				return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
			}
			i := 0
			for i < len(names) && names[i] != key {
				i++
			}
			if i == len(names) {
				if !s.skipValue(0) {
					return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
				}
			} else {
				if seen[i] {
					return vals, seen, detail("mte: "+what+" has duplicate field "+key, kind)
				}
				seen[i] = true
				if s.peek() != '"' {
					if !s.skipValue(0) {
						return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
					}
					return vals, seen, detail("mte: "+what+" field "+key+" is not a string", kind)
				}
				if vals[i], ok = naiveStr(&s); !ok {
					return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
				}
			}
			if s.consume('}') {
				break
			}
			if !s.consume(',') {
				return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
			}
		}
	}
	if s.ws(); s.i != len(s.b) {
		return vals, seen, detail("mte: "+what+" has data after the JSON object", kind)
	}
	for i := range names[:required] {
		if !seen[i] {
			return vals, seen, detail("mte: "+what+" lacks field "+names[i], kind)
		}
	}
	return vals, seen, nil
}

func naiveDecodeKey(field, b64 string, want int, st Strength, kind error) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || base64.StdEncoding.EncodedLen(len(b)) != len(b64) {
		return nil, detail("mte: "+field+" is not standard padded base64", kind)
	}
	if len(b) != want {
		return nil, detail("mte: "+field+" is "+strconv.Itoa(len(b))+" bytes, want "+
			strconv.Itoa(want)+" for "+st.String(), ErrKeySize, kind)
	}
	return b, nil
}

func naiveParseNonce(field, s string) (uint64, error) {
	ok := len(s) >= 1 && len(s) <= 20
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= '0' && s[i] <= '9'
	}
	if ok {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, detail("mte: "+field+" is not a decimal uint64 string", ErrBadPairResponse)
}

// naiveRequest returns the decoded fields of a pairRequest, or the error.
func naiveRequest(data []byte, st Strength) (encPub, encPers, decPub, decPers string, err error) {
	if len(data) > MaxPairRequest {
		return "", "", "", "", detail("mte: pairRequest is "+strconv.Itoa(len(data))+
			" bytes, limit "+strconv.Itoa(MaxPairRequest), ErrBadPairRequest)
	}
	v, seen, err := naiveParseFields(data, "pairRequest", requestFields[:], 4, ErrBadPairRequest)
	if err != nil {
		return "", "", "", "", err
	}
	ep, err := naiveDecodeKey(fieldEncPub, v[0], st.PublicKeySize(), st, ErrBadPairRequest)
	if err != nil {
		return "", "", "", "", err
	}
	if err = checkPersonalization(fieldEncPers, v[1]); err != nil {
		return "", "", "", "", err
	}
	dp, err := naiveDecodeKey(fieldDecPub, v[2], st.PublicKeySize(), st, ErrBadPairRequest)
	if err != nil {
		return "", "", "", "", err
	}
	if err = checkPersonalization(fieldDecPers, v[3]); err != nil {
		return "", "", "", "", err
	}
	if seen[4] != seen[5] {
		a, b := "serverKeyId", "serverSecret"
		if seen[5] {
			a, b = b, a
		}
		return "", "", "", "", detail("mte: pairRequest has "+a+" without "+b, ErrBadPairRequest)
	}
	if seen[4] {
		if _, err := hex.DecodeString(v[4]); err != nil || len(v[4]) != 16 || strings.ToLower(v[4]) != v[4] {
			return "", "", "", "", detail("mte: serverKeyId is not 16 lowercase hex digits", ErrBadPairRequest)
		}
		if _, err := naiveDecodeKey("serverSecret", v[5], 1088, Strength768, ErrBadPairRequest); err != nil {
			return "", "", "", "", err
		}
	}
	return string(ep), v[1], string(dp), v[3], nil
}

// naiveResponse returns the decoded fields of a pairResponse, or the error.
func naiveResponse(data []byte, st Strength) (encSec string, encNonce uint64, decSec string, decNonce uint64, err error) {
	if len(data) > MaxPairResponse {
		return "", 0, "", 0, detail("mte: pairResponse is "+strconv.Itoa(len(data))+
			" bytes, limit "+strconv.Itoa(MaxPairResponse), ErrBadPairResponse)
	}
	v, seen, err := naiveParseFields(data, "pairResponse", responseFields[:], 4, ErrBadPairResponse)
	if err != nil {
		return "", 0, "", 0, err
	}
	es, err := naiveDecodeKey(fieldEncSec, v[0], st.SecretSize(), st, ErrBadPairResponse)
	if err != nil {
		return "", 0, "", 0, err
	}
	if encNonce, err = naiveParseNonce(fieldEncNon, v[1]); err != nil {
		return "", 0, "", 0, err
	}
	ds, err := naiveDecodeKey(fieldDecSec, v[2], st.SecretSize(), st, ErrBadPairResponse)
	if err != nil {
		return "", 0, "", 0, err
	}
	if decNonce, err = naiveParseNonce(fieldDecNon, v[3]); err != nil {
		return "", 0, "", 0, err
	}
	if seen[4] {
		if _, err := naiveDecodeKey("serverConfirm", v[4], 32, Strength768, ErrBadPairResponse); err != nil {
			return "", 0, "", 0, detail("mte: serverConfirm is not the base64 of 32 bytes", ErrBadPairResponse)
		}
	}
	return string(es), encNonce, string(ds), decNonce, nil
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// checkPairTwins compares the parsers with their naive twins on data.
func checkPairTwins(t *testing.T, st Strength, data []byte) {
	t.Helper()
	var sc pairScratch
	req, err := parsePairRequest(data, st, &sc)
	ep, epers, dp, dpers, nerr := naiveRequest(data, st)
	if errText(err) != errText(nerr) {
		t.Fatalf("%v pairRequest %q: error %q, naive %q", st, data, errText(err), errText(nerr))
	}
	if err == nil && (string(req.encPub) != ep || string(req.encPers) != epers ||
		string(req.decPub) != dp || string(req.decPers) != dpers) {
		t.Fatalf("%v pairRequest %q: values differ from naive", st, data)
	}
	if err != nil && !errors.Is(err, ErrBadPairRequest) {
		t.Fatalf("%v pairRequest: %v is not ErrBadPairRequest", st, err)
	}
	if err != nil && errors.Is(err, ErrKeySize) != errors.Is(nerr, ErrKeySize) {
		t.Fatalf("%v pairRequest: ErrKeySize differs for %v", st, err)
	}
	sc = pairScratch{}
	resp, err := parsePairResponse(data, st, &sc)
	es, en, ds, dn, nerr := naiveResponse(data, st)
	if errText(err) != errText(nerr) {
		t.Fatalf("%v pairResponse %q: error %q, naive %q", st, data, errText(err), errText(nerr))
	}
	if err == nil && (string(resp.encSecret) != es || resp.encNonce != en ||
		string(resp.decSecret) != ds || resp.decNonce != dn) {
		t.Fatalf("%v pairResponse %q: values differ from naive", st, data)
	}
	// ParsePathname shares scanFields.
	p, err := ParsePathname(data)
	v, _, nerr := naiveParseFields(data, "pathname request", pathnameFields[:], len(pathnameFields), ErrBadPathname)
	if nerr == nil && (p != v[0]) && err == nil {
		t.Fatalf("pathname %q: %q, naive %q", data, p, v[0])
	}
	if nerr != nil && errText(err) != errText(nerr) {
		t.Fatalf("pathname %q: error %q, naive %q", data, errText(err), errText(nerr))
	}
}

// pairTwinSeeds are requests and responses of every strength, plus the
// same with JSON escapes that real encoders produce (\/ in base64, \u
// escapes in names and values) and near misses.
func pairTwinSeeds(t testing.TB) (seeds [][]byte) {
	for _, st := range allStrengths {
		p := mustProfile(t, Params{Strength: st})
		in, err := NewInitiator(p, detReader("twin "+st.String()))
		if err != nil {
			t.Fatal(err)
		}
		var s Session
		resp, err := s.Respond(p, in.Request(), detReader("twin server"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range [][]byte{in.Request(), resp} {
			str := string(m)
			seeds = append(seeds, m,
				[]byte(strings.ReplaceAll(str, "/", `\/`)),
				[]byte(strings.ReplaceAll(str, "A", `\u0041`)),
				[]byte(strings.Replace(str, "Key", `K\u0065y`, 1)),
				[]byte(strings.Replace(str, "Secret", `S\u0065cret`, 1)),
				[]byte(strings.Replace(str, "Nonce\":\"", "Nonce\":\"\\u0030", 1)),
				[]byte(strings.Replace(str, "=", `\n=`, 1)),
				[]byte(strings.Replace(str, "=\"", "\"", 1)),
				[]byte(strings.Replace(str, "\":\"", "\":\"QR==", 1)),
				[]byte(strings.Replace(str, "\":\"", "\" : \"\\/", 1)),
				[]byte(strings.Replace(str, "}", `,"x":"\ud83d\ude00\ud800é"}`, 1)),
				[]byte(strings.Replace(str, "{", `{"encoderPersonalization":"x",`, 1)),
				[]byte(strings.Replace(str, "{", `{"decoderNonce":"1",`, 1)),
			)
		}
	}
	return seeds
}

func TestPairParseTwin(t *testing.T) {
	seeds := pairTwinSeeds(t)
	seeds = append(seeds,
		[]byte(`{"pathname":"\/a\u00e9"}`),
		[]byte(`{"encoderNonce":"18446744073709551615","encoderSecret":"","decoderSecret":"","decoderNonce":"99999999999999999999"}`),
		[]byte(`{"\u0065ncoderPublicKey":"a","encoderPublicKey":"b"}`),
		[]byte(`{"encoderPublicKey\u0000":"a"}`),
		[]byte(`{"encoderPublicKey":"\ud800"}`),
		[]byte("{\"encoderPublicKey\":\"\xc3\"}"),
		[]byte(`{"encoderPersonalization":"a\u0000b","encoderPublicKey":"AAAA","decoderPublicKey":"AAAA","decoderPersonalization":"b"}`),
	)
	for _, st := range allStrengths {
		for _, d := range seeds {
			checkPairTwins(t, st, d)
			for _, k := range []int{1, len(d) / 3, len(d) / 2, len(d) - 1} {
				if k > 0 && k < len(d) {
					checkPairTwins(t, st, d[:k])
				}
			}
		}
	}
}

// FuzzPairParseTwin checks the allocation-free pairRequest, pairResponse
// and pathname parsers against their naive twins.
func FuzzPairParseTwin(f *testing.F) {
	for i, s := range pairTwinSeeds(f) {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		checkPairTwins(t, allStrengths[int(sel)%len(allStrengths)], data)
	})
}

// naivePrintableASCII is printableASCII one byte at a time.
func naivePrintableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7f {
			return false
		}
	}
	return true
}

func TestPrintableASCIINaive(t *testing.T) {
	base := []byte(`0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/= ~` + "\x7f")
	for _, bad := range []byte{0x00, 0x1f, 0x0a, 0x20, 0x7f, 0x80, 0xc3, 0xff} {
		for off := 0; off < 24; off++ {
			for n := 0; off+n <= len(base); n++ {
				for at := -1; at < n; at++ {
					b := bytes.Clone(base[off : off+n])
					if at >= 0 {
						b[at] = bad
					}
					if got, want := printableASCII(b), naivePrintableASCII(b); got != want {
						t.Fatalf("%q: %v, naive %v", b, got, want)
					}
				}
			}
		}
	}
}
