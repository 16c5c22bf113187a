package etcdtest

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Goroutines is a snapshot of the running goroutines, by ID.
type Goroutines map[string]string

// SnapshotGoroutines returns the goroutines running now, the caller's own
// excluded. Take it before starting etcd, clients or servers, and pass it to
// CheckNoGoroutinesLeft after stopping them.
func SnapshotGoroutines() Goroutines {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := make(Goroutines)
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 { // the caller
			continue
		}
		id, _, _ := bytes.Cut(g, []byte(" ["))
		all[string(id)] = string(g)
	}
	return all
}

// CheckNoGoroutinesLeft waits up to 10 s until every goroutine running is
// one of before, and fails the test with the stacks of the others if some
// are left. It cannot tell a leak from a goroutine that another test
// running in parallel started: use it in tests that do not run in
// parallel.
func CheckNoGoroutinesLeft(t testing.TB, before Goroutines) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		for id, stack := range SnapshotGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, stack)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running:\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
