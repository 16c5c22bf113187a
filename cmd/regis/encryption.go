package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	opsenc "github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/ops/progress"
	"github.com/regis-dev/regis/internal/server"
)

// addEncryptionServeFlags adds kube-apiserver's encryption flags to
// `regis serve`.
func addEncryptionServeFlags(f *pflag.FlagSet, o *server.Options) {
	f.StringVar(&o.EncryptionProviderConfig, "encryption-provider-config", o.EncryptionProviderConfig,
		"The file containing configuration for encryption providers to be used for storing secrets in etcd (apiserver.config.k8s.io/v1 EncryptionConfiguration).")
	f.BoolVar(&o.EncryptionProviderConfigAutomaticReload, "encryption-provider-config-automatic-reload", o.EncryptionProviderConfigAutomaticReload,
		"Apply each valid change of --encryption-provider-config with no restart; an invalid one is logged and counted, and the configuration in use stays.")
}

// signalContext ends on SIGINT or SIGTERM; a second signal kills.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newEncryptionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "encryption",
		Short: "Audit and rotate encryption at rest: status, rewrite, rotate",
		Long: `Audit and rotate encryption at rest, online.

  status   counts the values of each resource per provider and key (live, or
           offline on a data directory or a snapshot), lists objects left on a
           key the configuration no longer writes with, and counts writes per
           aesgcm key against upstream's advice to rotate before 200,000 writes
  rewrite  re-encrypts every value with the current write key, online,
           resumable
  rotate   walks a whole key rotation on the configuration files, waiting for
           every regis server at each step

Commands take kube-apiserver's etcd flags and -o json.`,
	}
	cmd.AddCommand(newEncryptionStatusCmd(), newEncryptionRewriteCmd(), newEncryptionRotateCmd())
	return cmd
}

