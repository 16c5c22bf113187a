package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/server"
)

// The etcd that the encryption commands read: a live cluster, the data
// directory of a server (running or stopped), or a snapshot.

// encryptionFlags are the flags the encryption commands share.
type encryptionFlags struct {
	etcd               server.Options // the etcd flags of every command
	snapshot           string
	output             string
	resources          []string
	configs            []string
	logLevel           string
	dataDirWasExplicit bool
}

func (f *encryptionFlags) addEtcd(fs *pflag.FlagSet) {
	f.etcd = server.DefaultOptions()
	addEtcdFlags(fs, &f.etcd)
	fs.StringVarP(&f.output, "output", "o", "table", "Output format: table or json.")
	fs.StringSliceVar(&f.resources, "resource", nil, "Only these resources (secrets, configmaps, deployments.apps, …); repeatable.")
	fs.StringVar(&f.logLevel, "log-level", "warn", "Lowest level of logs on stderr: debug, info, warn or error.")
}

func (f *encryptionFlags) validate(cmd *cobra.Command) error {
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("-o %q: want table or json", f.output)
	}
	f.dataDirWasExplicit = cmd.Flags().Changed("data-dir")
	if len(f.etcd.EtcdServers) > 0 && (f.dataDirWasExplicit || f.snapshot != "") {
		return errors.New("--etcd-servers reads a live etcd: it does not go with --data-dir or --snapshot")
	}
	return nil
}

func (f *encryptionFlags) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func (f *encryptionFlags) groupResources() []schema.GroupResource {
	var out []schema.GroupResource
	for _, r := range f.resources {
		out = append(out, schema.ParseGroupResource(r))
	}
	return out
}

// connect connects to the etcd of the flags (see server.ConnectEtcd).
func (f *encryptionFlags) connect(ctx context.Context, log *slog.Logger) (*server.Conn, error) {
	o := f.etcd
	o.Logger = log
	return server.ConnectEtcd(ctx, o)
}
