package metering

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// runLedgerOps drives a ledger with ops from data (add / freeze / finish /
// fold)
// and checks it against a naive twin that only sums what went in: nothing
// is lost or counted twice, and no (hour, dimension) gets two records.
func runLedgerOps(t *testing.T, data []byte) {
	l := newLedger()
	var in, out [numDims]uint64 // added; frozen into records
	records := map[doneKey]int{}
	n := 0
	const maxQ = 1000
	for len(data) >= 4 {
		op, hour, dim, q := data[0]%4, int64(data[1]%6)*hourSeconds, dimension(data[2]%2), uint64(data[3])*37
		data = data[4:]
		switch op {
		case 0:
			l.add(hour, dim, q)
			in[dim] += q
		case 1:
			recs, _ := l.freeze(hour, maxQ, func() string { n++; return fmt.Sprint(n) }, 0)
			for _, r := range recs {
				if r.Quantity == 0 || r.Quantity > maxQ || r.Hour >= hour {
					t.Fatalf("bad record %+v (freeze before %d)", r, hour)
				}
				k := doneKey{r.Hour, r.Dim}
				if records[k]++; records[k] > 1 {
					t.Fatalf("second record for %+v", k)
				}
				out[r.Dim] += r.Quantity
			}
		case 3:
			oldest := hour - int64(q%4)*hourSeconds
			for _, mv := range l.fold(hour, oldest) {
				if mv.From <= hour || mv.To > hour || mv.To < oldest || l.frozen(mv.To, mv.Dim) {
					t.Fatalf("bad fold %+v (cur %d, oldest %d)", mv, hour, oldest)
				}
			}
		case 2:
			if len(l.Pending) > 0 {
				r := l.Pending[int(q)%len(l.Pending)]
				l.finish(r.Hour, r.Dim)
			}
		}
	}
	open := [numDims]uint64{}
	for h, b := range l.Buckets {
		for d := range numDims {
			open[d] += b[d]
			if b[d] != 0 && l.frozen(h, d) {
				t.Fatalf("open counts in frozen hour %d dim %d", h, d)
			}
		}
	}
	for d := range numDims {
		if in[d] != out[d]+open[d] {
			t.Fatalf("dim %d: added %d, records %d + open %d", d, in[d], out[d], open[d])
		}
	}
}

func TestLedgerNaiveTwin(t *testing.T) {
	var seed [4096]byte
	x := uint32(1)
	for i := range seed {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		seed[i] = byte(x)
	}
	for k := 0; k+256 <= len(seed); k += 64 {
		runLedgerOps(t, seed[k:k+256])
	}
}

func FuzzLedger(f *testing.F) {
	f.Add([]byte{0, 1, 0, 200, 0, 1, 0, 200, 1, 5, 0, 0, 0, 1, 0, 9, 1, 5, 0, 0})
	f.Add(binary.BigEndian.AppendUint32(nil, 0x00020155))
	f.Fuzz(runLedgerOps)
}

// FuzzStateFile: the state parser never panics on any file, and what it
// accepts survives a write/read round trip unchanged.
func FuzzStateFile(f *testing.F) {
	l := newLedger()
	l.add(3600, dimEncoded, 5)
	l.Pending = append(l.Pending, record{Hour: 0, Dim: dimDecoded, Quantity: 3, Token: "t"})
	l.Done[doneKey{7200, dimEncoded}] = true
	good, _ := l.marshal(ProviderAWS)
	f.Add(good)
	f.Add([]byte(`{"version":1,"provider":"aws","buckets":[{"hour":1,"encoded":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := unmarshalLedger(data, ProviderAWS)
		if err != nil {
			return
		}
		b1, err := l.marshal(ProviderAWS)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := unmarshalLedger(b1, ProviderAWS)
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, b1)
		}
		if b2, _ := l2.marshal(ProviderAWS); string(b1) != string(b2) {
			t.Fatalf("round trip differs:\n%s\n%s", b1, b2)
		}
	})
}
