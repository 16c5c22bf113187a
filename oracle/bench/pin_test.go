package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for list, want := range map[string][]int{"0": {0}, "1": {1}, "0,2": {0, 2}, "0-3,6": {0, 1, 2, 3, 6}, " 64 ": {64}} {
		m, err := parseCPUList(list)
		if err != nil {
			t.Fatalf("%q: %v", list, err)
		}
		var want2 cpuMask
		for _, c := range want {
			want2[c/64] |= 1 << (c % 64)
		}
		if m != want2 {
			t.Errorf("%q: mask %x, want %x", list, m[:2], want2[:2])
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "0-", "1024", "0,,1"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// TestPinProcess pins a running process, every thread, to CPU 0 and reads
// the mask back from /proc.
func TestPinProcess(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := pinProcess(cmd.Process.Pid, "0"); err != nil {
		t.Fatal(err)
	}
	tids, err := threads(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "task", strconv.Itoa(tid), "status"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(status), "Cpus_allowed_list:\t0\n") {
			t.Fatalf("thread %d not pinned to CPU 0:\n%s", tid, status)
		}
	}
	if err := pinProcess(1<<30, "0"); err == nil {
		t.Fatal("pinning a process that does not exist succeeded")
	}
}
