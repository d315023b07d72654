package metering

import (
	"cmp"
	"slices"
	"time"
)

// dimension is a billing dimension, named per provider by the reporters.
type dimension uint8

const (
	dimEncoded dimension = iota // successful proxyData encodes (upstream→client)
	dimDecoded                  // successful proxyData decodes (client→upstream)
	numDims
)

func (d dimension) String() string {
	if d == dimEncoded {
		return "encoded"
	}
	return "decoded"
}

const hourSeconds = 3600

// hourOf returns the Unix second of the start of t's UTC hour.
func hourOf(t time.Time) int64 {
	s := t.Unix()
	return s - ((s%hourSeconds)+hourSeconds)%hourSeconds
}

// record is one frozen report: one dimension of one hour. Once frozen its
// quantity and token never change, so every (re)send is byte-identical.
type record struct {
	Hour     int64     `json:"hour"` // Unix second of the UTC hour start
	Dim      dimension `json:"dim"`
	Quantity uint64    `json:"quantity"`
	Token    string    `json:"token"`    // AWS ClientToken / Azure x-ms-requestid
	Attempts int       `json:"attempts"` // failed attempts so far
	NextAt   int64     `json:"next_at"`  // Unix nano of the next attempt
	// Req is the x-ms-requestid of the first Azure request that carried
	// the record and Batch whether that was a batchUsageEvent; both are
	// set and persisted before that request, and every retry reuses them
	// (the same event, in the same kind of request, under the same id).
	// Empty until then, and on AWS.
	Req   string `json:"req,omitempty"`
	Batch bool   `json:"batch,omitempty"`
}

type doneKey struct {
	Hour int64     `json:"hour"`
	Dim  dimension `json:"dim"`
}

// ledger is the meter's accounting: open hourly buckets, frozen records not
// yet final, and the (hour, dimension) pairs already final. It is not safe
// for concurrent use; Meter.mu guards it.
type ledger struct {
	Buckets map[int64]*[numDims]uint64 `json:"-"`
	Pending []record                   `json:"-"`
	Done    map[doneKey]bool           `json:"-"`
}

func newLedger() ledger {
	return ledger{Buckets: map[int64]*[numDims]uint64{}, Done: map[doneKey]bool{}}
}

// frozen reports whether (hour, d) already has a record, final or pending.
func (l *ledger) frozen(hour int64, d dimension) bool {
	if l.Done[doneKey{hour, d}] {
		return true
	}
	for i := range l.Pending {
		if l.Pending[i].Hour == hour && l.Pending[i].Dim == d {
			return true
		}
	}
	return false
}

// add puts n counts of d into hour's bucket, or into the first later hour
// whose record is not frozen yet. It returns how many hours it moved.
func (l *ledger) add(hour int64, d dimension, n uint64) (moved int64) {
	if n == 0 {
		return 0
	}
	h := hour
	for l.frozen(h, d) {
		h += hourSeconds
	}
	b := l.Buckets[h]
	if b == nil {
		b = new([numDims]uint64)
		l.Buckets[h] = b
	}
	b[d] += n
	return (h - hour) / hourSeconds
}

// freeze turns every bucket of an hour before upTo into records, oldest
// first. A quantity above maxQty is capped and the rest carried into the
// next hour (one record per hour is the platforms' rule). It returns the new
// records and the quantity carried.
func (l *ledger) freeze(upTo int64, maxQty uint64, newToken func() string, nextAt int64) (recs []record, carried uint64) {
	for {
		hours := make([]int64, 0, len(l.Buckets))
		for h := range l.Buckets {
			if h < upTo {
				hours = append(hours, h)
			}
		}
		if len(hours) == 0 {
			return recs, carried
		}
		h := slices.Min(hours)
		b := l.Buckets[h]
		delete(l.Buckets, h)
		var carry [numDims]uint64
		for d := range numDims {
			q := b[d]
			if q == 0 {
				continue
			}
			if q > maxQty {
				carry[d] = q - maxQty
				q = maxQty
			}
			r := record{Hour: h, Dim: d, Quantity: q, Token: newToken(), NextAt: nextAt}
			l.Pending = append(l.Pending, r)
			recs = append(recs, r)
		}
		// Only now that hour h has its records does add skip past it.
		for d := range numDims {
			carried += carry[d]
			l.add(h+hourSeconds, d, carry[d])
		}
	}
}

// move is a quantity of one dimension taken from one hour to another.
type move struct {
	From, To int64
	Dim      dimension
	Quantity uint64
}

// fold moves the counts of every hour after cur into the latest hour in
// [oldest, cur] that has no record yet for that dimension (an open bucket
// of that hour just grows). Counts with no such hour stay where they are.
// It returns what it moved, oldest source hour first.
func (l *ledger) fold(cur, oldest int64) (moves []move) {
	var later []int64
	for h := range l.Buckets {
		if h > cur {
			later = append(later, h)
		}
	}
	slices.Sort(later)
	for _, h := range later {
		b := l.Buckets[h]
		for d := range numDims {
			if b[d] == 0 {
				continue
			}
			for to := cur; to >= oldest; to -= hourSeconds {
				if l.frozen(to, d) {
					continue
				}
				tb := l.Buckets[to]
				if tb == nil {
					tb = new([numDims]uint64)
					l.Buckets[to] = tb
				}
				tb[d] += b[d]
				moves = append(moves, move{From: h, To: to, Dim: d, Quantity: b[d]})
				b[d] = 0
				break
			}
		}
		if *b == ([numDims]uint64{}) {
			delete(l.Buckets, h)
		}
	}
	return moves
}

// after returns the non-zero counts of hours after cur, oldest first.
func (l *ledger) after(cur int64) (out []move) {
	for h, b := range l.Buckets {
		for d := range numDims {
			if h > cur && b[d] != 0 {
				out = append(out, move{From: h, Dim: d, Quantity: b[d]})
			}
		}
	}
	slices.SortFunc(out, func(a, b move) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.Dim, b.Dim))
	})
	return out
}

// finish makes (hour, d) final and removes its pending record.
func (l *ledger) finish(hour int64, d dimension) {
	l.Done[doneKey{hour, d}] = true
	l.Pending = slices.DeleteFunc(l.Pending, func(r record) bool { return r.Hour == hour && r.Dim == d })
}

// prune forgets final marks older than the oldest hour any platform accepts.
func (l *ledger) prune(before int64) {
	for k := range l.Done {
		if k.Hour < before {
			delete(l.Done, k)
		}
	}
}

// unreported sums open buckets and pending records per dimension.
func (l *ledger) unreported() (out [numDims]uint64) {
	for _, b := range l.Buckets {
		for d := range numDims {
			out[d] += b[d]
		}
	}
	for _, r := range l.Pending {
		out[r.Dim] += r.Quantity
	}
	return out
}
