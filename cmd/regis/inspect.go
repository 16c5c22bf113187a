package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/ops/inspect"
	"github.com/regis-dev/regis/internal/ops/progress"
	"github.com/regis-dev/regis/internal/ops/source"
)

func newInspectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Decode what is stored in etcd: keys, objects, their bytes and revisions",
		Long: `Decode what kube-apiserver or regis stored in etcd, live (--etcd-servers,
or the data directory of a running server) or offline (a stopped server's
--data-dir, or --snapshot).

  ls [PREFIX]     keys with size, format, encryption provider and key, and
                  counts per resource
  get KEY         the object as YAML or JSON, decrypted with
                  --encryption-provider-config; --raw explains its bytes
  history KEY     every revision etcd still holds, with what changed
  watch [PREFIX]  decoded changes as they happen (live only)

KEY is an etcd key ("/registry/pods/default/web") or one under the etcd
prefix ("pods/default/web"); nodes are found as /registry/nodes/... too.`,
	}
	cmd.AddCommand(newInspectLsCmd(), newInspectGetCmd(), newInspectHistoryCmd(), newInspectWatchCmd())
	return cmd
}

// inspectFlags are the flags of every inspect command.
type inspectFlags struct {
	sourceFlags
	config string
}

func (f *inspectFlags) addConfig(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "encryption-provider-config", "",
		"The EncryptionConfiguration to decrypt with (every provider; KMS v2 through its plugin's socket).")
}

// decoder builds the decoder of the flags; close releases its KMS plugins.
func (f *inspectFlags) decoder(ctx context.Context, log *slog.Logger) (inspect.Decoder, func(), error) {
	d := inspect.Decoder{EtcdPrefix: f.etcd.EtcdPrefix}
	if f.config == "" {
		return d, func() {}, nil
	}
	set, err := encryptionconfig.Load(ctx, f.config, encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(log)})
	if err != nil {
		return d, nil, fmt.Errorf("--encryption-provider-config: %w", err)
	}
	d.Transformers = set
	return d, set.Close, nil
}

func newInspectLsCmd() *cobra.Command {
	f := &inspectFlags{}
	var summary bool
	cmd := &cobra.Command{
		Use:   "ls [PREFIX]",
		Short: "List keys with size, format and encryption, and count them per resource",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := f.logger(cmd.ErrOrStderr())
			dec, closeDec, err := f.decoder(ctx, log)
			if err != nil {
				return err
			}
			defer closeDec()
			src, err := f.open(ctx, log)
			if err != nil {
				return err
			}
			defer src.Close()
			o := inspect.LsOptions{EtcdPrefix: f.etcd.EtcdPrefix, Decoder: &dec}
			if len(args) == 1 {
				o.Prefix = args[0]
			}
			bar := progress.New(cmd.ErrOrStderr(), "ls")
			o.Progress = func(n int64) { bar.Set(n, 0) }
			p := newLsPrinter(cmd.OutOrStdout(), f.output, summary)
			sum, err := inspect.Ls(ctx, src.Source, o, p.entry)
			bar.Finish()
			if err != nil {
				return err
			}
			return p.finish(sum)
		},
	}
	f.add(cmd.Flags())
	f.addConfig(cmd)
	cmd.Flags().BoolVar(&summary, "summary", false, "Only the counts per resource, no key.")
	return cmd
}

func newInspectGetCmd() *cobra.Command {
	f := &inspectFlags{}
	var raw bool
	var rev int64
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print the object stored under KEY, decrypted and decoded (--raw: its bytes explained)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := f.logger(cmd.ErrOrStderr())
			dec, closeDec, err := f.decoder(ctx, log)
			if err != nil {
				return err
			}
			defer closeDec()
			src, err := f.open(ctx, log)
			if err != nil {
				return err
			}
			defer src.Close()
			g, ok := src.Source.(source.Getter)
			if !ok {
				return errors.New("this source cannot read one key")
			}
			key := inspect.NormalizeKey(f.etcd.EtcdPrefix, args[0])
			kv, err := g.Get(ctx, key, rev)
			if err != nil {
				return err
			}
			d := dec.Decode(ctx, key, kv.Value)
			if raw {
				return printRaw(cmd.OutOrStdout(), f.output, kv, d)
			}
			if d.Object == nil {
				return fmt.Errorf("%s (revision %d): %s", key, kv.ModRevision, d.Error)
			}
			return printObject(cmd.OutOrStdout(), f.output, kv, d)
		},
	}
	f.add(cmd.Flags(), "yaml", "json")
	f.addConfig(cmd)
	cmd.Flags().BoolVar(&raw, "raw", false, "A hex dump of the stored bytes, each part of the envelope explained.")
	cmd.Flags().Int64Var(&rev, "revision", 0, "Read at this etcd revision (0: the newest); a compacted one is refused.")
	return cmd
}

