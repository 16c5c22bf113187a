package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/regis-dev/regis/internal/ops/maint"
	"github.com/regis-dev/regis/internal/ops/progress"
	"github.com/regis-dev/regis/internal/ops/sizing"
	"github.com/regis-dev/regis/internal/ops/source"
)

func newSizingCmd() *cobra.Command {
	f := &sourceFlags{}
	var o sizing.Options
	var quota int64
	var kubeconfig string
	var window time.Duration
	cmd := &cobra.Command{
		Use:   "sizing",
		Short: "Measure what etcd holds and recommend the etcd to run (members, CPU, memory, disk)",
		Long: `Measure what etcd holds for the cluster: objects and bytes per resource, at
the newest revision and over every revision etcd still holds, the largest
objects, each member's database size and fragmentation, revision and
compaction; with the API server's /metrics (--kubeconfig; a running
server's admin kubeconfig in --data-dir by default), watches open and
requests a second per resource. Then the tier of the sizing table
(Small: up to 50 nodes and under 1,000 pods; Medium: up to 200 nodes and
under 5,000 pods; Large: up to 1,000 nodes and under 50,000 pods), the
figure that chose it and the headroom to the next, and warnings: near the
backend quota, above the 8 GiB suggested maximum, objects over 1 MiB,
events or leases dominating writes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := f.logger(cmd.ErrOrStderr())
			src, err := f.open(ctx, log)
			if err != nil {
				return err
			}
			defer src.Close()
			o.EtcdPrefix = f.etcd.EtcdPrefix
			bar := progress.New(cmd.ErrOrStderr(), "sizing")
			o.Progress = func(n int64) { bar.Set(n, 0) }
			rep, err := sizing.Measure(ctx, src.Source, o)
			bar.Finish()
			if err != nil {
				return err
			}
			if src.Conn != nil {
				members, err := maint.Members(ctx, src.Conn.Client)
				if err != nil {
					return err
				}
				if rev, err := maint.CompactRevision(ctx, src.Conn.Client); err == nil {
					rep.CompactRevision = max(rep.CompactRevision, rev)
				}
				for _, m := range members {
					rep.AddDB(sizing.DB{Member: memberName(m), Size: m.DBSize, InUse: m.DBSizeInUse, Leader: m.Leader, Unreachable: m.Err})
				}
			} else if file, ok := src.Source.(*source.File); ok {
				st, err := file.Stats()
				if err != nil {
					return err
				}
				rep.CompactRevision = max(rep.CompactRevision, st.CompactRevision)
				rep.AddDB(sizing.DB{Member: file.Describe(), Size: st.Size, InUse: st.InUse})
			}
			if kubeconfig == "" && f.snapshot == "" && len(f.etcd.EtcdServers) == 0 {
				if p := filepath.Join(f.etcd.DataDir, "admin.kubeconfig"); fileExists(p) && src.Conn != nil {
					kubeconfig = p
				}
			}
			if kubeconfig != "" {
				rates, from, err := scrapeRates(ctx, kubeconfig, window)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: no request rates: %v\n", err)
				} else {
					rep.AddMetrics(from, rates)
				}
			}
			rep.Finish(quota)
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			return printSizing(cmd.OutOrStdout(), rep)
		},
	}
	f.add(cmd.Flags())
	fs := cmd.Flags()
	fs.Int64Var(&quota, "quota-backend-bytes", 0, "The etcd members' --quota-backend-bytes (0: etcd's default, 2 GiB).")
	fs.BoolVar(&o.History, "history", true, "Also count every revision etcd still holds (a replay of the history live).")
	fs.IntVar(&o.Top, "top", sizing.DefaultTop, "How many of the largest objects to list.")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "Kubeconfig of the API server whose /metrics gives watches and request rates.")
	fs.DurationVar(&window, "rate-window", 10*time.Second, "Time between the two scrapes of /metrics that request rates come from.")
	return cmd
}

func memberName(m maint.Member) string {
	if m.Name != "" {
		return m.Name + " (" + m.Endpoint + ")"
	}
	return m.Endpoint
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// scrapeRates reads the server's /metrics twice, window apart.
func scrapeRates(ctx context.Context, kubeconfig string, window time.Duration) (map[string]sizing.Rate, string, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, "", err
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, "", err
	}
	url := strings.TrimSuffix(cfg.Host, "/") + "/metrics"
	scrape := func() ([]sizing.Sample, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return sizing.ParseMetrics(io.LimitReader(resp.Body, 256<<20), sizing.MetricRequests, sizing.MetricLongRunning)
	}
	first, err := scrape()
	if err != nil {
		return nil, "", err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return nil, "", ctx.Err()
	case <-time.After(window):
	}
	second, err := scrape()
	if err != nil {
		return nil, "", err
	}
	return sizing.Rates(first, second, time.Since(start).Seconds()), url, nil
}

func printSizing(w io.Writer, r *sizing.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Source:\t%s\n", r.Source)
	fmt.Fprintf(tw, "Revision:\t%d (compacted at %d)\n", r.Revision, r.CompactRevision)
	fmt.Fprintf(tw, "Objects:\t%s, %s", progress.Count(r.Objects), sizing.Bytes(r.Bytes))
	if r.Revisions > 0 {
		fmt.Fprintf(tw, "; %s revisions held, %s", progress.Count(r.Revisions), sizing.Bytes(r.RevisionBytes))
	}
	fmt.Fprintf(tw, "\nNodes, pods:\t%s, %s\n", progress.Count(r.Nodes), progress.Count(r.Pods))
	if r.Metrics != "" {
		fmt.Fprintf(tw, "Metrics:\t%s\n", r.Metrics)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "RESOURCE\tOBJECTS\tBYTES\tREVISIONS\tREV BYTES\tWATCHES\tREADS/S\tWRITES/S\t")
	for _, rs := range r.Resources {
		name := rs.Resource
		if name == "" {
			name = "(other keys)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t\n", name, progress.Count(rs.Objects), sizing.Bytes(rs.Bytes),
			progress.Count(rs.Revisions), sizing.Bytes(rs.RevisionBytes), rs.Watches, rs.ReadsPerS, rs.WritesPerS)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LARGEST OBJECTS\tSIZE")
	for _, o := range r.Largest {
		fmt.Fprintf(tw, "%s\t%s\n", o.Key, sizing.Bytes(int64(o.Size)))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tDB SIZE\tIN USE\tFREE\tQUOTA")
	for _, db := range r.DB {
		if db.Unreachable != "" {
			fmt.Fprintf(tw, "%s\tunreachable: %s\n", db.Member, db.Unreachable)
			continue
		}
		name := db.Member
		if db.Leader {
			name += " *leader"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f%%\t%.0f%% of %s\n", name, sizing.Bytes(db.Size), sizing.Bytes(db.InUse), 100*db.Fragmented,
			100*float64(db.Size)/float64(r.QuotaBytes), sizing.Bytes(r.QuotaBytes))
	}
	tw.Flush()
	rec := r.Recommendation
	fmt.Fprintf(w, "\nRecommended: %s: %d members, %d CPU, %d GB memory, %d GB SSD each\n", rec.Name, rec.Members, rec.CPU, rec.MemoryGB, rec.DiskGB)
	fmt.Fprintf(w, "  because:  %s\n", rec.DrivenBy)
	if rec.Headroom != "" {
		fmt.Fprintf(w, "  headroom: %s\n", rec.Headroom)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}
