package mte

import (
	"encoding/base64"
	"encoding/hex"
	"math"
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
	// Server authentication (optional; docs/PROTOCOL.md §6.1).
	fieldSrvKeyID   = "serverKeyId"
	fieldSrvSecret  = "serverSecret"
	fieldSrvConfirm = "serverConfirm"
)

// The required fields come first; the rest are optional.
var (
	requestFields  = [6]string{fieldEncPub, fieldEncPers, fieldDecPub, fieldDecPers, fieldSrvKeyID, fieldSrvSecret}
	responseFields = [5]string{fieldEncSec, fieldEncNon, fieldDecSec, fieldDecNon, fieldSrvConfirm}
)

// requiredPairFields is how many of requestFields and responseFields are
// required.
const requiredPairFields = 4

// maxFields is the most names scanFields takes.
const maxFields = 6

// scanFields parses data as one JSON object whose listed fields each appear
// at most once with a string value, the first required of them exactly
// once; other fields are ignored, and field names match exactly
// (case-sensitive, unlike encoding/json's Unmarshal); at most maxFields
// names. seen reports which appeared. what names the payload in errors;
// kind is the sentinel. The values alias data; only errors allocate.
func scanFields(data []byte, what string, names []string, required int, kind error) (vals [maxFields]jsonString, seen [maxFields]bool, err error) {
	s := jsonScanner{b: data}
	if !s.consume('{') {
		return vals, seen, detail("mte: "+what+" is not a JSON object", kind)
	}
	if !s.consume('}') {
		for {
			key, ok := s.rawStr()
			if !ok || !s.consume(':') {
				return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
			}
			i := 0
			for i < len(names) && !key.equal(names[i]) {
				i++
			}
			if i == len(names) {
				if !s.skipValue(0) {
					return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
				}
			} else {
				if seen[i] {
					return vals, seen, detail("mte: "+what+" has duplicate field "+names[i], kind)
				}
				seen[i] = true
				if s.peek() != '"' {
					if !s.skipValue(0) {
						return vals, seen, detail("mte: "+what+" is not valid JSON", kind)
					}
					return vals, seen, detail("mte: "+what+" field "+names[i]+" is not a string", kind)
				}
				if vals[i], ok = s.rawStr(); !ok {
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

// parseFields is scanFields with the values decoded into strings.
func parseFields(data []byte, what string, names []string, kind error) (vals [4]string, err error) {
	raw, _, err := scanFields(data, what, names, len(names), kind)
	if err != nil {
		return vals, err
	}
	for i := range names {
		vals[i] = raw[i].String()
	}
	return vals, nil
}

// maxKeyB64 is the base64 length of the largest public key or secret.
const maxKeyB64 = (maxSecret + 2) / 3 * 4

// pairScratch is room for parsing a pairing payload without allocating,
// meant to live on the caller's stack: the two decoded keys (pairRequest)
// or secrets (pairResponse), the two personalizations when they arrive
// with JSON escapes, and one escaped base64 value at a time.
type pairScratch struct {
	key  [2][maxSecret + 2]byte      // + 2: base64.Decode writes whole 3-byte groups
	srv  [ServerSecretSize + 2]byte  // serverSecret
	conf [serverConfirmSize + 2]byte // serverConfirm
	text [2][MaxPersonalization]byte
	b64  [maxKeyB64]byte
}

// decodeKey decodes the standard padded base64 field v into dst and checks
// its size; the result is dst[:want]. tmp is room for v's value when it has
// JSON escapes. It allocates only on the way to an error.
func decodeKey(dst []byte, field string, v jsonString, want int, st Strength, kind error, tmp []byte) ([]byte, error) {
	src := v.raw
	if v.esc {
		src = v.appendTo(tmp[:0])
	}
	enc := base64.StdEncoding
	if len(src) == enc.EncodedLen(want) && enc.DecodedLen(len(src)) <= len(dst) {
		if n, err := enc.Decode(dst, src); err == nil && n == want {
			return dst[:n], nil
		}
	}
	// The checks of the general case, for their exact error.
	b, err := enc.DecodeString(string(src))
	// DecodeString skips \r and \n; insist on the canonical length too.
	if err != nil || enc.EncodedLen(len(b)) != len(src) {
		return nil, detail("mte: "+field+" is not standard padded base64", kind)
	}
	if len(b) != want {
		return nil, detail("mte: "+field+" is "+strconv.Itoa(len(b))+" bytes, want "+
			strconv.Itoa(want)+" for "+st.String(), ErrKeySize, kind)
	}
	return append(dst[:0], b...), nil // only if dst was too small for the fast path
}

// checkPersonalization enforces 1–256 bytes of printable ASCII.
func checkPersonalization[T text](field string, s T) error {
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

// pairRequest is a parsed and checked pairRequest. Its fields alias the
// payload and the pairScratch it was parsed with.
type pairRequest struct {
	encPub, decPub   []byte
	encPers, decPers []byte
	// Server authentication, when both serverKeyId and serverSecret are
	// present (auth); neither may come alone.
	auth      bool
	srvKeyID  ServerKeyID
	srvSecret []byte
}

// parsePairRequest parses and checks a pairRequest payload for strength st,
// using sc for the decoded keys. Only errors allocate.
func parsePairRequest(data []byte, st Strength, sc *pairScratch) (pairRequest, error) {
	if len(data) > MaxPairRequest {
		return pairRequest{}, detail("mte: pairRequest is "+strconv.Itoa(len(data))+
			" bytes, limit "+strconv.Itoa(MaxPairRequest), ErrBadPairRequest)
	}
	v, seen, err := scanFields(data, "pairRequest", requestFields[:], requiredPairFields, ErrBadPairRequest)
	if err != nil {
		return pairRequest{}, err
	}
	var r pairRequest
	if r.encPub, err = decodeKey(sc.key[0][:], fieldEncPub, v[0], st.PublicKeySize(), st, ErrBadPairRequest, sc.b64[:]); err != nil {
		return r, err
	}
	r.encPers = v[1].raw
	if v[1].esc {
		r.encPers = v[1].appendTo(sc.text[0][:0])
	}
	if err = checkPersonalization(fieldEncPers, r.encPers); err != nil {
		return r, err
	}
	if r.decPub, err = decodeKey(sc.key[1][:], fieldDecPub, v[2], st.PublicKeySize(), st, ErrBadPairRequest, sc.b64[:]); err != nil {
		return r, err
	}
	r.decPers = v[3].raw
	if v[3].esc {
		r.decPers = v[3].appendTo(sc.text[1][:0])
	}
	if err = checkPersonalization(fieldDecPers, r.decPers); err != nil {
		return r, err
	}
	switch {
	case seen[4] && !seen[5]:
		return r, detail("mte: pairRequest has "+fieldSrvKeyID+" without "+fieldSrvSecret, ErrBadPairRequest, ErrBadServerAuth)
	case seen[5] && !seen[4]:
		return r, detail("mte: pairRequest has "+fieldSrvSecret+" without "+fieldSrvKeyID, ErrBadPairRequest, ErrBadServerAuth)
	case seen[4]:
		if r.srvKeyID, err = parseServerKeyID(v[4]); err != nil {
			return r, err
		}
		if r.srvSecret, err = decodeKey(sc.srv[:], fieldSrvSecret, v[5], ServerSecretSize, Strength768, ErrBadPairRequest, sc.b64[:]); err != nil {
			return r, &detailError{msg: err.Error(), kinds: []error{err, ErrBadServerAuth}}
		}
		r.auth = true
	}
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

// appendServerAuth replaces the closing brace of the pairRequest in dst
// with the server authentication fields:
// ,"serverKeyId":"<16 hex>","serverSecret":"<base64>"}.
func appendServerAuth(dst []byte, id ServerKeyID, secret []byte) []byte {
	dst = append(dst[:len(dst)-1], `,"`+fieldSrvKeyID+`":"`...)
	dst = hex.AppendEncode(dst, id[:])
	dst = append(dst, `","`+fieldSrvSecret+`":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, secret)
	return append(dst, `"}`...)
}

// appendServerConfirm replaces the closing brace of the pairResponse in
// dst with ,"serverConfirm":"<base64 of 32 bytes>"}.
func appendServerConfirm(dst []byte, confirm []byte) []byte {
	dst = append(dst[:len(dst)-1], `,"`+fieldSrvConfirm+`":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, confirm)
	return append(dst, `"}`...)
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

// pairResponse is a parsed and checked pairResponse. Its secrets alias the
// pairScratch it was parsed with.
type pairResponse struct {
	encSecret, decSecret []byte
	encNonce, decNonce   uint64
	confirm              []byte // serverConfirm, nil when absent
}

// parseNonce accepts 1–20 ASCII digits whose value fits in a uint64.
func parseNonce(field string, v jsonString) (uint64, error) {
	var buf [24]byte
	s := v.raw
	if v.esc {
		s = v.appendTo(buf[:0])
	}
	ok := len(s) >= 1 && len(s) <= 20
	var n uint64
	for i := 0; ok && i < len(s); i++ {
		d := uint64(s[i] - '0')
		ok = s[i] >= '0' && s[i] <= '9' && n <= (math.MaxUint64-d)/10
		n = n*10 + d
	}
	if ok {
		return n, nil
	}
	return 0, detail("mte: "+field+" is not a decimal uint64 string", ErrBadPairResponse)
}

// parsePairResponse parses and checks a pairResponse payload for strength st,
// using sc for the decoded secrets. Only errors allocate.
func parsePairResponse(data []byte, st Strength, sc *pairScratch) (pairResponse, error) {
	if len(data) > MaxPairResponse {
		return pairResponse{}, detail("mte: pairResponse is "+strconv.Itoa(len(data))+
			" bytes, limit "+strconv.Itoa(MaxPairResponse), ErrBadPairResponse)
	}
	v, seen, err := scanFields(data, "pairResponse", responseFields[:], requiredPairFields, ErrBadPairResponse)
	if err != nil {
		return pairResponse{}, err
	}
	var r pairResponse
	if r.encSecret, err = decodeKey(sc.key[0][:], fieldEncSec, v[0], st.SecretSize(), st, ErrBadPairResponse, sc.b64[:]); err != nil {
		return r, err
	}
	if r.encNonce, err = parseNonce(fieldEncNon, v[1]); err != nil {
		return r, err
	}
	if r.decSecret, err = decodeKey(sc.key[1][:], fieldDecSec, v[2], st.SecretSize(), st, ErrBadPairResponse, sc.b64[:]); err != nil {
		return r, err
	}
	if r.decNonce, err = parseNonce(fieldDecNon, v[3]); err != nil {
		return r, err
	}
	if seen[4] {
		// A malformed confirmation is one that does not verify.
		if r.confirm, err = decodeKey(sc.conf[:], fieldSrvConfirm, v[4], serverConfirmSize, Strength768,
			ErrBadPairResponse, sc.b64[:]); err != nil {
			return r, detail("mte: "+fieldSrvConfirm+" is not the base64 of 32 bytes", ErrBadPairResponse, ErrServerAuth, ErrServerAuthMismatch)
		}
	}
	return r, nil
}