func newEncryptionStatusCmd() *cobra.Command {
	f := &encryptionFlags{}
	var maxObjects int
	var check bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Count stored values per resource, provider and key",
		Long: `Count stored values per resource, provider and key, from their headers (no key
is needed), live with --etcd-servers or offline on --data-dir (a stopped
server's) or --snapshot (etcdctl snapshot save). --data-dir of a running
server is read live, through its etcd.

With --encryption-provider-config each key is classed as write (new values
use it), read (readable, not written any more: rewrite moves them) or
unreadable; live, without it, the keys a running regis server publishes are
used. aesgcm keys are counted against upstream's advice to rotate before
200,000 writes: "counted" is what regis processes counted when encrypting,
"stored" the values under the key etcd holds (live ones, and past ones in a
file), a lower bound whoever wrote them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			opts := opsenc.StatusOptions{Prefix: f.etcd.EtcdPrefix, Resources: f.groupResources(), MaxObjects: maxObjects}
			if len(f.configs) > 0 {
				file, err := encryptionconfig.ReadFile(f.configs[0])
				if err != nil {
					return err
				}
				opts.Rules, opts.RulesFrom = opsenc.RulesOfConfig(file.Config), "config "+f.configs[0]+" ("+file.Hash+")"
			}
			eo := f.etcd
			eo.Logger = f.logger(cmd.ErrOrStderr())
			src, err := openSource(ctx, eo, f.snapshot)
			if err != nil {
				return err
			}
			defer src.Close()
			conn := src.Conn // live
			if conn != nil {
				c := conn.Client
				if opts.WriteCounts, err = peers.ReadWriteCounts(ctx, c, peers.NewLayout(f.etcd.EtcdPrefix)); err != nil {
					return err
				}
				if opts.Rules == nil {
					regs, err := peers.List(ctx, c, peers.NewLayout(f.etcd.EtcdPrefix))
					if err != nil {
						return err
					}
					if len(regs) > 0 {
						opts.Rules, opts.RulesFrom = regs[0].Rules, "server "+regs[0].Name()
					}
				}
			}
			bar := progress.New(cmd.ErrOrStderr(), "scan")
			opts.Progress = func(n int64) { bar.Set(n, 0) }
			rep, err := opsenc.Status(ctx, src.Source, opts)
			bar.Finish()
			if err != nil {
				return err
			}
			if f.output == "json" {
				err = printJSON(cmd.OutOrStdout(), rep)
			} else {
				err = printStatus(cmd.OutOrStdout(), rep)
			}
			if err == nil && check {
				if left := rep.NotOn(); len(left) > 0 {
					return fmt.Errorf("values not on their write key: %s", strings.Join(left, "; "))
				}
			}
			return err
		},
	}
	fs := cmd.Flags()
	f.addEtcd(fs)
	fs.StringVar(&f.snapshot, "snapshot", "", "Offline: an etcd snapshot file (etcdctl snapshot save) or database file.")
	fs.StringSliceVar(&f.configs, "encryption-provider-config", nil, "The EncryptionConfiguration to class keys with (write, read, unreadable).")
	fs.IntVar(&maxObjects, "max-objects", opsenc.DefaultMaxObjects, "Objects listed per key that is not the write key; -1 lists none.")
	fs.BoolVar(&check, "check", false, "Exit with an error if any value is not on its write key (for scripts).")
	return cmd
}

func newEncryptionRewriteCmd() *cobra.Command {
	f := &encryptionFlags{}
	var o opsenc.RewriteOptions
	var force bool
	cmd := &cobra.Command{
		Use:   "rewrite",
		Short: "Re-encrypt every value with the current write key, online and resumable",
		Long: `Re-encrypt, online, every value that --encryption-provider-config reads but
would write otherwise (another provider or key, an old KMS v2 key_id). Each
value is replaced with a compare-and-swap on its revision, keeping its
lease, so concurrent writes are never lost. Progress is saved in etcd after
each page: after an interruption, run the command again to resume.

The configuration must be the servers' own: the command refuses to run
while a live regis server writes a configured resource with another key
(--force overrides).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			if len(f.configs) != 1 {
				return errors.New("--encryption-provider-config is required (once)")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			log := f.logger(cmd.ErrOrStderr())
			counts := peers.NewWriteCounter()
			set, err := encryptionconfig.Load(ctx, f.configs[0], encryptionconfig.BuildOptions{
				KMSv2: encryptionconfig.KMSv2Plugins(log), AESGCMWrites: counts.Hook,
			})
			if err != nil {
				return err
			}
			defer set.Close()
			conn, err := f.connect(ctx, log)
			if err != nil {
				return err
			}
			defer conn.Close()
			c := conn.Client
			layout := peers.NewLayout(f.etcd.EtcdPrefix)
			if bad, err := opsenc.ServersDisagree(ctx, c, f.etcd.EtcdPrefix, peers.RulesOf(set)); err != nil {
				return err
			} else if len(bad) > 0 && !force {
				return fmt.Errorf("live servers write with other keys than %s, so their writes would not be re-encrypted; wait until they reload it (or pass --force): %s",
					f.configs[0], strings.Join(bad, "; "))
			}
			o.Client, o.Prefix, o.Set, o.Resources, o.Logger = c, f.etcd.EtcdPrefix, set, f.groupResources(), log
			bar := progress.New(cmd.ErrOrStderr(), "rewrite")
			o.Progress = func(p opsenc.RewriteProgress) {
				bar.Set(p.Done, p.Total)
				bar.Note(progress.Count(p.Rewritten) + " rewritten")
			}
			res, err := opsenc.Rewrite(ctx, o)
			bar.Finish()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if ferr := counts.Flush(fctx, c, layout); ferr != nil {
				log.Warn("could not save the aesgcm write counts", "error", ferr)
			}
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; the progress is saved: run the same command again to resume: %w", err)
				}
				return err
			}
			if f.output == "json" {
				err = printJSON(cmd.OutOrStdout(), res)
			} else {
				err = printRewrite(cmd.OutOrStdout(), res)
			}
			if err == nil && res.Failed > 0 {
				err = fmt.Errorf("%d value(s) could not be rewritten", res.Failed)
			}
			return err
		},
	}
	fs := cmd.Flags()
	f.addEtcd(fs)
	fs.StringSliceVar(&f.configs, "encryption-provider-config", nil, "The EncryptionConfiguration the servers use (required).")
	fs.IntVar(&o.Concurrency, "concurrency", opsenc.DefaultConcurrency, "Objects rewritten at once.")
	fs.Float64Var(&o.Rate, "rate", 0, "Most objects read per second; 0 is unbounded.")
	fs.BoolVar(&o.Restart, "restart", false, "Ignore a saved checkpoint and start from the first key.")
	fs.BoolVar(&force, "force", false, "Rewrite even while live servers write with other keys.")
	return cmd
}

