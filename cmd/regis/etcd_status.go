package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

// memberConn connects to the etcd of --etcd-servers, or to the embedded
// member of a running server's --data-dir with its own client
// certificate; it returns the client and the TLS configuration of its
// members.
func memberConn(ctx context.Context, o server.Options) (*clientv3.Client, *tls.Config, error) {
	endpoints := o.EtcdServers
	var tlsCfg *tls.Config
	var err error
	if len(endpoints) > 0 {
		tlsCfg, err = etcd.TLSConfig(o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile)
	} else {
		var ep string
		if ep, err = server.EmbeddedEtcdEndpoint(o.DataDir); err == nil && ep == "" {
			err = fmt.Errorf("--data-dir %s: no server runs on it (no recorded etcd endpoint): start it, or give --etcd-servers", o.DataDir)
		}
		if err == nil {
			endpoints = []string{ep}
			tlsCfg, err = etcd.PKI{Dir: server.EmbeddedEtcdPKIDir(o.DataDir)}.ClientTLS()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := etcd.NewClient(endpoints, etcd.WithTLS(tlsCfg), etcd.WithDialTimeout(5*time.Second))
	if err != nil {
		return nil, nil, err
	}
	return c, tlsCfg, nil
}

func newEtcdStatusCmd() *cobra.Command {
	o := server.DefaultOptions()
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each member of the etcd cluster: health, leader, version, size",
		Long: `Show each member of the embedded etcd cluster of a running server's
--data-dir (reached with the data directory's client certificate), or of
the cluster of --etcd-servers: its name, ID, URLs, whether it is healthy,
the leader, or a learner, its version, database size and raft position.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("-o %q: want table or json", output)
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			c, tlsCfg, err := memberConn(ctx, o)
			if err != nil {
				return err
			}
			defer c.Close()
			members, err := etcd.ClusterStatus(ctx, c, tlsCfg)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), struct {
					Members []etcd.MemberStatus `json:"members"`
				}{members})
			}
			return printMembers(cmd.OutOrStdout(), members)
		},
	}
	addEtcdFlags(cmd.Flags(), &o)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "Output format: table or json.")
	return cmd
}

func printMembers(w io.Writer, members []etcd.MemberStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tCLIENT URL\tHEALTHY\tROLE\tVERSION\tDB SIZE\tRAFT TERM\tRAFT INDEX\tERROR")
	for _, m := range members {
		role := "follower"
		switch {
		case m.IsLeader:
			role = "leader"
		case m.IsLearner:
			role = "learner"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%d\t%d\t%d\t%s\n", m.Name, m.ID, strings.Join(m.ClientURLs, ","),
			m.Healthy, role, m.Version, m.DBSize, m.RaftTerm, m.RaftIndex, m.Error)
	}
	return tw.Flush()
}

func newEtcdMemberCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "member",
		Short: "Change the membership of the embedded etcd cluster",
	}
	o := server.DefaultOptions()
	remove := &cobra.Command{
		Use:   "remove NAME|ID",
		Short: "Remove a member (by name or hex ID) from the cluster",
		Long: `Remove a member from the etcd cluster of a running server's --data-dir (or
of --etcd-servers). Remove a member whose server is stopped for good: the
cluster then needs a majority of the members left. A server started again
on a removed member's data does not rejoin: clear its <data-dir>/etcd and
start it with --join.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			c, _, err := memberConn(ctx, o)
			if err != nil {
				return err
			}
			defer c.Close()
			id, err := etcd.FindMember(ctx, c, args[0])
			if err != nil {
				return err
			}
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := etcd.RemoveMember(rctx, c, id); err != nil {
				return errors.Join(fmt.Errorf("removing etcd member %s (%x)", args[0], id), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed etcd member %s (%x)\n", args[0], id)
			return nil
		},
	}
	addEtcdFlags(remove.Flags(), &o)
	cmd.AddCommand(remove)
	return cmd
}
