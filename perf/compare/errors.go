package main

import "errors"

// errNoPerfCounts: a perf stat -x, output file holds none of the syscall
// events perfstat sums (perf failed, or was stopped before it counted).
var errNoPerfCounts = errors.New("compare: perfstat: no syscall counts")
