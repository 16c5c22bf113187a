// Command bench runs `regis bench --compare` side by side on this machine:
// regis (bin/regis serve) and a real kube-apiserver v1.37.2
// (bin/oracle/kube-apiserver, make oracle-bin), started one after the
// other, each on a fresh etcd of its own in a process of its own, so that
// the CPU and memory of every server and every etcd are read apart.
//
//	go run ./bench [flags] [-- regis bench flags]   # make bench-compare
//
// The etcd members are this program re-run with -etcd-member DIR: the
// embedded etcd of regis's internal/etcd, with fsync on unless -no-fsync.
// kube-apiserver is started as oracle/diff and oracle/e2e start it: a
// control plane without controllers, an administrator's bearer token.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regis-dev/regis/internal/etcd"
)

type options struct {
	regisBin, apiserverBin, dir, out string
	regisFlags                       string // more flags of regis serve
	noFsync, keep                    bool
	seed                             int    // pods written into both etcds before the servers start
	pinServers, pinLoad              string // CPU lists (empty: not pinned)
	etcdMember                       string // internal: run one etcd member here
	benchArgs                        []string
}

func main() {
	var o options
	flag.StringVar(&o.regisBin, "regis", "../bin/regis", "the regis binary (make build): the server and the load generator")
	flag.StringVar(&o.apiserverBin, "kube-apiserver", "../bin/oracle/kube-apiserver", "the oracle's binary (make oracle-bin)")
	flag.StringVar(&o.dir, "dir", "", "directory of the data and logs (default: a new temporary one, removed after unless -keep)")
	flag.StringVar(&o.out, "out", "../bin/oracle/bench", "directory where the results are written: results.jsonl and summary.txt")
	flag.StringVar(&o.regisFlags, "regis-flags", "", "more flags of regis serve, space separated (for example --debug-pprof-address=127.0.0.1:6060)")
	flag.BoolVar(&o.noFsync, "no-fsync", false, "run the etcd members without fsync")
	flag.BoolVar(&o.keep, "keep", false, "keep the data and logs")
	flag.StringVar(&o.pinServers, "pin-servers", "", "pin both servers and their etcd members to this CPU list (taskset -c syntax, e.g. 0); empty: not pinned")
	flag.StringVar(&o.pinLoad, "pin-load", "", "pin the load generator (regis bench) to this CPU list (e.g. 1); empty: not pinned")
	flag.IntVar(&o.seed, "seed", 0, "write this many pods into both etcds first (regis bench seed, through regis), restart regis, then load them (regis bench --namespace "+seedNamespace+")")
	flag.StringVar(&o.etcdMember, "etcd-member", "", "internal: run an etcd member on this data directory, print its URL, until SIGTERM")
	flag.Parse()
	o.benchArgs = flag.Args()
	var err error
	if o.etcdMember != "" {
		err = runMember(o)
	} else {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runMember is the child process of one etcd member.
func runMember(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: o.etcdMember, UnsafeNoFsync: o.noFsync})
	if err != nil {
		return err
	}
	defer e.Close()
	fmt.Println(e.Endpoint)
	select {
	case <-ctx.Done():
		return nil
	case err := <-e.Err():
		return err
	}
}

// seedNamespace holds the pods of -seed.
const seedNamespace = "regis-bench-seed"

// proc is a started process: its pid, and how to stop it.
type proc struct {
	pid  int
	stop func()
}

