package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/ops/progress"
	"github.com/regis-dev/regis/internal/ops/sizing"
	"github.com/regis-dev/regis/internal/ops/snapshot"
	"github.com/regis-dev/regis/internal/server"
)

// addSnapshotServeFlags adds the embedded etcd's scheduled snapshots to
// `regis serve` (k3s's --etcd-snapshot-* defaults).
func addSnapshotServeFlags(f *pflag.FlagSet, o *server.Options) {
	o.EtcdSnapshotInterval, o.EtcdSnapshotRetention = snapshot.DefaultInterval, snapshot.DefaultRetention
	f.DurationVar(&o.EtcdSnapshotInterval, "etcd-snapshot-interval", o.EtcdSnapshotInterval,
		"How often to snapshot the embedded etcd (0: never). Unused with --etcd-servers.")
	f.IntVar(&o.EtcdSnapshotRetention, "etcd-snapshot-retention", o.EtcdSnapshotRetention,
		"How many scheduled snapshots of the embedded etcd to keep (0: all).")
	f.StringVar(&o.EtcdSnapshotDir, "etcd-snapshot-dir", "", "Where scheduled snapshots go. Empty: <data-dir>/snapshots.")
}

func newSnapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Save, check and restore etcd snapshots",
		Long: `Save, check and restore etcd snapshots, as etcdctl and etcdutl do.

  save FILE      a snapshot of the etcd, online, checked (SHA-256) before
                 it is renamed into place
  status FILE    its revision, keys, hash and integrity
  restore FILE   a new etcd data directory from it, the revision bumped and
                 marked compacted so that every informer relists instead of
                 silently missing changes`,
	}
	cmd.AddCommand(newSnapshotSaveCmd(), newSnapshotStatusCmd(), newSnapshotRestoreCmd())
	return cmd
}

func newSnapshotSaveCmd() *cobra.Command {
	f := &sourceFlags{}
	cmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Save a snapshot of the etcd to FILE, online",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			if f.snapshot != "" {
				return errors.New("save reads a live etcd: --snapshot does not apply")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			o := f.etcd
			o.Logger = f.logger(cmd.ErrOrStderr())
			conn, err := server.ConnectEtcd(ctx, o)
			if err != nil {
				return err
			}
			defer conn.Close()
			bar := progress.New(cmd.ErrOrStderr(), "save")
			info, err := snapshot.Save(ctx, conn.Client, args[0], snapshot.SaveOptions{Progress: func(done, total int64) { bar.Set(done, total) }})
			bar.Finish()
			if err != nil {
				return err
			}
			return printSnapshot(cmd.OutOrStdout(), f.output, "Saved", info)
		},
	}
	f.add(cmd.Flags())
	return cmd
}

func newSnapshotStatusCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status FILE",
		Short: "Check a snapshot: SHA-256 integrity, revision, keys, hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("-o %q: want table or json", output)
			}
			info, err := snapshot.Status(args[0])
			if err != nil {
				return err
			}
			return printSnapshot(cmd.OutOrStdout(), output, "Snapshot", info)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "Output format: table or json.")
	return cmd
}

func newSnapshotRestoreCmd() *cobra.Command {
	var dataDir, etcdDataDir, name, peerURL, output string
	var bump uint64
	var skipHash bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a snapshot into a new data directory, the revision bumped and compacted",
		Long: `Restore a snapshot into the embedded etcd of --data-dir (<data-dir>/etcd, which
must be empty or missing: move the old one away first, with the server
stopped), or into the etcd data directory --etcd-data-dir, with etcdutl's
restore. The revision is raised by --bump-revision and marked compacted
(etcdutl's --bump-revision --mark-compacted), so that clients watching from
before the restore get "compacted" and relist.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("-o %q: want table or json", output)
			}
			dir := etcdDataDir
			if dir == "" {
				dir = server.EmbeddedEtcdDir(dataDir)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			start := time.Now()
			info, err := snapshot.Restore(snapshot.RestoreOptions{Snapshot: args[0], DataDir: abs, Name: name, PeerURL: peerURL,
				BumpRevision: bump, SkipHashCheck: skipHash})
			if err != nil {
				return err
			}
			info.Took = time.Since(start)
			if err := printSnapshot(cmd.OutOrStdout(), output, "Restored", info); err != nil {
				return err
			}
			if bump == 0 && output == "table" {
				fmt.Fprintln(cmd.OutOrStdout(), "warning: --bump-revision 0: informers that watched the old etcd may silently miss changes; restart every client")
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&dataDir, "data-dir", server.DefaultOptions().DataDir, "The regis data directory whose embedded etcd (<data-dir>/etcd) to create.")
	fs.StringVar(&etcdDataDir, "etcd-data-dir", "", "Instead: the etcd data directory to create (an external member's --data-dir).")
	fs.StringVar(&name, "name", "regis", "The member's name (the embedded etcd's is regis).")
	fs.StringVar(&peerURL, "initial-advertise-peer-urls", "https://127.0.0.1:2380", "The member's peer URL.")
	fs.Uint64Var(&bump, "bump-revision", snapshot.DefaultBumpRevision, "How far to raise the revision (then marked compacted); 0: neither.")
	fs.BoolVar(&skipHash, "skip-hash-check", false, "Restore a database file without a SHA-256 trailer (copied from a data directory).")
	fs.StringVarP(&output, "output", "o", "table", "Output format: table or json.")
	return cmd
}

func printSnapshot(w io.Writer, output, verb string, info *snapshot.Info) error {
	if output == "json" {
		return printJSON(w, info)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s:\t%s\n", verb, info.Path)
	fmt.Fprintf(tw, "Size:\t%s (%s bytes)\n", sizing.Bytes(info.Size), progress.Count(info.Size))
	fmt.Fprintf(tw, "Revision:\t%d\n", info.Revision)
	fmt.Fprintf(tw, "Keys:\t%s\n", progress.Count(int64(info.Keys)))
	fmt.Fprintf(tw, "Hash:\t%08x\n", info.Hash)
	if info.Version != "" {
		fmt.Fprintf(tw, "Storage version:\t%s\n", info.Version)
	}
	fmt.Fprintf(tw, "Integrity:\t%s\n", info.Integrity)
	if info.SHA256 != "" {
		fmt.Fprintf(tw, "SHA-256:\t%s\n", info.SHA256)
	}
	if info.Took > 0 {
		fmt.Fprintf(tw, "Took:\t%s\n", info.Took.Round(time.Millisecond))
	}
	return tw.Flush()
}
