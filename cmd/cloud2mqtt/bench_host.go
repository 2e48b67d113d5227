package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Some virtual machines run the kernel's DAMON with a physical-address
// reclaim scheme: its thread (kdamond.N) scans memory every sample interval
// and takes a core for 15–30 ms each time (every 0.54 s on the development
// machine), which shows in the bench's p99 as bursts of late states. The
// bench reports the CPU those threads used during the latency step so a run
// says whether it was measured on a quiet machine.

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on
// every architecture Linux builds for with the generic ABI).
const userHZ = 100

// kdamondCPU returns the CPU time used so far by the kernel's DAMON threads
// and how many there are.
func kdamondCPU() (time.Duration, int) {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		comm, cpu, ok := parseProcStat(string(b))
		if ok && strings.HasPrefix(comm, "kdamond") {
			total += cpu
			n++
		}
	}
	return total, n
}

// parseProcStat reads the command name and the user plus system CPU time of
// one /proc/<pid>/stat line. The name is in parentheses and may itself hold
// spaces or parentheses, so the fields are counted from its last ')'.
func parseProcStat(line string) (comm string, cpu time.Duration, ok bool) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return "", 0, false
	}
	// after the name: state(3) ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime(14) stime(15)
	f := strings.Fields(line[end+1:])
	if len(f) < 13 {
		return "", 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, false
	}
	return line[open+1 : end], time.Duration(utime+stime) * time.Second / userHZ, true
}
