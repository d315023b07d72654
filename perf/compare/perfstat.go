package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// perfGroups maps each tracepoint compare.sh asks perf stat to count to the
// Syscalls field it adds to.
var perfGroups = map[string]int{
	"syscalls:sys_enter_read":        groupRecv,
	"syscalls:sys_enter_recvfrom":    groupRecv,
	"syscalls:sys_enter_readv":       groupRecv,
	"syscalls:sys_enter_recvmsg":     groupRecv,
	"syscalls:sys_enter_write":       groupSend,
	"syscalls:sys_enter_sendto":      groupSend,
	"syscalls:sys_enter_writev":      groupSend,
	"syscalls:sys_enter_sendmsg":     groupSend,
	"syscalls:sys_enter_epoll_wait":  groupEpoll,
	"syscalls:sys_enter_epoll_pwait": groupEpoll,
	"raw_syscalls:sys_enter":         groupTotal,
}

const (
	groupRecv = iota
	groupSend
	groupEpoll
	groupTotal
	numGroups
)

// Syscalls is the system calls a process tree entered during one bench run,
// summed from perf stat's syscall tracepoint counts. A nil field is unknown:
// perf counted none of its events, or one of them was "<not counted>".
type Syscalls struct {
	Recv  *int64 `json:"recv"`  // read + recvfrom + readv + recvmsg
	Send  *int64 `json:"send"`  // write + sendto + writev + sendmsg
	Epoll *int64 `json:"epoll"` // epoll_wait + epoll_pwait
	Total *int64 `json:"total"` // raw_syscalls:sys_enter: every system call
}

func perfstatCmd(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("compare: usage: compare perfstat FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	s, err := parsePerfStat(f)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
	return nil
}

// parsePerfStat sums the output of `perf stat -x, -o FILE -e EVENTS`: one
// line per event, "value,unit,event,run time,percentage,…", after a
// "# started on" comment. An event perf reports "<not supported>" (say
// epoll_wait on arm64, which has only epoll_pwait) adds nothing; one it
// reports "<not counted>" makes its group unknown. Events outside the four
// groups are ignored.
func parsePerfStat(r io.Reader) (Syscalls, error) {
	var sum [numGroups]int64
	var counted, unknown [numGroups]bool
	seen := false
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		g, ok := perfGroups[f[2]]
		if !ok {
			continue
		}
		seen = true
		switch v := strings.TrimSpace(f[0]); v {
		case "<not supported>":
		case "<not counted>":
			unknown[g] = true
		default:
			x, err := strconv.ParseFloat(v, 64)
			// maxCount bounds one count far above any run's (so sums cannot overflow).
			const maxCount = 1 << 50
			if err != nil || !(x >= 0 && x <= maxCount) || sum[g] > math.MaxInt64-maxCount {
				return Syscalls{}, fmt.Errorf("compare: perfstat: line %d: bad count %q", n, v)
			}
			sum[g] += int64(math.Round(x))
			counted[g] = true
		}
	}
	if err := sc.Err(); err != nil {
		return Syscalls{}, err
	}
	if !seen {
		return Syscalls{}, errNoPerfCounts
	}
	var out [numGroups]*int64
	for g := range out {
		if counted[g] && !unknown[g] {
			v := sum[g]
			out[g] = &v
		}
	}
	return Syscalls{Recv: out[groupRecv], Send: out[groupSend], Epoll: out[groupEpoll], Total: out[groupTotal]}, nil
}
