package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// Sample is the resource use of a process tree at one instant.
type Sample struct {
	Procs  int     `json:"procs"`
	RSSKiB int64   `json:"rss_kib"` // sum of VmRSS (shared pages count once per process)
	PSSKiB int64   `json:"pss_kib"` // sum of Pss (shared pages divided between sharers)
	CPUSec float64 `json:"cpu_sec"` // sum of utime+stime
	// SysR and SysW count read-class (read, readv, recvmsg…) and
	// write-class (write, writev, sendmsg…) system calls, from
	// /proc/<pid>/io syscr and syscw (readable by the process owner or root).
	SysR int64 `json:"syscr"`
	SysW int64 `json:"syscw"`
}

func sampleCmd(args []string) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "root process id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pid <= 0 {
		return fmt.Errorf("compare: sample needs -pid")
	}
	s, err := sampleTree(*pid)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
	return nil
}

// sampleTree sums root and every descendant.
func sampleTree(root int) (Sample, error) {
	pids := []int{root}
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		pid, ppid, _, ok := readStat(p)
		if ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	for i := 0; i < len(pids); i++ {
		pids = append(pids, children[pids[i]]...)
	}
	var s Sample
	for _, pid := range pids {
		_, _, ticks, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
		if !ok {
			if pid == root {
				return s, fmt.Errorf("compare: no process %d", root)
			}
			continue
		}
		s.Procs++
		s.CPUSec += float64(ticks) / clockTicks
		s.RSSKiB += readKiB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
		s.PSSKiB += readKiB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
		s.SysR += readKiB(fmt.Sprintf("/proc/%d/io", pid), "syscr:")
		s.SysW += readKiB(fmt.Sprintf("/proc/%d/io", pid), "syscw:")
	}
	return s, nil
}

// readStat returns pid, ppid and utime+stime from a /proc/<pid>/stat file.
func readStat(path string) (pid, ppid int, ticks int64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, false
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, 0, 0, false
	}
	pid, _ = strconv.Atoi(strings.TrimSpace(string(b[:bytes.IndexByte(b, '(')])))
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 { // f[0] is field 3 (state)
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return pid, ppid, ut + st, true
}

// readKiB returns the "<key> N [kB]" value of a /proc file, 0 if absent.
func readKiB(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, key) {
			fields := strings.Fields(line[len(key):])
			if len(fields) > 0 {
				v, _ := strconv.ParseInt(fields[0], 10, 64)
				return v
			}
		}
	}
	return 0
}
