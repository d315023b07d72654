package loadgen

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram geometry: values below 64 ns are exact; above, each power of two
// is split into 32 buckets (about 3 % resolution) up to 2^40 ns (18 min).
const (
	histExact   = 64
	histSub     = 32
	histShifts  = 35
	histBuckets = histExact + histShifts*histSub
)

// Hist is a latency histogram in nanoseconds. Record is safe for concurrent
// use; Merge and the readers must not run concurrently with Record.
type Hist struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
}

func bucketOf(v int64) int {
	if v < histExact {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - 6
	i := histExact + (shift-1)*histSub + int(uint64(v)>>shift) - histSub
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketValue is the midpoint of bucket i.
func bucketValue(i int) int64 {
	if i < histExact {
		return int64(i)
	}
	shift := (i-histExact)/histSub + 1
	m := int64((i-histExact)%histSub + histSub)
	return m<<shift + (int64(1)<<shift)/2
}

// Record adds one duration.
func (h *Hist) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)].Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *Hist) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// Max is the largest recorded value.
func (h *Hist) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the value below which fraction q of the values lie
// (bucket midpoint, capped at Max); 0 when empty.
func (h *Hist) Quantile(q float64) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketValue(i)), h.Max())
		}
	}
	return h.Max()
}

// Merge adds o's values to h.
func (h *Hist) Merge(o *Hist) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// histJSON is the sparse wire form: [bucket, count] pairs and the max.
type histJSON struct {
	Buckets [][2]uint64 `json:"buckets"`
	Max     int64       `json:"max_ns"`
}

// MarshalJSON writes the non-empty buckets.
func (h *Hist) MarshalJSON() ([]byte, error) {
	j := histJSON{Max: h.max.Load(), Buckets: [][2]uint64{}}
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			j.Buckets = append(j.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote (replacing h's contents).
func (h *Hist) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	for _, p := range j.Buckets {
		if p[0] >= histBuckets {
			return fmt.Errorf("loadgen: histogram bucket %d out of range", p[0])
		}
		h.counts[p[0]].Store(p[1])
	}
	h.max.Store(j.Max)
	return nil
}
