package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/etcd"
)

// newEtcdCmd returns `regis etcd`: run with flags, one etcd member (etcd's
// own flag names, the server of go.etcd.io/etcd embedded in regis), so
// that one binary gives a user, and the tests, a real etcd cluster; its
// subcommands look at the embedded etcd of a data directory.
func newEtcdCmd() *cobra.Command {
	var c etcd.MemberConfig
	cmd := &cobra.Command{
		Use:   "etcd",
		Short: "Run one etcd member (etcd's flags), or look at the embedded etcd's members",
		Long: `Run one member of an etcd cluster until SIGINT or SIGTERM, with etcd's own
flag names: a 3-member cluster on one host is three "regis etcd" processes
with different --name, --data-dir and ports, and the same --initial-cluster.

  regis etcd --name m1 --data-dir m1 \
    --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
    --listen-peer-urls https://127.0.0.1:2380 --initial-advertise-peer-urls https://127.0.0.1:2380 \
    --initial-cluster m1=https://127.0.0.1:2380,m2=https://127.0.0.1:12380,m3=https://127.0.0.1:22380 \
    --cert-file server.crt --key-file server.key --trusted-ca-file ca.crt --client-cert-auth \
    --peer-cert-file peer.crt --peer-key-file peer.key --peer-trusted-ca-file ca.crt --peer-client-cert-auth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			c.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			context.AfterFunc(ctx, stop) // a second signal kills at once
			return etcd.RunMember(ctx, c)
		},
	}
	addMemberFlags(cmd.Flags(), &c)
	cmd.AddCommand(newEtcdStatusCmd(), newEtcdMemberCmd())
	return cmd
}

// addMemberFlags declares etcd's flags of a member.
func addMemberFlags(f *pflag.FlagSet, c *etcd.MemberConfig) {
	f.StringVar(&c.Name, "name", "default", "Human-readable name for this member.")
	f.StringVar(&c.DataDir, "data-dir", "", "Path to the data directory.")
	f.StringVar(&c.InitialCluster, "initial-cluster", "", "Initial cluster configuration for bootstrapping (name=peer-url,...). Empty: this member alone.")
	f.StringVar(&c.InitialClusterState, "initial-cluster-state", "new", "Initial cluster state ('new' when every member is present during initial static bootstrapping, 'existing' to join an existing cluster).")
	f.StringVar(&c.InitialClusterToken, "initial-cluster-token", "etcd-cluster", "Initial cluster token for the etcd cluster during bootstrap.")
	f.StringSliceVar(&c.InitialAdvertisePeerURLs, "initial-advertise-peer-urls", nil, "List of this member's peer URLs to advertise to the rest of the cluster.")
	f.StringSliceVar(&c.ListenPeerURLs, "listen-peer-urls", nil, "List of URLs to listen on for peer traffic.")
	f.StringSliceVar(&c.ListenClientURLs, "listen-client-urls", nil, "List of URLs to listen on for client traffic.")
	f.StringSliceVar(&c.AdvertiseClientURLs, "advertise-client-urls", nil, "List of this member's client URLs to advertise to the public.")
	f.StringVar(&c.Client.CertFile, "cert-file", "", "Path to the client server TLS cert file.")
	f.StringVar(&c.Client.KeyFile, "key-file", "", "Path to the client server TLS key file.")
	f.StringVar(&c.Client.TrustedCAFile, "trusted-ca-file", "", "Path to the client server TLS trusted CA cert file.")
	f.BoolVar(&c.Client.ClientCertAuth, "client-cert-auth", false, "Enable client cert authentication.")
	f.StringVar(&c.Peer.CertFile, "peer-cert-file", "", "Path to the peer server TLS cert file.")
	f.StringVar(&c.Peer.KeyFile, "peer-key-file", "", "Path to the peer server TLS key file.")
	f.StringVar(&c.Peer.TrustedCAFile, "peer-trusted-ca-file", "", "Path to the peer server TLS trusted CA file.")
	f.BoolVar(&c.Peer.ClientCertAuth, "peer-client-cert-auth", false, "Enable peer client cert authentication.")
	f.UintVar(&c.HeartbeatMs, "heartbeat-interval", 100, "Time (in milliseconds) of a heartbeat interval.")
	f.UintVar(&c.ElectionMs, "election-timeout", 1000, "Time (in milliseconds) for an election to timeout.")
	f.Int64Var(&c.QuotaBackendBytes, "quota-backend-bytes", 0, "Raise alarms when backend size exceeds the given quota. 0 means use the default quota.")
	f.BoolVar(&c.UnsafeNoFsync, "unsafe-no-fsync", false, "Disables fsync, unsafe, will cause data loss.")
	f.DurationVar(&c.WatchProgressNotifyInterval, "watch-progress-notify-interval", 0, "Duration of periodic watch progress notifications. 0: etcd's 10m.")
	f.StringVar(&c.LogLevel, "log-level", "info", "Configures log level. Only supports debug, info, warn, error.")
}
