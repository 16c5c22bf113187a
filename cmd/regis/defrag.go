package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/ops/maint"
	"github.com/regis-dev/regis/internal/ops/sizing"
	"github.com/regis-dev/regis/internal/server"
)

// addDefragServeFlags adds the embedded etcd's defragmentation policy to
// `regis serve`.
func addDefragServeFlags(f *pflag.FlagSet, o *server.Options) {
	f.Float64Var(&o.EtcdDefragThreshold, "etcd-defrag-threshold", 0,
		"Defragment the embedded etcd member when this share of its database is free pages (0.5: half); 0 never. One member at a time across the servers of a cluster.")
}

// liveFlags are the flags of the commands that need a live etcd.
type liveFlags struct{ sourceFlags }

func (f *liveFlags) connect(cmd *cobra.Command) (*server.Conn, error) {
	if err := f.validate(cmd); err != nil {
		return nil, err
	}
	o := f.etcd
	o.Logger = f.logger(cmd.ErrOrStderr())
	return server.ConnectEtcd(cmd.Context(), o)
}

func newDefragCmd() *cobra.Command {
	f := &liveFlags{}
	var o maint.DefragOptions
	cmd := &cobra.Command{
		Use:   "defrag",
		Short: "Defragment every etcd member, one at a time, followers first and the leader last",
		Long: `Defragment every member of the etcd cluster, one at a time: followers first,
the leader last, each checked healthy again before the next. A member is
blocked while it is defragmented, so the command refuses to start while any
member is unhealthy (--force overrides). Defragmentation gives the free
pages that compaction left back to the file system; with --threshold only
the members at least that fragmented are defragmented.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			conn, err := f.connect(cmd)
			if err != nil {
				return err
			}
			defer conn.Close()
			errw := cmd.ErrOrStderr()
			o.OnStart = func(m maint.Member) {
				role := "follower"
				if m.Leader {
					role = "leader"
				}
				fmt.Fprintf(errw, "defragmenting %s (%s, %s, %s)…\n", m.Name, m.Endpoint, role, sizing.Bytes(m.DBSize))
			}
			res, err := maint.Defrag(cmd.Context(), conn.Client, o)
			if perr := printDefrag(cmd.OutOrStdout(), f.output, res); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f.add(cmd.Flags())
	fs := cmd.Flags()
	fs.Float64Var(&o.Threshold, "threshold", 0, "Only members whose database is at least this share free pages (0.3: 30%).")
	fs.DurationVar(&o.Timeout, "command-timeout", maint.DefaultDefragTimeout, "Longest defragmentation of one member.")
	fs.BoolVar(&o.Force, "force", false, "Defragment even while a member is unhealthy.")
	return cmd
}

func printDefrag(w io.Writer, output string, res []maint.DefragResult) error {
	if output == "json" {
		if res == nil {
			res = []maint.DefragResult{}
		}
		return printJSON(w, res)
	}
	if len(res) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tENDPOINT\tROLE\tBEFORE\tAFTER\tTOOK\tNOTE")
	for _, r := range res {
		role := "follower"
		if r.Member.Leader {
			role = "leader"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Member.Name, r.Member.Endpoint, role, sizing.Bytes(r.Before), sizing.Bytes(r.After),
			r.Took.Round(time.Millisecond), r.Skipped)
	}
	return tw.Flush()
}
