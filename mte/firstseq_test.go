package mte

import (
	"encoding/binary"
	"errors"
	"strconv"
	"testing"
)

// TestOpenUpstreamRequestSeqZero: action 4 opens only at seq 0, under a
// strict decoder and under the widest window; another seq is refused before
// decryption (a tampered one too) and leaves the decoder as it was, so the
// seq-0 message still opens afterwards.
func TestOpenUpstreamRequestSeqZero(t *testing.T) {
	body := []byte(`{"pathname":"/room"}`)
	for _, win := range []int{0, 64, MaxWindow} {
		for _, seq := range []uint64{1, 5, 1 << 16, 1<<64 - 2} {
			var d Decoder
			d.init(testCK0, win)
			var e Encoder
			e.init(testCK0)
			e.skipTo(min(seq, 1<<16)) // a real message where ratcheting is cheap
			late := seal(t, &e, ActionUpstreamRequest, TypeHandshake, body)
			binary.BigEndian.PutUint64(late[HeaderLen:], seq) // refused before decryption anyway
			tampered := append([]byte(nil), late...)
			tampered[len(tampered)-1] ^= 1
			for _, m := range [][]byte{late, tampered} {
				_, pt, err := d.OpenUpstreamRequest(m)
				if !errors.Is(err, ErrFirstSeq) || pt != nil {
					t.Fatalf("window %d seq %d: pt %q err %v, want ErrFirstSeq", win, seq, pt, err)
				}
				code, reason := CloseCode(err)
				if want := "mte: action 4 is sequence " + strconv.FormatUint(seq, 10) + ", want 0"; code != CloseProtocolError || reason != want {
					t.Fatalf("window %d seq %d: close %d %q, want 1002 %q", win, seq, code, reason, want)
				}
				if d.Next() != 0 {
					t.Fatalf("window %d seq %d: decoder moved to %d", win, seq, d.Next())
				}
			}
			var e0 Encoder
			e0.init(testCK0)
			h, pt, err := d.OpenUpstreamRequest(seal(t, &e0, ActionUpstreamRequest, TypeHandshake, body))
			if err != nil || h.Action != ActionUpstreamRequest || string(pt) != string(body) {
				t.Fatalf("window %d: seq 0 after refusals: %+v %q %v", win, h, pt, err)
			}
		}
	}
}

// TestOpenUpstreamRequestOtherMessages: for anything but action 4 it is
// Open: proxyData at seq 5 opens (the engine refuses it as out of order),
// and header errors come from Open.
func TestOpenUpstreamRequestOtherMessages(t *testing.T) {
	var d Decoder
	d.init(testCK0, 64)
	if h, _, err := d.OpenUpstreamRequest(msgAt(t, 5, "data")); err != nil || h.Action != ActionProxyData {
		t.Fatalf("proxyData seq 5: %+v %v", h, err)
	}
	if _, _, err := d.OpenUpstreamRequest([]byte{0x4d, 0x54}); !errors.Is(err, ErrShortMessage) {
		t.Fatalf("short: %v", err)
	}
	// Action 4 too short for a seq: Open's error.
	if _, _, err := d.OpenUpstreamRequest(append(AppendHeader(nil, ActionUpstreamRequest, TypeHandshake), 0, 0, 5)); !errors.Is(err, ErrShortMessage) {
		t.Fatalf("action 4 without a seq: %v", err)
	}
}
