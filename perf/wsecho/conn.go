package wsecho

import (
	"errors"

	"github.com/socketx/socketx-server/codec"
)

// maxHead bounds the upgrade request head.
const maxHead = 8 << 10

// conn is the per-connection state: whether the upgrade is done, and
// whether a close frame was echoed. Nothing else survives between reads.
type conn struct {
	upgraded bool
	closing  bool
}

// result is what one process call produced.
type result struct {
	consumed int    // bytes of input to Discard
	out      []byte // bytes to write (appended to the caller's buffer)
	close    bool   // close the connection after writing out
	upgraded bool   // this call completed the upgrade
	frames   int    // data frames echoed
	bytes    int    // their payload bytes
}

var (
	okResponse = codec.AppendResponse(nil, 200, "text/plain", []byte("ok\n"))
)

// process consumes as much of in as forms complete units (the request head,
// then whole frames), unmasking payloads in place, and appends the answers
// to out. in must stay untouched by the caller until it Discards
// result.consumed bytes.
func (st *conn) process(in, out []byte, maxPayload int64) result {
	var r result
	if !st.upgraded {
		var req codec.Request
		n, err := codec.ParseRequest(in, maxHead, &req)
		if errors.Is(err, codec.ErrNeedMore) {
			r.out = out
			return r
		}
		var he *codec.HTTPError
		if err == nil && !req.IsUpgrade() {
			r.out, r.consumed, r.close = append(out, okResponse...), len(in), true
			return r
		}
		if err == nil {
			err = codec.CheckUpgrade(&req)
		}
		if err != nil {
			if !errors.As(err, &he) {
				he = &codec.HTTPError{Status: 400, Reason: "bad request"}
			}
			r.out, r.consumed, r.close = codec.AppendErrorResponse(out, he), len(in), true
			return r
		}
		out = codec.AppendUpgradeResponse(out, req.SecKey, nil)
		st.upgraded, r.upgraded, r.consumed = true, true, n
	}
	lim := codec.Limits{MaxPayload: maxPayload, RequireMask: true}
	for !st.closing {
		b := in[r.consumed:]
		var h codec.Header
		n, err := codec.ParseHeader(b, lim, &h)
		if errors.Is(err, codec.ErrNeedMore) {
			break
		}
		if err != nil {
			var ce *codec.CloseError
			code, reason := codec.CloseProtocolError, "protocol error"
			if errors.As(err, &ce) {
				code, reason = ce.Code, ce.Reason
			}
			out = appendClose(out, code, reason)
			r.consumed, r.close, st.closing = len(in), true, true
			break
		}
		end := n + int(h.Length)
		if len(b) < end {
			break
		}
		payload := b[n:end]
		codec.Unmask(payload, h.Mask, 0)
		r.consumed += end
		switch h.Op {
		case codec.OpText, codec.OpBinary, codec.OpContinuation:
			out = codec.AppendFrameHeader(out, h.Fin, h.Op, len(payload), nil)
			out = append(out, payload...)
			r.frames++
			r.bytes += len(payload)
		case codec.OpPing:
			out = codec.AppendControlFrame(out, codec.OpPong, payload, nil)
		case codec.OpClose:
			out = codec.AppendControlFrame(out, codec.OpClose, payload, nil)
			r.close, st.closing = true, true
		}
	}
	if st.closing {
		r.consumed = len(in)
	}
	r.out = out
	return r
}

func appendClose(out []byte, code uint16, reason string) []byte {
	var p [codec.MaxControlPayload]byte
	return codec.AppendControlFrame(out, codec.OpClose, codec.AppendClosePayload(p[:0], code, reason), nil)
}
