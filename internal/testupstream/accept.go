package testupstream

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// accept records the upgrade request and upgrades it. The request is recorded
// before the 101 response is written, so a client that has its handshake
// answer sees it in Requests. Origins are not checked: the proxy forwards
// the client's Origin, which names the proxy's site, not the upstream's.
func (s *server) accept(cfg *config, w http.ResponseWriter, r *http.Request, ao websocket.AcceptOptions) (*websocket.Conn, bool) {
	s.record(r, selectSubprotocol(r.Header, cfg.subprotocols))
	ao.Subprotocols = cfg.subprotocols
	ao.InsecureSkipVerify = true
	c, err := websocket.Accept(w, r, &ao)
	if err != nil {
		return nil, false
	}
	c.SetReadLimit(cfg.readLimit)
	return c, true
}

// selectSubprotocol mirrors coder/websocket's choice: the first of ours that
// the client offered, compared case-insensitively.
func selectSubprotocol(h http.Header, ours []string) string {
	for _, sp := range ours {
		for _, line := range h.Values("Sec-WebSocket-Protocol") {
			for _, offered := range strings.Split(line, ",") {
				if strings.EqualFold(strings.TrimSpace(offered), sp) {
					return sp
				}
			}
		}
	}
	return ""
}

// deliver hands a copy of a received message to the WithMessages channel,
// if any. It reports false when the server closed first.
func deliver(ctx context.Context, cfg *config, typ websocket.MessageType, data []byte) bool {
	if cfg.messages == nil {
		return true
	}
	select {
	case cfg.messages <- Message{Type: typ, Data: append([]byte(nil), data...)}:
		return true
	case <-ctx.Done():
		return false
	}
}

// Ending is how one upstream connection ended, as the server saw it.
type Ending struct {
	// Code is the close code the peer sent, or -1 when the connection ended
	// without a close frame (EOF, reset, read limit, server Close).
	Code websocket.StatusCode
	// Reason is the close reason the peer sent.
	Reason string
	// Err is the error that ended the connection.
	Err error
}

func endingOf(err error) Ending {
	e := Ending{Code: -1, Err: err}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		e.Code, e.Reason = ce.Code, ce.Reason
	}
	return e
}

// report sends v on ch without blocking; a full channel drops v (the
// channels are buffered generously for tests).
func report[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// eventBuffer is the capacity of the servers' event channels.
const eventBuffer = 1024
