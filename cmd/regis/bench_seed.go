package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/bench"
	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/server"
)

func newBenchSeedCmd() *cobra.Command {
	o := server.DefaultOptions()
	var kubeconfig string
	var copies []string
	c := bench.SeedConfig{Pods: 100000}
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Write many pods straight into a server's etcd, for a bench of a large cluster",
		Long: `Write --pods pods into a new --namespace without the API's write path:
the namespace and the first pod are created through the server of
--kubeconfig; the others are copies of the bytes that server stored, each
with its own name and uid, put into its etcd (the etcd flags) by
transactions of 100. --copy-to-etcd-servers writes the same namespace and
pods into other etcds too (a second server's, for a side by side).

The server must store pods as unencrypted protobuf (the default). Its
watch cache receives the pods as any other write; restart the servers to
measure a server starting on a large data dir. Then load them with
` + "`regis bench --namespace NS`" + `.`,
		Example: `  regis bench seed --kubeconfig regis-data/admin.kubeconfig --data-dir regis-data --namespace big --pods 100000
  regis bench --kubeconfig regis-data/admin.kubeconfig --namespace big --phases list,informer,watch --list-repeats 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if c.Namespace == "" {
				return errors.New("--namespace is required")
			}
			cfg, err := loadKubeconfig(kubeconfig)
			if err != nil {
				return err
			}
			c.Config = cfg
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			conn, err := server.ConnectEtcd(ctx, o)
			if err != nil {
				return fmt.Errorf("the server's etcd: %w", err)
			}
			defer conn.Close()
			c.Etcd, c.Prefix = conn.Client, o.EtcdPrefix
			for _, url := range copies {
				e, err := etcd.NewClient([]string{url})
				if err != nil {
					return fmt.Errorf("--copy-to-etcd-servers %s: %w", url, err)
				}
				defer func(e *clientv3.Client) { e.Close() }(e)
				c.Copies = append(c.Copies, e)
			}
			c.Progress = cmd.ErrOrStderr()
			return bench.Seed(ctx, c)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kubeconfig, "kubeconfig", "", "Kubeconfig of the server. Empty: $KUBECONFIG or ~/.kube/config.")
	fs.StringVar(&c.Namespace, "namespace", "", "The namespace to create and fill (it must not exist).")
	fs.IntVar(&c.Pods, "pods", c.Pods, "Pods written.")
	fs.StringSliceVar(&copies, "copy-to-etcd-servers", nil, "More etcd URLs (plain http, one per etcd) given the same namespace and pods.")
	addEtcdFlags(fs, &o)
	return cmd
}
