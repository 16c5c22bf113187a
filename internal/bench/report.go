package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// JSONLines returns an emit function writing each result as one line.
func JSONLines(w io.Writer) func(Result) {
	enc := json.NewEncoder(w)
	return func(r Result) { _ = enc.Encode(r) }
}

// phaseOrder is the order of the summary's rows.
var phaseOrder = []string{"idle", "existing", "create", "get", "list-rv-empty", "list-rv-0", "paged", "informer", "watch"}

// etcdPairs are the server phases compared with the raw etcd operation
// of the same size and concurrency.
var etcdPairs = [][2]string{{"create", "etcd-put"}, {"get", "etcd-get"}, {"list-rv-empty", "etcd-range"}, {"list-rv-0", "etcd-range"}}

// Summary writes the results for people: one row per phase and target
// (medians of the rounds), the ratios of the first target to each other
// one, and of each target to raw etcd.
func Summary(w io.Writer, cfg Config, results []Result) error {
	rounds := 0
	for _, r := range results {
		rounds = max(rounds, r.Round)
	}
	if len(cfg.Targets) > 0 && cfg.Namespace != "" {
		fmt.Fprintf(w, "regis bench: the pods of namespace %s (%s), %d writers, %d gets, %d lists, pages of %d, %d watchers x %d updates",
			cfg.Namespace, cfg.ContentType, cfg.Writers, cfg.Gets, cfg.ListRepeats, cfg.PageSize, cfg.Watchers, cfg.Updates)
	} else if len(cfg.Targets) > 0 {
		fmt.Fprintf(w, "regis bench: %d pods (%s), %d writers, %d gets, %d lists, pages of %d, %d watchers x %d updates",
			cfg.Pods, cfg.ContentType, cfg.Writers, cfg.Gets, cfg.ListRepeats, cfg.PageSize, cfg.Watchers, cfg.Updates)
	} else { // results read back: the counts are in them
		fmt.Fprintf(w, "regis bench: %d results", len(results))
	}
	if rounds > 1 {
		fmt.Fprintf(w, "; medians of %d rounds", rounds)
	}
	fmt.Fprint(w, "\n\n")
	results = Medians(results)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PHASE\tTARGET\tOPS\tOPS/S\tP50 MS\tP99 MS\tMAX MS\tWIRE B/OP\tBODY B/OP\tSERVER CPU MS/OP\tSERVER RSS MB\tETCD CPU S\tCLIENT CPU S\tCHECK\t")
	byKey := map[string]Result{}
	var targets []string
	for _, r := range results {
		byKey[r.Target+"/"+r.Phase] = r
		if r.Target != "etcd" && !contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
	}
	rows := append(append([]string{}, phaseOrder...), "etcd-put", "etcd-get", "etcd-range")
	for _, p := range rows {
		for _, t := range append(append([]string{}, targets...), "etcd") {
			r, ok := byKey[t+"/"+p]
			if !ok {
				continue
			}
			if p == "idle" {
				fmt.Fprintf(tw, "%s\t%s\t\t\t\t\t\t\t\t\t%s\t\t\t\t\n", p, t, mb(r.ServerRSSBytes))
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t\n",
				p, t, r.Ops, r.PerSec, r.P50ms, r.P99ms, r.MaxMs, count(r.WireBytes), count(r.BodyBytes), opt(r.ServerCPUmsPerOp, "%.3f"),
				mb(r.ServerRSSBytes), opt(r.EtcdCPUSec, "%.2f"), r.ClientCPUSec, checkOf(r))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range targets {
		if r, ok := byKey[t+"/watch"]; ok && r.Watch != nil {
			c := r.Watch
			fmt.Fprintf(w, "watch %s: %d%% of deliveries before the ack (counted 0 ms); from the update's send p50 %.2f p99 %.2f ms; updates p50 %.2f p99 %.2f ms\n",
				t, c.BeforeAck*100/max(1, r.Items), c.FromSendP50ms, c.FromSendP99ms, c.UpdateP50ms, c.UpdateP99ms)
		}
	}
	if len(targets) > 1 {
		for _, other := range targets[1:] {
			fmt.Fprintf(w, "\n%s / %s (below 1: %s is faster, smaller or cheaper; ops/s above 1: %s does more)\n", targets[0], other, targets[0], targets[0])
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "PHASE\tOPS/S\tP50\tP99\tMAX\tWIRE B/OP\tBODY B/OP\tSERVER CPU/OP\tSERVER RSS\t")
			for _, p := range phaseOrder {
				a, okA := byKey[targets[0]+"/"+p]
				b, okB := byKey[other+"/"+p]
				if !okA || !okB {
					continue
				}
				if p == "idle" {
					fmt.Fprintf(tw, "%s\t\t\t\t\t\t\t\t%s\t\n", p, ratio(float64(a.ServerRSSBytes), float64(b.ServerRSSBytes)))
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p, ratio(a.PerSec, b.PerSec), ratio(a.P50ms, b.P50ms),
					ratio(a.P99ms, b.P99ms), ratio(a.MaxMs, b.MaxMs), ratio(float64(a.WireBytes), float64(b.WireBytes)), ratio(float64(a.BodyBytes), float64(b.BodyBytes)),
					ratio(a.ServerCPUmsPerOp, b.ServerCPUmsPerOp), ratio(float64(a.ServerRSSBytes), float64(b.ServerRSSBytes)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	var pairs []string
	for _, pr := range etcdPairs {
		e, ok := byKey["etcd/"+pr[1]]
		if !ok {
			continue
		}
		for _, t := range targets {
			if r, ok := byKey[t+"/"+pr[0]]; ok {
				pairs = append(pairs, fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t", t+" "+pr[0], pr[1], ratio(r.PerSec, e.PerSec), ratio(r.P50ms, e.P50ms), ratio(r.P99ms, e.P99ms), ratio(float64(r.BodyBytes), float64(e.BodyBytes))))
			}
		}
	}
	if len(pairs) > 0 {
		fmt.Fprintf(w, "\nserver / raw etcd (the same etcd as %s, the same sizes and concurrency)\n", targets[0])
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "SERVER PHASE\tETCD PHASE\tOPS/S\tP50\tP99\tBODY BYTES\t")
		for _, p := range pairs {
			fmt.Fprintln(tw, p)
		}
		return tw.Flush()
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func opt(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func mb(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

func count(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprint(b)
}

func checkOf(r Result) string {
	if r.Watch == nil {
		if r.Errors > 0 {
			return fmt.Sprintf("%d errors", r.Errors)
		}
		return ""
	}
	c := r.Watch
	if c.Complete {
		return fmt.Sprintf("complete (%d/%d)", c.CompleteWatchers, c.Watchers)
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{c.Missing, "missing"}, {c.Duplicates, "duplicates"}, {c.OutOfOrder, "out of order"}, {c.Unexpected, "unexpected"}, {c.Errors, "errors"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if c.FirstError != "" {
		parts = append(parts, "the first: "+c.FirstError)
	}
	return fmt.Sprintf("INCOMPLETE %d/%d: %s", c.CompleteWatchers, c.Watchers, strings.Join(parts, ", "))
}
