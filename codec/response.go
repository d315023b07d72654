package codec

import (
	"bytes"
	"strconv"
)

// AppendUpgradeResponse appends the 101 answer to a WebSocket upgrade:
//
//	HTTP/1.1 101 Switching Protocols\r\n
//	Upgrade: websocket\r\n
//	Connection: Upgrade\r\n
//	Sec-WebSocket-Accept: <base64(SHA-1(secKey + GUID))>\r\n
//	Sec-WebSocket-Protocol: <protocol>\r\n    (only when protocol is not empty)
//	\r\n
//
// secKey is the client's Sec-WebSocket-Key as received (CheckUpgrade
// validated it). protocol must be one value the client offered. Nothing is
// allocated when dst has room for the response (about 160 bytes).
func AppendUpgradeResponse(dst []byte, secKey, protocol []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "...)
	dst = appendAccept(dst, secKey)
	dst = append(dst, "\r\n"...)
	if len(protocol) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = appendSafe(dst, protocol)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// AppendResponse appends a complete HTTP/1.1 response that closes the
// connection:
//
//	HTTP/1.1 <status> <status text>\r\n
//	Content-Type: <contentType>\r\n           (omitted when contentType is "")
//	Content-Length: <len(body)>\r\n
//	Connection: close\r\n
//	<each extraHeaders element>\r\n          (each a full "Name: value" line)
//	\r\n
//	<body>
//
// Control characters (CR, LF, …) in contentType and extraHeaders are dropped,
// so no caller mistake can split the response. With constant extraHeaders
// and enough room in dst nothing is allocated.
func AppendResponse(dst []byte, status int, contentType string, body []byte, extraHeaders ...string) []byte {
	dst = appendHead(dst, status, contentType, len(body))
	for _, h := range extraHeaders {
		dst = appendSafe(dst, h)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// AppendErrorResponse appends the response for a rejected request: status
// e.Status, a text/plain body of e.Reason followed by "\n", Connection:
// close, and for 405 "Allow: GET", for 426 "Sec-WebSocket-Version: 13", for
// 503 "Retry-After: <e.RetryAfter, or 1 when 0>".
func AppendErrorResponse(dst []byte, e *HTTPError) []byte {
	dst = appendHead(dst, e.Status, "text/plain; charset=utf-8", len(e.Reason)+1)
	switch e.Status {
	case 405:
		dst = append(dst, "Allow: GET\r\n"...)
	case 426:
		dst = append(dst, "Sec-WebSocket-Version: 13\r\n"...)
	case 503:
		after := e.RetryAfter
		if after <= 0 {
			after = 1
		}
		dst = append(dst, "Retry-After: "...)
		dst = strconv.AppendInt(dst, int64(after), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, e.Reason...)
	return append(dst, '\n')
}

// HeadOnly returns resp, one complete response that AppendResponse or
// AppendErrorResponse appended to an empty dst, without its body: the
// answer to a HEAD request, which has the same header fields as the GET
// answer, Content-Length included, and no body (RFC 9110 §9.3.2,
// RFC 9112 §6.3). The result aliases resp. The first CRLFCRLF ends the
// head: those functions drop control characters from every value.
func HeadOnly(resp []byte) []byte {
	if i := bytes.Index(resp, []byte("\r\n\r\n")); i >= 0 {
		return resp[:i+4]
	}
	return resp
}

// appendHead appends the status line and the Content-Type, Content-Length
// and Connection: close lines.
func appendHead(dst []byte, status int, contentType string, bodyLen int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(status)...)
	dst = append(dst, "\r\n"...)
	if contentType != "" {
		dst = append(dst, "Content-Type: "...)
		dst = appendSafe(dst, contentType)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(bodyLen), 10)
	return append(dst, "\r\nConnection: close\r\n"...)
}

// appendSafe appends s without its control characters other than HTAB, so
// a value can never end a header line early.
func appendSafe[S ~string | ~[]byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; charClass[c]&classValue != 0 {
			dst = append(dst, c)
		}
	}
	return dst
}

// StatusText returns the reason phrase for the HTTP status codes the proxy
// sends, and "Status" for any other.
func StatusText(status int) string {
	switch status {
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 204:
		return "No Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 426:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Status"
}
