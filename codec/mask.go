package codec

import "github.com/gobwas/ws"

// Unmask XORs payload in place with the masking key (RFC 6455 §5.3). offset
// is how many payload bytes of the same frame came before payload, so a
// payload can be unmasked in pieces. Masking and unmasking are the same
// operation: use Unmask to mask an outgoing payload too.
func Unmask(payload []byte, mask [4]byte, offset int) {
	ws.Cipher(payload, mask, offset&3)
}
