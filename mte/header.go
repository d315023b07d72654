package mte

import "strconv"

// HeaderLen is the size of the SocketX header that starts every
// client↔proxy message: magic 4D 54 45 02, version 01, action, messageType.
const HeaderLen = 7

// Header bytes (docs/PROTOCOL.md §Header).
const (
	magic0, magic1, magic2, magic3 = 0x4D, 0x54, 0x45, 0x02
	headerVersion                  = 0x01
)

// Action is byte 5 of the header.
type Action uint8

// Actions of the SocketX protocol.
const (
	ActionRequest          Action = 0 // client hello, empty payload
	ActionResponse         Action = 1 // server answer to hello, empty payload
	ActionPairRequest      Action = 2 // client pairRequest JSON
	ActionPairResponse     Action = 3 // server pairResponse JSON
	ActionUpstreamRequest  Action = 4 // encoded {"pathname":...}, client seq 0
	ActionUpstreamResponse Action = 5 // server: upstream connected, empty payload
	ActionProxyData        Action = 6 // encoded application message
	ActionUnknown          Action = 255
)

// String returns the protocol name of the action.
func (a Action) String() string {
	switch a {
	case ActionRequest:
		return "request"
	case ActionResponse:
		return "response"
	case ActionPairRequest:
		return "pairRequest"
	case ActionPairResponse:
		return "pairResponse"
	case ActionUpstreamRequest:
		return "upstreamConnectionRequest"
	case ActionUpstreamResponse:
		return "upstreamConnectionResponse"
	case ActionProxyData:
		return "proxyData"
	case ActionUnknown:
		return "unknown"
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// encoded reports whether messages with this action carry an encoded
// (sealed) payload.
func (a Action) encoded() bool {
	return a == ActionUpstreamRequest || a == ActionProxyData
}

// MessageType is byte 6 of the header.
type MessageType uint8

// Message types.
const (
	TypeText      MessageType = 0   // proxyData carrying a text message
	TypeBinary    MessageType = 1   // proxyData carrying a binary message
	TypeHandshake MessageType = 254 // every handshake message (actions 0–5)
)

// String returns the protocol name of the message type.
func (t MessageType) String() string {
	switch t {
	case TypeText:
		return "text"
	case TypeBinary:
		return "binary"
	case TypeHandshake:
		return "handshake"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Header is the decoded action and message type of a message.
type Header struct {
	Action Action
	Type   MessageType
}

// Validate reports whether the (action, messageType) combination is valid:
// actions 0–5 use TypeHandshake, proxyData uses TypeText or TypeBinary, and
// every other combination (including ActionUnknown) is ErrBadMessageType.
func (h Header) Validate() error {
	switch {
	case h.Action <= ActionUpstreamResponse:
		if h.Type == TypeHandshake {
			return nil
		}
	case h.Action == ActionProxyData:
		if h.Type == TypeText || h.Type == TypeBinary {
			return nil
		}
	}
	return ErrBadMessageType
}

// ParseHeader splits a complete SocketX message into its header and payload.
// The payload aliases msg. It checks magic and version only; call
// Header.Validate for the action/type combination.
func ParseHeader(msg []byte) (Header, []byte, error) {
	if len(msg) < HeaderLen {
		return Header{}, nil, ErrShortMessage
	}
	if msg[0] != magic0 || msg[1] != magic1 || msg[2] != magic2 || msg[3] != magic3 {
		return Header{}, nil, ErrBadMagic
	}
	if msg[4] != headerVersion {
		return Header{}, nil, ErrBadVersion
	}
	return Header{Action: Action(msg[5]), Type: MessageType(msg[6])}, msg[HeaderLen:], nil
}

// AppendHeader appends the 7-byte header for (a, t) to dst. It does not
// validate the combination.
func AppendHeader(dst []byte, a Action, t MessageType) []byte {
	return append(dst, magic0, magic1, magic2, magic3, headerVersion, byte(a), byte(t))
}
