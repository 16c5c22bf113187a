package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// result is the outcome of one test against one server.
type result struct {
	Name    string  `json:"name"`
	State   string  `json:"state"` // passed, failed, timedout, skipped, ...
	Seconds float64 `json:"seconds"`
	Message string  `json:"message,omitempty"`
	Log     string  `json:"log"`
}

// listedTest matches a line of e2e.test --list-tests: "    file:line: name".
var listedTest = regexp.MustCompile(`^\s+\S+:\d+: (.*)$`)

// listTests returns the full names of the e2e binary's tests matching
// focus and not skip.
func listTests(bin string, focus, skip *regexp.Regexp) ([]string, error) {
	out, err := exec.Command(bin, "--list-tests").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-tests: %w", bin, err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := listedTest.FindStringSubmatch(sc.Text())
		if m == nil || !focus.MatchString(m[1]) || (skip != nil && skip.MatchString(m[1])) {
			continue
		}
		names = append(names, m[1])
	}
	return names, sc.Err()
}

// runner runs tests, each in its own e2e.test process so that each has a
// timeout of its own (ginkgo's --timeout is the whole suite's).
type runner struct {
	bin, kubectl         string
	kubeconfig, outDir   string
	timeout, slowTimeout time.Duration
}

// timeoutOf is name's timeout: tests marked [Slow] get slowTimeout (the
// chunking test waiting for a compaction, every 5 minutes, takes up to 10).
func (r *runner) timeoutOf(name string) time.Duration {
	if strings.Contains(name, "[Slow]") {
		return max(r.timeout, r.slowTimeout)
	}
	return r.timeout
}

// runAll runs names, parallel at a time, then those marked [Serial] one
// by one, and returns their results in the order of names.
func (r *runner) runAll(ctx context.Context, names []string, parallel int) []result {
	results := make([]result, len(names))
	var serial, concurrent []int
	for i, n := range names {
		if strings.Contains(n, "[Serial]") || strings.Contains(n, "[Disruptive]") {
			serial = append(serial, i)
		} else {
			concurrent = append(concurrent, i)
		}
	}
	var done int
	var mu sync.Mutex
	report := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		done++
		res := results[i]
		fmt.Printf("[%d/%d] %-8s %5.0fs %s\n", done, len(names), res.State, res.Seconds, res.Name)
		if res.State != "passed" && res.Message != "" {
			fmt.Printf("         %s\n", firstLine(res.Message))
		}
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Go(func() {
			for i := range work {
				results[i] = r.run(ctx, i, names[i])
				report(i)
			}
		})
	}
	for _, i := range concurrent {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, i := range serial {
		results[i] = r.run(ctx, i, names[i])
		report(i)
	}
	return results
}

// run runs one test, its output in logs/<i>.log and ginkgo's JSON report
// in reports/<i>.json.
func (r *runner) run(ctx context.Context, i int, name string) result {
	res := result{Name: name, Log: filepath.Join(r.outDir, "logs", strconv.Itoa(i)+".log")}
	if ctx.Err() != nil {
		res.State, res.Message = "interrupted", "not run"
		return res
	}
	reportPath := filepath.Join(r.outDir, "reports", strconv.Itoa(i)+".json")
	start := time.Now()
	err := r.exec(ctx, name, reportPath, res.Log)
	res.Seconds = time.Since(start).Seconds()
	res.State, res.Message = readReport(reportPath, name)
	if res.State == "" {
		res.State, res.Message = "failed", fmt.Sprintf("no report (%v); see %s", err, res.Log)
	}
	return res
}

// exec runs e2e.test on one test. Ginkgo's suite timeout interrupts the
// test (its cleanup then runs for up to 30 s); the process is killed
// two minutes later.
func (r *runner) exec(ctx context.Context, name, reportPath, logPath string) error {
	timeout := r.timeoutOf(name)
	ctx, cancel := context.WithTimeout(ctx, timeout+2*time.Minute)
	defer cancel()
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, r.bin, e2eArgs(r, name, reportPath, timeout)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	return cmd.Run()
}

// e2eArgs are the flags of e2e.test for one test: the skeleton provider
// (no cloud), no wait for the default service account and the
// kube-root-ca.crt config map (the controllers that make them do not run),
// no log dump from nodes.
func e2eArgs(r *runner, name, reportPath string, timeout time.Duration) []string {
	return []string{
		"--kubeconfig=" + r.kubeconfig,
		"--kubectl-path=" + r.kubectl,
		"--provider=skeleton",
		"--e2e-verify-service-account=false",
		"--disable-log-dump",
		"--e2e-output-dir=" + filepath.Join(r.outDir, "output"),
		// Ginkgo matches the suite's description and the test's name.
		"--ginkgo.focus=^Kubernetes e2e suite " + regexp.QuoteMeta(name) + "$",
		"--ginkgo.timeout=" + timeout.String(),
		"--ginkgo.grace-period=30s",
		"--ginkgo.json-report=" + reportPath,
		"--ginkgo.no-color",
		"--ginkgo.v",
	}
}

// readReport returns the state of the test name in a ginkgo JSON report
// (which lists every test, the others skipped) and its failure message (""
// when there is no report). A failure outside the test (the suite's setup)
// is reported as the test's.
func readReport(path, name string) (state, message string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", ""
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil || len(reports) == 0 {
		return "failed", fmt.Sprintf("unreadable report %s: %v", path, err)
	}
	var setup string
	for _, spec := range reports[0].SpecReports {
		if spec.LeafNodeType == types.NodeTypeIt && spec.FullText() == name {
			return spec.State.String(), failureText(spec)
		}
		if spec.State.Is(types.SpecStateFailureStates) && setup == "" {
			setup = spec.LeafNodeType.String() + ": " + failureText(spec)
		}
	}
	if setup != "" {
		return "failed", setup
	}
	return "failed", "the test did not run: " + strings.Join(reports[0].SpecialSuiteFailureReasons, "; ")
}

// failureText is a spec's failure: its message and where it failed.
func failureText(spec types.SpecReport) string {
	f := spec.Failure
	if f.IsZero() {
		return ""
	}
	msg := strings.TrimSpace(f.Message)
	if f.Location.FileName != "" {
		msg += fmt.Sprintf(" [%s:%d]", trimModPath(f.Location.FileName), f.Location.LineNumber)
	}
	// On a timeout, what the test was doing: its step and last log line.
	if p := f.ProgressReport; p.CurrentStepText != "" || p.CapturedGinkgoWriterOutput != "" {
		msg += fmt.Sprintf(" (at step %q; last log: %s)", p.CurrentStepText, lastLine(p.CapturedGinkgoWriterOutput))
	}
	return msg
}

// lastLine is the last non-empty line of s, trimmed.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// trimModPath shortens a source path to its path in its repository.
func trimModPath(p string) string {
	const mod = "k8s.io/kubernetes@"
	if i := strings.Index(p, mod); i >= 0 {
		if j := strings.Index(p[i+len(mod):], "/"); j >= 0 {
			return p[i+len(mod)+j+1:]
		}
	}
	return filepath.Base(p)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}
