package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procSample is what /proc says of a process at one moment.
type procSample struct {
	ok     bool
	cpuSec float64 // user + system, since the process started
	rss    int64   // resident set, bytes
}

// sampleProc reads /proc/PID/stat and /proc/PID/status; pid 0 (not
// given) or an unreadable process gives a sample that is not ok.
func sampleProc(pid int) procSample {
	if pid <= 0 {
		return procSample{}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return procSample{}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}
	}
	return procSample{ok: true, cpuSec: cpu, rss: parseStatusKB(status, "VmRSS:") * 1024}
}

// parseStatCPU returns utime+stime in seconds. The command name (field 2)
// may hold spaces and parentheses: fields are counted after the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in /proc stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')': field 3 (state) is f[0]; utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc stat times")
	}
	return float64(u+s) / clockTicks, nil
}

// parseStatusKB returns the kB value of a /proc status line, 0 if absent.
func parseStatusKB(status []byte, key string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// procDelta is what a process used during a phase.
type procDelta struct {
	ok     bool
	cpuSec float64
	rss    int64 // at the end of the phase
}

func deltaOf(before, after procSample) procDelta {
	if !before.ok || !after.ok {
		return procDelta{}
	}
	return procDelta{ok: true, cpuSec: after.cpuSec - before.cpuSec, rss: after.rss}
}
