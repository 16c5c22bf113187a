package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/regis-dev/regis/internal/bench"
	"github.com/regis-dev/regis/internal/server"
)

// benchFlags are the flags of `regis bench`.
type benchFlags struct {
	cfg                  bench.Config
	etcd                 server.Options
	kubeconfig, name     string
	pid, etcdPid         int
	compare, compareName string
	comparePid           int
	compareEtcdPid       int
	phases               []string
	output, jsonOut      string
	from                 string
}

func newBenchCmd() *cobra.Command {
	f := &benchFlags{cfg: bench.DefaultConfig(), etcd: server.DefaultOptions()}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load any API server with pods through client-go, beside a raw etcd baseline and a --compare server",
		Long: `Load an API server (any kubeconfig) with pods through client-go, in a
namespace of its own deleted after, and measure each phase:

  create   --pods pods at concurrency --writers: creates/s, p50/p99
  get      --gets reads (RV "") at the same concurrency
  list     --list-repeats lists of every pod at RV "" and at RV "0": p50/p99,
           bytes on the wire (gzip as client-go asks for it) and in the body
  paged    the same number of traversals in pages of --page-size
  informer up to 5 client-go pod informers started one after the other: the
           time until each has synced every pod
  watch    --watchers watches (a connection each) x --updates updates:
           delivery latency from each write's acknowledgement (p50/p99/max),
           and every watcher got every event exactly once, in order
  etcd     the raw etcd baseline, against the etcd of the etcd flags (the
           first server's): create transactions of a value of the size the
           server stored, at the same concurrency, gets, and ranges over the
           same number of keys

With --pid (and --etcd-pid), the server's (etcd's) CPU seconds and resident
memory per phase are read from /proc. --compare runs the same load against
a second server, after the first, and prints the ratios. Results are JSON
lines with -o json, else a table with ratios.`,
		Example: `  # regis on its default data dir, with its embedded etcd as the baseline
  regis bench --kubeconfig regis-data/admin.kubeconfig --pid $(pgrep -n regis) --data-dir regis-data

  # side by side with a kube-apiserver (make bench-compare does it all)
  regis bench --kubeconfig a.kubeconfig --name regis --compare b.kubeconfig --compare-name kube-apiserver`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, f)
		},
	}
	fs := cmd.Flags()
	c := &f.cfg
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "Kubeconfig of the server to load. Empty: $KUBECONFIG or ~/.kube/config.")
	fs.StringVar(&f.name, "name", "server", "Name of the server in the results.")
	fs.IntVar(&f.pid, "pid", 0, "Process id of the server: its CPU and memory per phase, from /proc (0: not measured).")
	fs.IntVar(&f.etcdPid, "etcd-pid", 0, "Process id of the server's etcd, measured the same way (0: not measured).")
	fs.StringVar(&f.compare, "compare", "", "Kubeconfig of a second server to load the same way, after the first; ratios are printed.")
	fs.StringVar(&f.compareName, "compare-name", "compare", "Name of the --compare server in the results.")
	fs.IntVar(&f.comparePid, "compare-pid", 0, "Process id of the --compare server.")
	fs.IntVar(&f.compareEtcdPid, "compare-etcd-pid", 0, "Process id of the --compare server's etcd.")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "Times the whole load runs, the servers alternating (even rounds in the reverse order); the table shows medians.")
	fs.StringVar(&c.ContentType, "content-type", c.ContentType, "What client-go sends and asks for: json or protobuf.")
	fs.IntVar(&c.Pods, "pods", c.Pods, "Pods created (and listed, watched, read).")
	fs.IntVar(&c.Writers, "writers", c.Writers, "Concurrency of the creates and gets (and of the raw etcd puts).")
	fs.IntVar(&c.Gets, "gets", c.Gets, "Single-pod reads.")
	fs.IntVar(&c.ListRepeats, "list-repeats", c.ListRepeats, "Lists of every pod at each of RV \"\" and \"0\", and paged traversals.")
	fs.IntVar(&c.PageSize, "page-size", c.PageSize, "Limit of each page of the paged traversal.")
	fs.IntVar(&c.Watchers, "watchers", c.Watchers, "Watches open during the updates, each on a connection of its own.")
	fs.IntVar(&c.Updates, "updates", c.Updates, "Pod updates, each delivered to every watcher.")
	fs.IntVar(&c.UpdateWriters, "update-writers", c.UpdateWriters, "Concurrency of the updates (1: each acknowledged before the next).")
	fs.DurationVar(&c.WatchTimeout, "watch-timeout", c.WatchTimeout, "How long watchers may take to receive the last event after the last update.")
	fs.StringVar(&c.NamespacePrefix, "namespace-prefix", c.NamespacePrefix, "Prefix of each run's namespace (and of the baseline's etcd keys).")
	fs.StringVar(&c.Namespace, "namespace", "", "Load the pods already in this namespace (for instance written by `regis bench seed`) instead of creating --pods pods; they are left in place.")
	fs.StringSliceVar(&f.phases, "phases", nil, "Phases to run, comma separated: "+strings.Join(bench.AllPhases, ",")+" (creates always run). Empty: all.")
	fs.StringVarP(&f.output, "output", "o", "table", "Output format: table (a summary with ratios) or json (one JSON line per phase).")
	fs.StringVar(&f.jsonOut, "json-out", "", "Also write the JSON lines to this file.")
	fs.StringVar(&f.from, "from", "", "Load nothing: print the table of the JSON lines of an earlier run (-o json or --json-out).")
	addEtcdFlags(fs, &f.etcd)
	cmd.AddCommand(newBenchSeedCmd())
	return cmd
}