func newEncryptionRotateCmd() *cobra.Command {
	f := &encryptionFlags{}
	var o opsenc.RotateOptions
	var secretFile string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate a write key across every server: add, promote, rewrite, verify, drop",
		Long: `Rotate the write key of the entry that writes --resource (secrets by
default) in the EncryptionConfiguration files of --encryption-provider-config
(each server's, repeatable), online, with no restart:

  1. add      the new key is added as a read key; wait until every live regis
              server reads it
  2. promote  the new key becomes the write key; wait until every live server
              writes with it
  3. rewrite  every value is re-encrypted with it
  4. verify   every value is checked to be under it
  5. drop     the old key leaves the files, refused while any stored value
              still needs it; wait until no server reads with it

Servers apply the files with --encryption-provider-config-automatic-reload
and publish the keys they read in etcd; a server on another machine needs
its file updated there (the command waits, naming the servers it waits for).
The new key is random unless --new-key-secret-file is given; it is written
to the files only. Progress is recorded in etcd: after an interruption, run
the command again to resume. The files are rewritten without comments.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			if len(f.configs) == 0 {
				return errors.New("--encryption-provider-config is required")
			}
			resource := "secrets"
			switch len(f.resources) {
			case 0:
			case 1:
				resource = f.resources[0]
			default:
				return errors.New("rotate takes one --resource: the entry that writes it is rotated")
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			log := f.logger(cmd.ErrOrStderr())
			if secretFile != "" {
				data, err := os.ReadFile(secretFile)
				if err != nil {
					return fmt.Errorf("--new-key-secret-file: %w", err)
				}
				o.NewKeySecret = strings.TrimSpace(string(data))
				clear(data)
			}
			conn, err := f.connect(ctx, log)
			if err != nil {
				return err
			}
			defer conn.Close()
			c := conn.Client
			counts := peers.NewWriteCounter()
			defer func() {
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = counts.Flush(fctx, c, peers.NewLayout(f.etcd.EtcdPrefix))
			}()
			errw := cmd.ErrOrStderr()
			var bar *progress.Bar
			o.Client, o.Prefix, o.ConfigPaths, o.Resource, o.Logger = c, f.etcd.EtcdPrefix, f.configs, schema.ParseGroupResource(resource), log
			o.Build = encryptionconfig.BuildOptions{KMSv2: encryptionconfig.KMSv2Plugins(log), AESGCMWrites: counts.Hook}
			o.OnStep = func(s opsenc.Step) {
				switch {
				case s.Phase == opsenc.PhaseRewrite && !s.Done:
					fmt.Fprintf(errw, "%-8s %s\n", s.Phase, s.Detail)
					bar = progress.New(errw, "rewrite")
					return
				case s.Phase == opsenc.PhaseRewrite && bar != nil:
					bar.Finish()
				}
				mark := "…"
				if s.Done {
					mark = "✓"
				}
				fmt.Fprintf(errw, "%-8s %s %s\n", s.Phase, mark, s.Detail)
				for _, w := range s.Waiting {
					fmt.Fprintf(errw, "           %s\n", w)
				}
			}
			o.RewriteProgress = func(p opsenc.RewriteProgress) {
				if bar != nil {
					bar.Set(p.Done, p.Total)
					bar.Note(progress.Count(p.Rewritten) + " rewritten")
				}
			}
			res, err := opsenc.Rotate(ctx, o)
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted; the rotation is recorded in etcd: run the same command again to resume: %w", err)
				}
				return err
			}
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), res)
			}
			return printRotate(cmd.OutOrStdout(), res)
		},
	}
	fs := cmd.Flags()
	f.addEtcd(fs)
	fs.StringSliceVar(&f.configs, "encryption-provider-config", nil, "The servers' EncryptionConfiguration files to edit (repeatable; required).")
	fs.StringVar(&o.Provider, "provider", "", "Provider of the new key: aescbc, aesgcm or secretbox (default: the write provider's, else aescbc).")
	fs.StringVar(&o.NewKeyName, "new-key-name", "", `Name of the new key (default: counts up from the write key's, "key1" → "key2").`)
	fs.StringVar(&secretFile, "new-key-secret-file", "", "File holding the new key's base64 material (default: 32 random bytes).")
	fs.BoolVar(&o.KeepOldKey, "keep-old-key", false, "Stop before dropping the old key.")
	fs.IntVar(&o.MinServers, "min-servers", 0, "Also wait at each step until at least this many regis servers are live.")
	fs.DurationVar(&o.WaitTimeout, "wait-timeout", opsenc.DefaultWaitTimeout, "Longest wait for the servers at each step.")
	fs.IntVar(&o.Concurrency, "concurrency", opsenc.DefaultConcurrency, "Objects rewritten at once.")
	fs.Float64Var(&o.Rate, "rate", 0, "Most objects read per second by the rewrite; 0 is unbounded.")
	return cmd
}
