package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// CPU pinning, for a fair measurement on a small machine: the servers and
// their etcd members on some CPUs, the load generator on others, so that
// the generator's CPU (reading 1,000 TLS streams costs as much as a
// server's fan-out) does not take turns with the server it measures.
//
// A process is pinned thread by thread (sched_setaffinity applies to one
// thread); the threads it starts after inherit the mask of the thread
// that starts them, so pinning every thread once is enough (the listing
// is repeated until no unpinned thread is left, for threads started
// meanwhile). taskset -a -cp LIST PID does the same.

// maxCPUs bounds the CPU numbers of a list (the mask's size).
const maxCPUs = 1024

// cpuMask is a kernel cpu_set_t.
type cpuMask [maxCPUs / 64]uint64

// parseCPUList reads a CPU list as taskset -c and cpuset(7) write it:
// "1", "0,2", "0-3", "0-3,6".
func parseCPUList(list string) (cpuMask, error) {
	var m cpuMask
	if strings.TrimSpace(list) == "" {
		return m, errors.New("empty CPU list")
	}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return m, fmt.Errorf("CPU list %q: %q is not a CPU number", list, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return m, fmt.Errorf("CPU list %q: %q is not a CPU number", list, hi)
			}
		}
		if a < 0 || b < a || b >= maxCPUs {
			return m, fmt.Errorf("CPU list %q: %q is not a range of CPUs 0 to %d", list, part, maxCPUs-1)
		}
		for c := a; c <= b; c++ {
			m[c/64] |= 1 << (c % 64)
		}
	}
	return m, nil
}

// pinProcess pins every thread of process pid to the CPUs of list.
func pinProcess(pid int, list string) error {
	m, err := parseCPUList(list)
	if err != nil {
		return err
	}
	pinned := map[int]bool{}
	for range 100 { // until a listing finds no new thread
		tids, err := threads(pid)
		if err != nil {
			return fmt.Errorf("pinning process %d: %w", pid, err)
		}
		fresh := 0
		for _, tid := range tids {
			if pinned[tid] {
				continue
			}
			if err := setAffinity(tid, &m); err != nil {
				if errors.Is(err, syscall.ESRCH) { // the thread ended
					continue
				}
				return fmt.Errorf("pinning thread %d of process %d to CPUs %s: %w", tid, pid, list, err)
			}
			pinned[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return fmt.Errorf("pinning process %d: it keeps starting threads", pid)
}

// threads lists the thread ids of process pid.
func threads(pid int) ([]int, error) {
	entries, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

func setAffinity(tid int, m *cpuMask) error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if errno != 0 {
		return errno
	}
	return nil
}
