package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/ops/migrate"
	"github.com/regis-dev/regis/internal/ops/progress"
	"github.com/regis-dev/regis/internal/server"
)

// newMigrateCmd returns `regis migrate`: the embedded store of a data
// directory (or the etcd of --etcd-servers) copied onto an external etcd
// cluster.
func newMigrateCmd() *cobra.Command {
	o := server.DefaultOptions()
	var to []string
	var toCA, toCert, toKey, output string
	var force bool
	cmd := &cobra.Command{
		Use:   "migrate --data-dir DIR --to-etcd-servers URL,...",
		Short: "Move an embedded store onto an external etcd cluster",
		Long: `Copy every key of the embedded etcd of --data-dir (its server stopped), or of
the etcd of --etcd-servers, onto the etcd cluster of --to-etcd-servers: values
byte for byte (encrypted values stay encrypted), leases with their IDs and
remaining TTLs, keys in the order of their revisions. The target's revision is
first raised above the source's and compacted there, so every resourceVersion
clients hold is older than the target's objects and informers relist cleanly.
Then run: regis serve --etcd-servers URL,... (with the same
--encryption-provider-config). A target with keys is refused unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(to) == 0 {
				return fmt.Errorf("--to-etcd-servers is required")
			}
			if output != "table" && output != "json" {
				return fmt.Errorf("-o %q: want table or json", output)
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			src, err := server.ConnectEtcd(ctx, o)
			if err != nil {
				return err
			}
			defer src.Close()
			if len(o.EtcdServers) == 0 && strings.HasPrefix(src.Where, "etcd ") {
				return fmt.Errorf("a server runs on --data-dir %s: stop it first (writes made during the copy would be lost)", o.DataDir)
			}
			if toCA == "" && toCert == "" && toKey == "" {
				toCA, toCert, toKey = o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile
			}
			tlsCfg, err := etcd.TLSConfig(toCA, toCert, toKey)
			if err != nil {
				return err
			}
			tgt, err := etcd.NewClient(to, etcd.WithTLS(tlsCfg), etcd.WithDialTimeout(10*time.Second))
			if err != nil {
				return err
			}
			defer tgt.Close()
			bar := progress.New(cmd.ErrOrStderr(), "migrate")
			res, err := migrate.Run(ctx, migrate.Config{Source: src.Client, Target: tgt, Force: force,
				Progress: func(phase string, done, total int64) { bar.Note(phase); bar.Set(done, total) }})
			bar.Finish()
			if err != nil {
				return fmt.Errorf("migrate from %s to %s: %w", src.Where, strings.Join(to, ","), err)
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "migrated %s keys (%s bytes) and %d leases from %s (revision %d) to %s (revision %d, compacted at %d)\n",
				progress.Count(res.Keys), progress.Count(res.Bytes), res.Leases, src.Where, res.SourceRevision,
				strings.Join(to, ","), res.TargetRevision, res.CompactedAt)
			return nil
		},
	}
	f := cmd.Flags()
	addEtcdFlags(f, &o)
	f.StringSliceVar(&to, "to-etcd-servers", nil, "The etcd servers to copy onto (scheme://ip:port), comma separated.")
	f.StringVar(&toCA, "to-etcd-cafile", "", "CA file of the target etcd (default: --etcd-cafile).")
	f.StringVar(&toCert, "to-etcd-certfile", "", "Client certificate file for the target etcd (default: --etcd-certfile).")
	f.StringVar(&toKey, "to-etcd-keyfile", "", "Client key file for the target etcd (default: --etcd-keyfile).")
	f.BoolVar(&force, "force", false, "Copy onto a target etcd that already has keys.")
	f.StringVarP(&output, "output", "o", "table", "Output format: table or json.")
	return cmd
}
