package codec

import "testing"

func TestAssembler(t *testing.T) {
	type step struct {
		fin    bool
		op     OpCode
		length int64
		kind   Kind
		code   uint16 // expected close code, 0 for none
		reason string
	}
	const max = 100
	tests := []struct {
		name  string
		steps []step
	}{
		{"whole text and binary", []step{
			{true, OpText, 5, KindWhole, 0, ""},
			{true, OpBinary, 100, KindWhole, 0, ""},
		}},
		{"fragmented with interleaved control", []step{
			{false, OpText, 3, KindFirst, 0, ""},
			{true, OpPing, 5, KindControl, 0, ""},
			{false, OpContinuation, 0, KindMiddle, 0, ""},
			{true, OpPong, 0, KindControl, 0, ""},
			{true, OpContinuation, 2, KindLast, 0, ""},
			{true, OpBinary, 1, KindWhole, 0, ""},
		}},
		{"fragmented exactly at the limit", []step{
			{false, OpBinary, 60, KindFirst, 0, ""},
			{true, OpContinuation, 40, KindLast, 0, ""},
		}},
		{"fragmented over the limit", []step{
			{false, OpBinary, 60, KindFirst, 0, ""},
			{false, OpContinuation, 40, KindMiddle, 0, ""},
			{true, OpContinuation, 1, 0, 1009, "message too big"},
		}},
		{"whole over the limit", []step{
			{true, OpText, 101, 0, 1009, "message too big"},
		}},
		{"first over the limit", []step{
			{false, OpText, 101, 0, 1009, "message too big"},
		}},
		{"continuation without start", []step{
			{true, OpContinuation, 1, 0, 1002, "unexpected continuation frame"},
		}},
		{"continuation after last", []step{
			{false, OpText, 1, KindFirst, 0, ""},
			{true, OpContinuation, 1, KindLast, 0, ""},
			{false, OpContinuation, 1, 0, 1002, "unexpected continuation frame"},
		}},
		{"new message during fragmented", []step{
			{false, OpText, 1, KindFirst, 0, ""},
			{true, OpBinary, 1, 0, 1002, "expected continuation frame"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Assembler
			for i, st := range tt.steps {
				h := Header{Fin: st.fin, Op: st.op, Length: st.length}
				kind, err := a.Next(&h, max)
				if st.code != 0 {
					ce, ok := err.(*CloseError)
					if !ok || ce.Code != st.code || ce.Reason != st.reason || kind != 0 {
						t.Fatalf("step %d: %v, %v; want close %d %q", i, kind, err, st.code, st.reason)
					}
					return
				}
				if err != nil || kind != st.kind {
					t.Fatalf("step %d: %v, %v; want %v", i, kind, err, st.kind)
				}
			}
		})
	}
}

func TestAssemblerState(t *testing.T) {
	var a Assembler
	if a.InProgress() || a.Op() != OpContinuation || a.Size() != 0 {
		t.Fatal("zero value not idle")
	}
	a.Next(&Header{Op: OpBinary, Length: 7}, 0)
	a.Next(&Header{Op: OpContinuation, Length: 3}, 0)
	if !a.InProgress() || a.Op() != OpBinary || a.Size() != 10 {
		t.Fatalf("in progress: %v %v %d", a.InProgress(), a.Op(), a.Size())
	}
	if k, _ := a.Next(&Header{Fin: true, Op: OpContinuation, Length: 5}, 0); k != KindLast {
		t.Fatalf("kind %v", k)
	}
	// Op and Size still describe the message KindLast ended.
	if a.InProgress() || a.Op() != OpBinary || a.Size() != 15 {
		t.Fatalf("after last: %v %v %d", a.InProgress(), a.Op(), a.Size())
	}
	// No limit: sizes near MaxInt64 must not overflow into acceptance.
	var b Assembler
	b.Next(&Header{Op: OpBinary, Length: 1<<63 - 10}, 0)
	if _, err := b.Next(&Header{Op: OpContinuation, Length: 20}, 0); err != errTooBig {
		t.Fatalf("overflow: %v", err)
	}
	a.Reset()
	if a != (Assembler{}) {
		t.Fatal("Reset")
	}
}

func TestAssemblerAllocs(t *testing.T) {
	var a Assembler
	first := Header{Op: OpText, Length: 10}
	last := Header{Fin: true, Op: OpContinuation, Length: 10}
	allocs := testing.AllocsPerRun(100, func() {
		a.Next(&first, 1<<20)
		a.Next(&last, 1<<20)
	})
	if allocs != 0 {
		t.Errorf("allocs = %v", allocs)
	}
}
