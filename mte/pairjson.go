package mte

import (
	"encoding/base64"
	"strconv"
)

// Limits on pairing payloads, checked before any parsing. The largest
// legitimate pairRequest (ML-KEM-1024, 256-byte personalizations) is about
// 4.8 KiB; the largest pairResponse about 4.3 KiB.
const (
	MaxPairRequest  = 8 << 10
	MaxPairResponse = 8 << 10
	// MinPersonalization and MaxPersonalization bound the personalization
	// strings (printable ASCII); real clients send 64 [A-Za-z0-9].
	MinPersonalization = 1
	MaxPersonalization = 256
)

// JSON field names (docs/PROTOCOL.md §pairRequest, §pairResponse).
const (
	fieldEncPub  = "encoderPublicKey"
	fieldEncPers = "encoderPersonalization"
	fieldDecPub  = "decoderPublicKey"
	fieldDecPers = "decoderPersonalization"
	fieldEncSec  = "encoderSecret"
	fieldEncNon  = "encoderNonce"
	fieldDecSec  = "decoderSecret"
	fieldDecNon  = "decoderNonce"
)

var (
	requestFields  = [4]string{fieldEncPub, fieldEncPers, fieldDecPub, fieldDecPers}
	responseFields = [4]string{fieldEncSec, fieldEncNon, fieldDecSec, fieldDecNon}
)

// parseFields parses data as one JSON object whose listed fields must each
// appear exactly once with a string value; other fields are ignored, and
// field names match exactly (case-sensitive, unlike encoding/json's
// Unmarshal); at most 4 names. what names the payload in errors; kind is the
// sentinel.
func parseFields(data []byte, what string, names []string, kind error) (vals [4]string, err error) {
	s := jsonScanner{b: data}
	if !s.consume('{') {
		return vals, detail("mte: "+what+" is not a JSON object", kind)
	}
	var seen [4]bool
	if !s.consume('}') {
		for {
			key, ok := s.str()
			if !ok || !s.consume(':') {
				return vals, detail("mte: "+what+" is not valid JSON", kind)
			}
			i := 0
			for i < len(names) && names[i] != key {
				i++
			}
			if i == len(names) {
				if !s.skipValue(0) {
					return vals, detail("mte: "+what+" is not valid JSON", kind)
				}
			} else {
				if seen[i] {
					return vals, detail("mte: "+what+" has duplicate field "+key, kind)
				}
				seen[i] = true
				if s.peek() != '"' {
					if !s.skipValue(0) {
						return vals, detail("mte: "+what+" is not valid JSON", kind)
					}
					return vals, detail("mte: "+what+" field "+key+" is not a string", kind)
				}
				if vals[i], ok = s.str(); !ok {
					return vals, detail("mte: "+what+" is not valid JSON", kind)
				}
			}
			if s.consume('}') {
				break
			}
			if !s.consume(',') {
				return vals, detail("mte: "+what+" is not valid JSON", kind)
			}
		}
	}
	if s.ws(); s.i != len(s.b) {
		return vals, detail("mte: "+what+" has data after the JSON object", kind)
	}
	for i := range names {
		if !seen[i] {
			return vals, detail("mte: "+what+" lacks field "+names[i], kind)
		}
	}
	return vals, nil
}

// decodeKey decodes a standard padded base64 field and checks its size.
func decodeKey(field, b64 string, want int, st Strength, kind error) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	// DecodeString skips \r and \n; insist on the canonical length too.
	if err != nil || base64.StdEncoding.EncodedLen(len(b)) != len(b64) {
		return nil, detail("mte: "+field+" is not standard padded base64", kind)
	}
	if len(b) != want {
		return nil, detail("mte: "+field+" is "+strconv.Itoa(len(b))+" bytes, want "+
			strconv.Itoa(want)+" for "+st.String(), ErrKeySize, kind)
	}
	return b, nil
}

// checkPersonalization enforces 1–256 bytes of printable ASCII.
func checkPersonalization(field, s string) error {
	if len(s) < MinPersonalization || len(s) > MaxPersonalization {
		return detail("mte: "+field+" is "+strconv.Itoa(len(s))+" bytes, want 1 to 256", ErrBadPairRequest)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return detail("mte: "+field+" has byte 0x"+strconv.FormatUint(uint64(c), 16)+
				" at offset "+strconv.Itoa(i)+", want printable ASCII", ErrBadPairRequest)
		}
	}
	return nil
}

