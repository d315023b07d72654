package codec

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// PROXY protocol (HAProxy's spec, versions 1 and 2), as sent by AWS NLB
// and classic ELB in front of the proxy when enabled. ParseProxyHeader
// reads the header at the start of a connection and returns the original
// client address.

var proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxProxyV1 is the longest v1 line (spec §2.1: 107 bytes with CRLF).
const maxProxyV1 = 107

// ErrProxyHeader is a malformed or missing PROXY protocol header; the
// engine answers 400 and closes.
var ErrProxyHeader = &HTTPError{Status: 400, Reason: "invalid PROXY protocol header"}

// ParseProxyHeader parses a PROXY v1 or v2 header at the start of b. It
// returns the header length and the source address; src is invalid (the
// zero AddrPort) for LOCAL/UNKNOWN connections such as load balancer health
// checks, which the caller treats as direct. ErrNeedMore means wait.
func ParseProxyHeader(b []byte) (n int, src netip.AddrPort, err error) {
	if len(b) == 0 {
		return 0, src, ErrNeedMore
	}
	if b[0] == '\r' {
		return parseProxyV2(b)
	}
	return parseProxyV1(b)
}

func parseProxyV1(b []byte) (int, netip.AddrPort, error) {
	var zero netip.AddrPort
	const prefix = "PROXY "
	if len(b) < len(prefix) {
		if !bytes.HasPrefix([]byte(prefix), b) {
			return 0, zero, ErrProxyHeader
		}
		return 0, zero, ErrNeedMore
	}
	if string(b[:len(prefix)]) != prefix {
		return 0, zero, ErrProxyHeader
	}
	end := bytes.Index(b[:min(len(b), maxProxyV1)], []byte("\r\n"))
	if end < 0 {
		if len(b) >= maxProxyV1 {
			return 0, zero, ErrProxyHeader
		}
		return 0, zero, ErrNeedMore
	}
	fields := bytes.Split(b[len(prefix):end], []byte(" "))
	n := end + 2
	if len(fields) >= 1 && string(fields[0]) == "UNKNOWN" {
		return n, zero, nil
	}
	if len(fields) != 5 || (string(fields[0]) != "TCP4" && string(fields[0]) != "TCP6") {
		return 0, zero, ErrProxyHeader
	}
	addr, err := netip.ParseAddr(string(fields[1]))
	if err != nil || (string(fields[0]) == "TCP4") != addr.Is4() {
		return 0, zero, ErrProxyHeader
	}
	port, ok := parsePort(fields[3])
	if !ok {
		return 0, zero, ErrProxyHeader
	}
	if _, ok := parsePort(fields[4]); !ok {
		return 0, zero, ErrProxyHeader
	}
	if _, err := netip.ParseAddr(string(fields[2])); err != nil {
		return 0, zero, ErrProxyHeader
	}
	return n, netip.AddrPortFrom(addr, port), nil
}

func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return uint16(v), v <= 65535
}

func parseProxyV2(b []byte) (int, netip.AddrPort, error) {
	var zero netip.AddrPort
	if len(b) < 16 {
		if !bytes.HasPrefix(proxyV2Sig, b[:min(len(b), len(proxyV2Sig))]) {
			return 0, zero, ErrProxyHeader
		}
		return 0, zero, ErrNeedMore
	}
	if !bytes.Equal(b[:12], proxyV2Sig) || b[12]>>4 != 2 {
		return 0, zero, ErrProxyHeader
	}
	cmd := b[12] & 0x0f
	fam := b[13]
	length := int(binary.BigEndian.Uint16(b[14:16]))
	n := 16 + length
	if len(b) < n {
		return 0, zero, ErrNeedMore
	}
	body := b[16:n]
	switch {
	case cmd == 0x0: // LOCAL: health checks from the balancer itself
		return n, zero, nil
	case cmd != 0x1:
		return 0, zero, ErrProxyHeader
	}
	switch fam {
	case 0x11: // TCP over IPv4
		if len(body) < 12 {
			return 0, zero, ErrProxyHeader
		}
		addr := netip.AddrFrom4([4]byte(body[0:4]))
		return n, netip.AddrPortFrom(addr, binary.BigEndian.Uint16(body[8:10])), nil
	case 0x21: // TCP over IPv6
		if len(body) < 36 {
			return 0, zero, ErrProxyHeader
		}
		addr := netip.AddrFrom16([16]byte(body[0:16]))
		return n, netip.AddrPortFrom(addr, binary.BigEndian.Uint16(body[32:34])), nil
	case 0x00: // UNSPEC
		return n, zero, nil
	}
	return 0, zero, ErrProxyHeader
}