func newInspectHistoryCmd() *cobra.Command {
	f := &inspectFlags{}
	cmd := &cobra.Command{
		Use:   "history KEY",
		Short: "Every revision of KEY that etcd still holds, with what changed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			log := f.logger(cmd.ErrOrStderr())
			dec, closeDec, err := f.decoder(ctx, log)
			if err != nil {
				return err
			}
			defer closeDec()
			src, err := f.open(ctx, log)
			if err != nil {
				return err
			}
			defer src.Close()
			g, ok := src.Source.(source.Getter)
			if !ok {
				return errors.New("this source holds no history")
			}
			key := inspect.NormalizeKey(f.etcd.EtcdPrefix, args[0])
			p := newEventPrinter(cmd.OutOrStdout(), f.output)
			n := 0
			err = inspect.History(ctx, g, dec, key, func(r inspect.Revision) error {
				n++
				return p.revision(key, r)
			})
			if err == nil && n == 0 {
				err = fmt.Errorf("%s: no revision held", key)
			}
			return errors.Join(err, p.finish())
		},
	}
	f.add(cmd.Flags(), "table", "json", "yaml")
	f.addConfig(cmd)
	return cmd
}

func newInspectWatchCmd() *cobra.Command {
	f := &inspectFlags{}
	var rev int64
	cmd := &cobra.Command{
		Use:   "watch [PREFIX]",
		Short: "Stream the changes under PREFIX, decoded, until interrupted (live only)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			if f.snapshot != "" {
				return errors.New("watch needs a live etcd, not a snapshot")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			log := f.logger(cmd.ErrOrStderr())
			dec, closeDec, err := f.decoder(ctx, log)
			if err != nil {
				return err
			}
			defer closeDec()
			src, err := f.open(ctx, log)
			if err != nil {
				return err
			}
			defer src.Close()
			if src.Conn == nil {
				return fmt.Errorf("watch needs a live etcd: %s is not running (--etcd-servers, or the data dir of a running server)", src.Source.Describe())
			}
			prefix := inspect.NormalizeKey(f.etcd.EtcdPrefix, "")
			if len(args) == 1 {
				prefix = inspect.NormalizeKey(f.etcd.EtcdPrefix, args[0])
			}
			return watchPrint(ctx, src.Conn.Client, dec, prefix, rev, newEventPrinter(cmd.OutOrStdout(), f.output))
		},
	}
	f.add(cmd.Flags(), "table", "json", "yaml")
	f.addConfig(cmd)
	cmd.Flags().Int64Var(&rev, "revision", 0, "Start at this revision (0: changes from now on).")
	return cmd
}

// watchPrint prints the events under prefix until ctx ends.
func watchPrint(ctx context.Context, w clientv3.Watcher, dec inspect.Decoder, prefix string, rev int64, p *eventPrinter) error {
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithPrevKV()}
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	for resp := range w.Watch(clientv3.WithRequireLeader(ctx), prefix, opts...) {
		if err := resp.Err(); err != nil {
			return err
		}
		for _, ev := range resp.Events {
			r := inspect.Revision{Revision: ev.Kv.ModRevision, Type: inspect.Modified}
			key := string(ev.Kv.Key)
			switch {
			case ev.Type == clientv3.EventTypeDelete:
				r.Type = inspect.Deleted
			case ev.IsCreate():
				r.Type = inspect.Added
			}
			if r.Type != inspect.Deleted {
				r.Value = dec.Decode(ctx, key, ev.Kv.Value)
				if ev.PrevKv != nil {
					if old := dec.Decode(ctx, key, ev.PrevKv.Value); old.Object != nil && r.Value.Object != nil {
						r.Changes = inspect.Changes(old.Object, r.Value.Object)
					}
				}
			}
			if err := p.revision(key, r); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return p.finish()
	}
	return errors.New("the watch ended")
}
