package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// perfSample is `perf stat -x, -o FILE -e … -p PID,PID` output as perf 6.1
// writes it, with epoll_wait unsupported (as on arm64) and recvmsg not
// counted.
const perfSample = `# started on Mon Nov 23 19:59:22 2026

1480000,,syscalls:sys_enter_read,3004121345,100.00,,
1480000,,syscalls:sys_enter_write,3004121345,100.00,,
12,,syscalls:sys_enter_recvfrom,3004121345,100.00,,
0,,syscalls:sys_enter_sendto,3004121345,100.00,,
0,,syscalls:sys_enter_readv,3004121345,100.00,,
3,,syscalls:sys_enter_writev,3004121345,100.00,,
<not counted>,,syscalls:sys_enter_recvmsg,0,0.00,,
5,,syscalls:sys_enter_sendmsg,3004121345,100.00,,
<not supported>,,syscalls:sys_enter_epoll_wait,0,100.00,,
600000,,syscalls:sys_enter_epoll_pwait,3004121345,100.00,,
3700021,,raw_syscalls:sys_enter,3004121345,100.00,,
`

func jsonOf(t *testing.T, s Syscalls) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recv is unknown (recvmsg not counted), epoll_wait adds nothing, the
// rest sum exactly.
func TestParsePerfStat(t *testing.T) {
	s, err := parsePerfStat(strings.NewReader(perfSample))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, s), `{"recv":null,"send":1480008,"epoll":600000,"total":3700021}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	all := strings.Replace(perfSample, "<not counted>,,syscalls:sys_enter_recvmsg,0,0.00", "7,,syscalls:sys_enter_recvmsg,3004121345,100.00", 1)
	if s, err = parsePerfStat(strings.NewReader(all)); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, s), `{"recv":1480019,"send":1480008,"epoll":600000,"total":3700021}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// Only the events perf printed count: a group none of whose events were
// counted is null, and unrelated events are ignored.
func TestParsePerfStatPartial(t *testing.T) {
	in := "# started on x\n\n42,,raw_syscalls:sys_enter,1,100.00,,\n9,,cycles,1,100.00,,\n<not supported>,,syscalls:sys_enter_epoll_wait,0,100.00,,\n"
	s, err := parsePerfStat(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, s), `{"recv":null,"send":null,"epoll":null,"total":42}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestParsePerfStatErrors(t *testing.T) {
	for _, in := range []string{"", "# started on x\n\n", "9,,cycles,1,100.00,,\n", "perf: no such event\n"} {
		if _, err := parsePerfStat(strings.NewReader(in)); !errors.Is(err, errNoPerfCounts) {
			t.Errorf("%q: %v", in, err)
		}
	}
	_, err := parsePerfStat(strings.NewReader("# x\n12,,syscalls:sys_enter_read,1,100.00,,\n-3,,raw_syscalls:sys_enter,1,100.00,,\n"))
	if err == nil || err.Error() != `compare: perfstat: line 3: bad count "-3"` {
		t.Fatalf("negative count: %v", err)
	}
	if err := perfstatCmd(nil); err == nil || err.Error() != "compare: usage: compare perfstat FILE" {
		t.Fatalf("no file: %v", err)
	}
}

// Arbitrary input never panics; a result's known fields are never negative,
// and cutting the input at a line boundary never changes a sum it already
// had for the first part beyond adding the second part's counts.
func FuzzParsePerfStat(f *testing.F) {
	f.Add(perfSample, 40)
	f.Add("1,,raw_syscalls:sys_enter,1,100.00,,\n1e3,,syscalls:sys_enter_read,1,1,,\n", 5)
	f.Fuzz(func(t *testing.T, in string, k int) {
		s, err := parsePerfStat(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range []*int64{s.Recv, s.Send, s.Epoll, s.Total} {
			if v != nil && *v < 0 {
				t.Fatalf("negative count in %s", jsonOf(t, s))
			}
		}
		// Split at a line boundary: the whole file's totals are the parts' sums.
		if k < 0 || k > len(in) {
			return
		}
		i := strings.LastIndexByte(in[:k], '\n') + 1
		a, errA := parsePerfStat(strings.NewReader(in[:i]))
		b, errB := parsePerfStat(strings.NewReader(in[i:]))
		if errA != nil || errB != nil {
			return
		}
		if s.Total != nil && a.Total != nil && b.Total != nil && *s.Total != *a.Total+*b.Total {
			t.Fatalf("total %d != %d + %d", *s.Total, *a.Total, *b.Total)
		}
	})
}
