// Command compare is the Go half of perf/compare.sh:
//
//	compare sample -pid PID        one JSON line: RSS, PSS and CPU time of PID and all its descendants
//	compare report -in results.jsonl -md out.md -svg out.svg [-title ...] [-params ...] [-versions ...]
//	compare perfstat FILE          one JSON object: recv/send/epoll/total syscalls from perf stat -x, output
//
// sample reads /proc/<pid>/status (VmRSS), /proc/<pid>/smaps_rollup (Pss)
// and /proc/<pid>/stat (utime+stime) for the process tree rooted at PID, so
// nginx's master and workers count together. report turns the records
// compare.sh collected into the results table (with ratios against nginx and
// HAProxy) and a side-by-side SVG chart. perfstat sums the syscall tracepoint
// counts `perf stat -x,` wrote during one throughput run into the Syscalls
// object compare.sh stores in the record.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compare sample|report|perfstat [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sample":
		err = sampleCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:])
	case "perfstat":
		err = perfstatCmd(os.Args[2:])
	default:
		err = fmt.Errorf("compare: unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
