package server_test

import (
	"bytes"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// testLogger logs to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// goroutines returns the stack of every goroutine by its header line
// ("goroutine 7"), the caller's own excluded.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := make(map[string]string)
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i == 0 { // the caller
			continue
		}
		id, _, _ := bytes.Cut(g, []byte(" ["))
		all[string(id)] = string(g)
	}
	return all
}

// checkNoGoroutinesLeft waits up to 10 s until every goroutine that is
// running now was already running at before, and fails with the stacks of
// the others if some are left.
func checkNoGoroutinesLeft(t *testing.T, before map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		for id, stack := range goroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, stack)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left running:\n\n%s", len(left), bytes.Join(toBytes(left), []byte("\n\n")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
