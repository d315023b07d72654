package codec

import (
	"encoding/binary"
	"unicode/utf8"
)

// Close codes of RFC 6455 §7.4.1 and the IANA registry.
const (
	CloseNormal             uint16 = 1000
	CloseGoingAway          uint16 = 1001
	CloseProtocolError      uint16 = 1002
	CloseUnsupportedData    uint16 = 1003
	CloseNoStatus           uint16 = 1005 // never on the wire: "no code received"
	CloseAbnormal           uint16 = 1006 // never on the wire: "no close frame"
	CloseInvalidPayload     uint16 = 1007
	ClosePolicyViolation    uint16 = 1008
	CloseMessageTooBig      uint16 = 1009
	CloseMandatoryExtension uint16 = 1010
	CloseInternalError      uint16 = 1011
	CloseServiceRestart     uint16 = 1012
	CloseTryAgainLater      uint16 = 1013
	CloseBadGateway         uint16 = 1014
	CloseTLSHandshake       uint16 = 1015 // never on the wire: TLS failure
)

// MaxCloseReason is the longest close reason that fits a control frame
// beside the 2-byte code.
const MaxCloseReason = MaxControlPayload - 2

// ParseClosePayload parses the payload of a close frame (unmasked).
// An empty payload gives CloseNoStatus (1005) and no reason. reason aliases p.
// Errors are *CloseError:
//
//	1002 "invalid close payload"         a 1-byte payload
//	1002 "invalid close code"            a code that may not be sent (see ValidCloseCode)
//	1007 "invalid UTF-8 in close reason" a reason that is not UTF-8
func ParseClosePayload(p []byte) (code uint16, reason []byte, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, nil, nil
	case 1:
		return 0, nil, errBadClosePayload
	}
	code = binary.BigEndian.Uint16(p)
	if !ValidCloseCode(code) {
		return 0, nil, errBadCloseCode
	}
	reason = p[2:]
	if !utf8.Valid(reason) {
		return 0, nil, errBadCloseUTF8
	}
	return code, reason, nil
}

// ValidCloseCode reports whether code may appear in a close frame: 1000–1003,
// 1007–1014 and 3000–4999. Codes below 1000, 1004 (reserved), 1005, 1006,
// 1015 (never sent), 1016–2999 (unassigned) and 5000 and above are invalid.
func ValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// AppendClosePayload appends a close frame payload: code in network order,
// then reason cut to MaxCloseReason (123) bytes at a UTF-8 character
// boundary. For CloseNoStatus (1005) it appends nothing: the close frame
// then has an empty payload, which is how "no status" travels. Pass codes
// through ForwardableCode first when they come from the other leg.
func AppendClosePayload(dst []byte, code uint16, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	if len(reason) > MaxCloseReason {
		cut := MaxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	dst = binary.BigEndian.AppendUint16(dst, code)
	return append(dst, reason...)
}

// ForwardableCode maps a close code received on one leg (or produced
// locally) to the code to send on the other leg:
//
//	valid codes (ValidCloseCode)  unchanged
//	1005 no status                1005: AppendClosePayload writes an empty payload
//	1006 abnormal closure         1001 going away (the peer vanished)
//	1015 TLS handshake failure    1011 internal error
//	anything else                 1011 internal error
func ForwardableCode(code uint16) uint16 {
	switch {
	case ValidCloseCode(code), code == CloseNoStatus:
		return code
	case code == CloseAbnormal:
		return CloseGoingAway
	}
	return CloseInternalError
}
