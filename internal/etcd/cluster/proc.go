// Package cluster runs, for tests, real etcd clusters and regis servers as
// separate processes of the regis binary on 127.0.0.1 (`regis etcd`,
// `regis serve`), so that they can be killed for real (SIGKILL) and
// restarted on their data. The binary is built once per test binary
// (Binary). Every wait is bounded; every process is killed when its test
// ends, and with the test binary (Pdeathsig).
package cluster

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of a regis binary built from this module, built
// on the first call of the test binary (go build into a temporary
// directory) and shared by the later ones. RemoveBinary removes it.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv("REGIS_TEST_BINARY"); p != "" { // a binary built beforehand
			build.path = p
			return
		}
		build.dir, build.err = os.MkdirTemp("", "regis-bin-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "regis")
		cmd := exec.Command("go", "build", "-o", build.path, "github.com/regis-dev/regis/cmd/regis")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			build.err = fmt.Errorf("go build regis: %v\n%s", err, out.String())
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// RemoveBinary removes the binary Binary built: for TestMain, after the
// tests.
func RemoveBinary() {
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// FreePort returns a port of 127.0.0.1 free when asked.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proc is a process of the regis binary: its arguments, its output in a
// log file, and a way to kill it for real and start it again.
type Proc struct {
	Name string
	Args []string
	// Log is the file of the process's stdout and stderr (appended to
	// across restarts).
	Log string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// NewProc returns a process named name running the regis binary with args,
// logging to a file in dir; Start starts it.
func NewProc(t testing.TB, name, dir string, args ...string) *Proc {
	t.Helper()
	p := &Proc{Name: name, Args: args, Log: filepath.Join(dir, name+".log")}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("--- %s log (last 4 KiB):\n%s", name, p.Tail(4096))
		}
	})
	return p
}

// Start starts the process (again, after Kill).
func (p *Proc) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		t.Fatalf("%s: started twice", p.Name)
	}
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "=== start %s %v\n", time.Now().Format(time.RFC3339Nano), p.Args)
	cmd := exec.Command(Binary(t), p.Args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("%s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() { // owned by the process: ends when it exits
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
}

// Running reports whether the process was started and has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Exited is closed when the process exits (nil if it is not started).
func (p *Proc) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Kill sends SIGKILL and waits until the process is gone. It does nothing
// to a process not running.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM and waits up to timeout for a clean exit, then kills.
func (p *Proc) Stop(timeout time.Duration) {
	p.signal(syscall.SIGTERM, timeout)
	p.Kill()
}

func (p *Proc) signal(sig syscall.Signal, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		p.cmd, p.done = nil, nil
	case <-time.After(wait):
	}
}

// Pid is the process id, 0 when not running.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Tail returns the last n bytes of the log.
func (p *Proc) Tail(n int) string {
	data, _ := os.ReadFile(p.Log)
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// LogContains reports whether the log holds s.
func (p *Proc) LogContains(s string) bool {
	data, _ := os.ReadFile(p.Log)
	return bytes.Contains(data, []byte(s))
}

func itoa(i int) string { return strconv.Itoa(i) }
