// Command e2e runs upstream's e2e conformance tests (the test/e2e binary of
// k8s.io/kubernetes v1.37.2, built by make e2e-bin) against regis or
// against the oracle kube-apiserver v1.37.2, each started alone: an API
// server on an etcd, one fake Ready node object, and no kubelet,
// scheduler or controller-manager.
//
//	go run ./e2e -server regis            # make e2e
//	go run ./e2e -server oracle           # make e2e-oracle
//	go run ./e2e -compare A.json,B.json   # make e2e-compare
//	go run ./e2e -check-needs A.json      # needs.go against an -all run
//
// Each test runs in its own e2e.test process with a timeout of its own;
// results go to <out>/results.json, logs to <out>/logs. The tests listed in
// needs.go cannot pass on an API server alone and are left out unless -all.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	server, e2eBin, kubectlBin, regisBin string
	apiserverBin                         string
	focus, skip, out, compare            string
	checkNeeds                           string
	all, listNeeds                       bool
	timeout, slowTimeout                 time.Duration
	parallel                             int
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", "regis", "the server to test: regis or oracle")
	flag.StringVar(&o.e2eBin, "e2e", "../bin/oracle/e2e.test", "upstream's e2e test binary (make e2e-bin)")
	flag.StringVar(&o.kubectlBin, "kubectl", "../bin/oracle/kubectl", "the kubectl of the sig-cli tests (make e2e-bin)")
	flag.StringVar(&o.regisBin, "regis", "../bin/regis", "the regis binary (make build)")
	flag.StringVar(&o.apiserverBin, "kube-apiserver", "../bin/oracle/kube-apiserver", "the oracle's binary (make oracle-bin)")
	flag.StringVar(&o.focus, "focus", `\[Conformance\]`, "run the tests whose full name matches this regexp")
	flag.StringVar(&o.skip, "skip", "", "and does not match this one")
	flag.BoolVar(&o.all, "all", false, "also run the tests of needs.go, which need a kubelet, a scheduler or controllers")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "timeout of each test")
	flag.DurationVar(&o.slowTimeout, "slow-timeout", 12*time.Minute, "timeout of each test marked [Slow]")
	flag.IntVar(&o.parallel, "parallel", 3, "tests run at once (those marked [Serial] run alone, at the end)")
	flag.StringVar(&o.out, "out", "", "directory of the results and logs (default ../bin/oracle/e2e-<server>)")
	flag.StringVar(&o.compare, "compare", "", "ORACLE.json,REGIS.json: compare two results files as markdown, and run nothing")
	flag.StringVar(&o.checkNeeds, "check-needs", "", "ORACLE.json: check needs.go against the oracle's results of a run with -all, and run nothing")
	flag.BoolVar(&o.listNeeds, "list-needs", false, "print needs.go's tests as markdown, and run nothing")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	switch {
	case o.compare != "":
		oracle, regis, ok := strings.Cut(o.compare, ",")
		if !ok {
			return fmt.Errorf("-compare wants ORACLE.json,REGIS.json")
		}
		return compare(os.Stdout, oracle, regis)
	case o.checkNeeds != "":
		return checkNeeds(os.Stdout, o.checkNeeds)
	case o.listNeeds:
		printNeeds(os.Stdout)
		return nil
	}
	names, err := selectTests(o)
	if err != nil {
		return err
	}
	kubectl, err := filepath.Abs(o.kubectlBin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(kubectl); err != nil {
		return fmt.Errorf("no kubectl (make e2e-bin builds v1.37.2's): %w", err)
	}
	if o.out == "" {
		o.out = filepath.Join("..", "bin", "oracle", "e2e-"+o.server)
	}
	if err := freshDirs(o.out); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := runTests(ctx, o, kubectl, names)
	if err != nil {
		return err
	}
	return writeResults(filepath.Join(o.out, "results.json"), results)
}

// runTests starts the server, creates the fake node, and runs names.
func runTests(ctx context.Context, o options, kubectl string, names []string) ([]result, error) {
	srv, err := start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if err := createFakeNode(ctx, srv.kubeconfig); err != nil {
		return nil, err
	}
	fmt.Printf("running %d tests against %s (timeout %v each, %d at once); logs in %s\n",
		len(names), o.server, o.timeout, o.parallel, filepath.Join(o.out, "logs"))
	r := &runner{bin: o.e2eBin, kubectl: kubectl, kubeconfig: srv.kubeconfig, outDir: o.out,
		timeout: o.timeout, slowTimeout: o.slowTimeout}
	return r.runAll(ctx, names, o.parallel), nil
}

// selectTests lists the e2e binary's tests to run: -focus and not -skip,
// and not those of needs.go unless -all.
func selectTests(o options) ([]string, error) {
	focus, err := regexp.Compile(o.focus)
	if err != nil {
		return nil, fmt.Errorf("-focus: %w", err)
	}
	var skip *regexp.Regexp
	if o.skip != "" {
		if skip, err = regexp.Compile(o.skip); err != nil {
			return nil, fmt.Errorf("-skip: %w", err)
		}
	}
	names, err := listTests(o.e2eBin, focus, skip)
	if err != nil {
		return nil, err
	}
	if o.all {
		return names, nil
	}
	kept := names[:0]
	for _, n := range names {
		if needOf(n) == "" {
			kept = append(kept, n)
		}
	}
	return kept, nil
}

// start starts the server under test in a temporary directory, removed
// when it stops.
func start(ctx context.Context, o options) (*server, error) {
	dir, err := os.MkdirTemp("", "regis-e2e-")
	if err != nil {
		return nil, err
	}
	var srv *server
	switch o.server {
	case "regis":
		srv, err = startRegis(ctx, o.regisBin, dir)
	case "oracle":
		srv, err = startOracle(ctx, o.apiserverBin, dir)
	default:
		err = fmt.Errorf("-server %q: regis or oracle", o.server)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop := srv.stop
	srv.stop = func() { stop(); os.RemoveAll(dir) }
	return srv, nil
}

// freshDirs empties out and makes its logs, reports and output
// directories.
func freshDirs(out string) error {
	for _, d := range []string{"logs", "reports", "output"} {
		if err := os.RemoveAll(filepath.Join(out, d)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// writeResults writes results as JSON, and prints how many passed.
func writeResults(path string, results []result) error {
	counts := map[string]int{}
	for _, r := range results {
		counts[r.State]++
	}
	fmt.Printf("%d tests: %v; results in %s\n", len(results), counts, path)
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
