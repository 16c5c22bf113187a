package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/regis-dev/regis/internal/ops/source"
	"github.com/regis-dev/regis/internal/server"
)

// The etcd an operator command reads: a live cluster (--etcd-servers),
// the data directory of a server (offline when it is stopped, through its
// etcd when it runs), or a snapshot file (--snapshot).

// opened is the source of an operator command and, when it is live, the
// connection it reads through.
type opened struct {
	Source source.Source
	// Conn is the live connection; nil on a file.
	Conn *server.Conn
}

// Close closes the source and the connection.
func (o *opened) Close() {
	if o.Source != nil {
		_ = o.Source.Close()
	}
	if o.Conn != nil {
		o.Conn.Close()
	}
}

// openSource opens the etcd of o: live with EtcdServers; else the file of
// snapshot, or else the database of DataDir, read offline, or, when a
// server holds it, live through that server's etcd.
func openSource(ctx context.Context, o server.Options, snapshot string) (*opened, error) {
	if len(o.EtcdServers) > 0 {
		conn, err := server.ConnectEtcd(ctx, o)
		if err != nil {
			return nil, err
		}
		return liveOpened(conn), nil
	}
	path := o.DataDir
	if snapshot != "" {
		path = snapshot
	}
	file, err := source.OpenFile(path)
	switch {
	case err == nil:
		return &opened{Source: file}, nil
	case snapshot != "":
		return nil, err
	}
	conn, err := server.ConnectRunning(ctx, o.DataDir, err)
	if err != nil {
		return nil, err
	}
	return liveOpened(conn), nil
}

func liveOpened(conn *server.Conn) *opened {
	return &opened{Conn: conn, Source: &source.Live{KV: conn.Client, Watcher: conn.Client, Name: strings.TrimPrefix(conn.Where, "etcd ")}}
}

// sourceFlags are the flags of the operator commands that read etcd: the
// shared etcd flags, --snapshot, -o and --log-level.
type sourceFlags struct {
	etcd     server.Options
	snapshot string
	output   string
	outputs  []string // allowed -o values, the first is the default
	logLevel string
}

func (f *sourceFlags) add(fs *pflag.FlagSet, outputs ...string) {
	if len(outputs) == 0 {
		outputs = []string{"table", "json"}
	}
	f.outputs = outputs
	f.etcd = server.DefaultOptions()
	addEtcdFlags(fs, &f.etcd)
	fs.StringVar(&f.snapshot, "snapshot", "", "Offline: an etcd snapshot file (regis snapshot save, etcdctl snapshot save) or database file.")
	fs.StringVarP(&f.output, "output", "o", outputs[0], "Output format: "+strings.Join(outputs, ", ")+".")
	fs.StringVar(&f.logLevel, "log-level", "warn", "Lowest level of logs on stderr: debug, info, warn or error.")
}

func (f *sourceFlags) validate(cmd *cobra.Command) error {
	ok := false
	for _, o := range f.outputs {
		ok = ok || o == f.output
	}
	if !ok {
		return fmt.Errorf("-o %q: want %s", f.output, strings.Join(f.outputs, " or "))
	}
	if len(f.etcd.EtcdServers) > 0 && (cmd.Flags().Changed("data-dir") || f.snapshot != "") {
		return errors.New("--etcd-servers reads a live etcd: it does not go with --data-dir or --snapshot")
	}
	return nil
}

func (f *sourceFlags) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// open opens the source of the flags.
func (f *sourceFlags) open(ctx context.Context, log *slog.Logger) (*opened, error) {
	o := f.etcd
	o.Logger = log
	return openSource(ctx, o, f.snapshot)
}