func runBench(cmd *cobra.Command, f *benchFlags) error {
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("-o %q: want table or json", f.output)
	}
	cfg := f.cfg
	if f.from != "" {
		results, err := readResults(f.from)
		if err != nil {
			return err
		}
		return bench.Summary(cmd.OutOrStdout(), cfg, results)
	}
	cfg.Phases = f.phases
	cfg.EtcdPrefix = f.etcd.EtcdPrefix
	cfg.Progress = cmd.ErrOrStderr()
	a, err := loadKubeconfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cfg.Targets = []bench.Target{{Name: f.name, Config: a, Pid: f.pid, EtcdPid: f.etcdPid}}
	if f.compare != "" {
		b, err := loadKubeconfig(f.compare)
		if err != nil {
			return err
		}
		if f.compareName == f.name {
			return errors.New("--compare-name: the two servers need different names")
		}
		cfg.Targets = append(cfg.Targets, bench.Target{Name: f.compareName, Config: b, Pid: f.comparePid, EtcdPid: f.compareEtcdPid})
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	// The baseline's etcd: --etcd-servers, or the embedded etcd of an
	// explicit --data-dir (a running regis's).
	if len(f.etcd.EtcdServers) > 0 || cmd.Flags().Changed("data-dir") {
		o := f.etcd
		o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		conn, err := server.ConnectEtcd(ctx, o)
		if err != nil {
			return fmt.Errorf("raw etcd baseline: %w", err)
		}
		defer conn.Close()
		cfg.Etcd = conn.Client
	}
	var emits []func(bench.Result)
	if f.output == "json" {
		emits = append(emits, bench.JSONLines(cmd.OutOrStdout()))
	}
	if f.jsonOut != "" {
		file, err := os.Create(f.jsonOut)
		if err != nil {
			return err
		}
		defer file.Close()
		emits = append(emits, bench.JSONLines(file))
	}
	emit := func(r bench.Result) {
		for _, e := range emits {
			e(r)
		}
	}
	results, err := bench.Run(ctx, cfg, emit)
	if err != nil {
		return err
	}
	if f.output == "table" {
		return bench.Summary(cmd.OutOrStdout(), cfg, results)
	}
	return nil
}

// loadKubeconfig reads a kubeconfig as kubectl does: path, else
// $KUBECONFIG, else ~/.kube/config.
func loadKubeconfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("kubeconfig: %w", err)
		}
		rules.ExplicitPath = path
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}

// readResults reads the JSON lines of an earlier run.
func readResults(path string) ([]bench.Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []bench.Result
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r bench.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}