// startMember re-runs this program as an etcd member on dir.
func startMember(ctx context.Context, o options, dir string) (*proc, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	args := []string{"-etcd-member", dir}
	if o.noFsync {
		args = append(args, "-no-fsync")
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	exited := make(chan struct{})
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		s, _ := r.ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, r)
	}()
	go func() { _ = cmd.Wait(); close(exited) }()
	p := &proc{pid: cmd.Process.Pid, stop: stopper(cmd, exited, nil)}
	select {
	case url := <-line:
		if url == "" {
			p.stop()
			return nil, "", errors.New("the etcd member did not start")
		}
		return p, url, nil
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, "", errors.New("the etcd member did not start in 60s")
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, b := range []string{o.regisBin, o.apiserverBin} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%w (make build oracle-bin)", err)
		}
	}
	regisBin, err := filepath.Abs(o.regisBin)
	if err != nil {
		return err
	}
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "regis-bench-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	fmt.Fprintf(os.Stderr, "data and logs in %s\n", dir)

	var ready []string // start times on seeded data
	// regis on its etcd, kube-apiserver's etcd beside it.
	etcdA, urlA, err := startMember(ctx, o, filepath.Join(dir, "etcd-regis"))
	if err != nil {
		return fmt.Errorf("regis's etcd: %w", err)
	}
	defer etcdA.stop()
	etcdB, urlB, err := startMember(ctx, o, filepath.Join(dir, "etcd-kube-apiserver"))
	if err != nil {
		return fmt.Errorf("kube-apiserver's etcd: %w", err)
	}
	defer etcdB.stop()
	regisDir := filepath.Join(dir, "regis")
	regis, regisKC, err := startRegis(ctx, regisBin, regisDir, urlA, strings.Fields(o.regisFlags), time.Minute)
	if err != nil {
		return err
	}
	defer func() { regis.stop() }()
	if o.seed > 0 {
		// The same pods in both etcds, then regis restarted: both servers
		// start on them, as on an existing cluster's data.
		seed := exec.CommandContext(ctx, regisBin, "bench", "seed", "--kubeconfig", regisKC, "--etcd-servers", urlA,
			"--copy-to-etcd-servers", urlB, "--namespace", seedNamespace, "--pods", strconv.Itoa(o.seed))
		seed.Stdout, seed.Stderr = os.Stderr, os.Stderr
		if err := seed.Run(); err != nil {
			return fmt.Errorf("regis bench seed: %w", err)
		}
		regis.stop()
		t := time.Now()
		if regis, regisKC, err = startRegis(ctx, regisBin, regisDir, urlA, strings.Fields(o.regisFlags), 10*time.Minute); err != nil {
			return err
		}
		ready = append(ready, fmt.Sprintf("regis ready %.2f s after its start on %d pods", time.Since(t).Seconds(), o.seed))
		o.benchArgs = append([]string{"--namespace", seedNamespace}, o.benchArgs...)
	}

	// kube-apiserver on the other.
	t := time.Now()
	kube, kubeKC, err := startOracle(ctx, o.apiserverBin, filepath.Join(dir, "kube-apiserver"), urlB, max(90*time.Second, time.Duration(o.seed/100)*time.Second))
	if err != nil {
		return err
	}
	defer kube.stop()
	if o.seed > 0 {
		ready = append(ready, fmt.Sprintf("kube-apiserver ready %.2f s after its start on %d pods", time.Since(t).Seconds(), o.seed))
	}

	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	common := []string{"bench",
		"--kubeconfig", regisKC, "--name", "regis", "--pid", strconv.Itoa(regis.pid), "--etcd-pid", strconv.Itoa(etcdA.pid),
		"--etcd-servers", urlA,
		"--compare", kubeKC, "--compare-name", "kube-apiserver", "--compare-pid", strconv.Itoa(kube.pid), "--compare-etcd-pid", strconv.Itoa(etcdB.pid),
	}
	jsonl := filepath.Join(o.out, "results.jsonl")
	args := append(append(common, o.benchArgs...), "--json-out", jsonl)
	fmt.Fprintf(os.Stderr, "regis %s\n", strings.Join(args, " "))
	sum, err := os.Create(filepath.Join(o.out, "summary.txt"))
	if err != nil {
		return err
	}
	defer sum.Close()
	out := io.MultiWriter(sum, os.Stdout)
	fmt.Fprintf(out, "load average before: %s\n", loadAverage())
	for _, r := range ready {
		fmt.Fprintln(out, r)
	}
	if o.pinServers != "" {
		for _, p := range []*proc{etcdA, etcdB, regis, kube} {
			if err := pinProcess(p.pid, o.pinServers); err != nil {
				return fmt.Errorf("-pin-servers: %w", err)
			}
		}
		fmt.Fprintf(out, "servers and their etcd members pinned to CPUs %s\n", o.pinServers)
	}
	cmd := exec.CommandContext(ctx, regisBin, args...)
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("regis bench: %w", err)
	}
	if o.pinLoad != "" {
		if err := pinProcess(cmd.Process.Pid, o.pinLoad); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("-pin-load: %w", err)
		}
		fmt.Fprintf(out, "load generator pinned to CPUs %s\n", o.pinLoad)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("regis bench: %w", err)
	}
	fmt.Fprintf(out, "\nload average after: %s\n", loadAverage())
	fmt.Fprintf(os.Stderr, "results: %s, %s\n", jsonl, sum.Name())
	return nil
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages: the
// machine is shared, the figures depend on it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
