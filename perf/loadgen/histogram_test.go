package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Every value maps to a bucket whose range holds it, buckets are monotone,
// and the midpoint is within 1/32 of the value (naive twin: the exact value).
func TestBucketResolution(t *testing.T) {
	prev := 0
	for v := int64(0); v < 1<<40; v = v + 1 + v/97 {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("bucketOf(%d) = %d < previous %d", v, i, prev)
		}
		prev = i
		mid := bucketValue(i)
		if v < histExact && mid != v {
			t.Fatalf("exact range: bucketValue(bucketOf(%d)) = %d", v, mid)
		}
		if diff := float64(mid-v) / float64(max(v, 1)); diff > 1.0/32 || diff < -1.0/32 {
			t.Fatalf("value %d bucket %d midpoint %d: error %.3f", v, i, mid, diff)
		}
	}
	if bucketOf(1<<62) != histBuckets-1 || bucketOf(-5) != 0 {
		t.Fatal("out-of-range values must clamp")
	}
}

// Quantiles agree with a sorted slice (the naive twin) within the bucket
// resolution, and Merge equals recording everything in one histogram.
func TestQuantileAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var a, b, all Hist
	var vals []int64
	for i := 0; i < 20000; i++ {
		v := int64(r.ExpFloat64() * 500e3)
		vals = append(vals, v)
		all.Record(time.Duration(v))
		if i%2 == 0 {
			a.Record(time.Duration(v))
		} else {
			b.Record(time.Duration(v))
		}
	}
	a.Merge(&b)
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(q*float64(len(vals))+0.5)-1]
		got := int64(a.Quantile(q))
		if d := float64(got-want) / float64(want); d > 0.04 || d < -0.04 {
			t.Errorf("q%.3f = %d, sorted gives %d", q, got, want)
		}
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged q%.3f %v != single %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != 20000 || a.Max() != time.Duration(vals[len(vals)-1]) {
		t.Fatalf("count %d max %v", a.Count(), a.Max())
	}
}

func TestRecordAllocs(t *testing.T) {
	var h Hist
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234567) }); n != 0 {
		t.Fatalf("Record allocates %.1f", n)
	}
}