// pairRequest is a parsed and checked pairRequest.
type pairRequest struct {
	encPub, decPub   []byte
	encPers, decPers string
}

// parsePairRequest parses and checks a pairRequest payload for strength st.
func parsePairRequest(data []byte, st Strength) (pairRequest, error) {
	if len(data) > MaxPairRequest {
		return pairRequest{}, detail("mte: pairRequest is "+strconv.Itoa(len(data))+
			" bytes, limit "+strconv.Itoa(MaxPairRequest), ErrBadPairRequest)
	}
	v, err := parseFields(data, "pairRequest", requestFields[:], ErrBadPairRequest)
	if err != nil {
		return pairRequest{}, err
	}
	var r pairRequest
	if r.encPub, err = decodeKey(fieldEncPub, v[0], st.PublicKeySize(), st, ErrBadPairRequest); err != nil {
		return r, err
	}
	if err = checkPersonalization(fieldEncPers, v[1]); err != nil {
		return r, err
	}
	if r.decPub, err = decodeKey(fieldDecPub, v[2], st.PublicKeySize(), st, ErrBadPairRequest); err != nil {
		return r, err
	}
	if err = checkPersonalization(fieldDecPers, v[3]); err != nil {
		return r, err
	}
	r.encPers, r.decPers = v[1], v[3]
	return r, nil
}

// appendPairRequest appends the pairRequest JSON the SDKs send.
func appendPairRequest(dst, encPub []byte, encPers string, decPub []byte, decPers string) []byte {
	dst = append(dst, `{"`+fieldEncPub+`":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, encPub)
	dst = append(dst, `","`+fieldEncPers+`":`...)
	dst = strconv.AppendQuote(dst, encPers) // printable ASCII: same as JSON
	dst = append(dst, `,"`+fieldDecPub+`":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, decPub)
	dst = append(dst, `","`+fieldDecPers+`":`...)
	dst = strconv.AppendQuote(dst, decPers)
	return append(dst, '}')
}

// appendPairResponse appends the pairResponse JSON: exactly this key order,
// no spaces, nonces as decimal strings.
func appendPairResponse(dst, encSecret []byte, encNonce uint64, decSecret []byte, decNonce uint64) []byte {
	dst = append(dst, `{"`+fieldEncSec+`":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, encSecret)
	dst = append(dst, `","`+fieldEncNon+`":"`...)
	dst = strconv.AppendUint(dst, encNonce, 10)
	dst = append(dst, `","`+fieldDecSec+`":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, decSecret)
	dst = append(dst, `","`+fieldDecNon+`":"`...)
	dst = strconv.AppendUint(dst, decNonce, 10)
	return append(dst, `"}`...)
}

// pairResponse is a parsed and checked pairResponse.
type pairResponse struct {
	encSecret, decSecret []byte
	encNonce, decNonce   uint64
}

// parseNonce accepts 1–20 ASCII digits whose value fits in a uint64.
func parseNonce(field, s string) (uint64, error) {
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

// parsePairResponse parses and checks a pairResponse payload for strength st.
func parsePairResponse(data []byte, st Strength) (pairResponse, error) {
	if len(data) > MaxPairResponse {
		return pairResponse{}, detail("mte: pairResponse is "+strconv.Itoa(len(data))+
			" bytes, limit "+strconv.Itoa(MaxPairResponse), ErrBadPairResponse)
	}
	v, err := parseFields(data, "pairResponse", responseFields[:], ErrBadPairResponse)
	if err != nil {
		return pairResponse{}, err
	}
	var r pairResponse
	if r.encSecret, err = decodeKey(fieldEncSec, v[0], st.SecretSize(), st, ErrBadPairResponse); err != nil {
		return r, err
	}
	if r.encNonce, err = parseNonce(fieldEncNon, v[1]); err != nil {
		return r, err
	}
	if r.decSecret, err = decodeKey(fieldDecSec, v[2], st.SecretSize(), st, ErrBadPairResponse); err != nil {
		return r, err
	}
	if r.decNonce, err = parseNonce(fieldDecNon, v[3]); err != nil {
		return r, err
	}
	return r, nil
}
