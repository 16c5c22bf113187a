package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/etcd"
	opsenc "github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/server"
)

// The etcd that the encryption commands read: a live cluster, the data
// directory of a server (running or stopped), or a snapshot.

// encryptionFlags are the flags the encryption commands share.
type encryptionFlags struct {
	etcdServers        []string
	caFile, certFile   string
	keyFile, prefix    string
	dataDir, snapshot  string
	output             string
	resources          []string
	configs            []string
	logLevel           string
	dataDirWasExplicit bool
}

func (f *encryptionFlags) addEtcd(fs *pflag.FlagSet, offline string) {
	fs.StringSliceVar(&f.etcdServers, "etcd-servers", nil, "etcd servers to connect to (scheme://ip:port, comma separated): a live etcd.")
	fs.StringVar(&f.caFile, "etcd-cafile", "", "SSL Certificate Authority file used to secure etcd communication.")
	fs.StringVar(&f.certFile, "etcd-certfile", "", "SSL certification file used to secure etcd communication.")
	fs.StringVar(&f.keyFile, "etcd-keyfile", "", "SSL key file used to secure etcd communication.")
	fs.StringVar(&f.prefix, "etcd-prefix", "/registry", "The prefix of all resource paths in etcd.")
	fs.StringVar(&f.dataDir, "data-dir", "./regis-data", offline)
	fs.StringVarP(&f.output, "output", "o", "table", "Output format: table or json.")
	fs.StringSliceVar(&f.resources, "resource", nil, "Only these resources (secrets, configmaps, deployments.apps, …); repeatable.")
	fs.StringVar(&f.logLevel, "log-level", "warn", "Lowest level of logs on stderr: debug, info, warn or error.")
}

func (f *encryptionFlags) validate(cmd *cobra.Command) error {
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("-o %q: want table or json", f.output)
	}
	f.dataDirWasExplicit = cmd.Flags().Changed("data-dir")
	if len(f.etcdServers) > 0 && (f.dataDirWasExplicit || f.snapshot != "") {
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

// connect returns a client of the live etcd (--etcd-servers), or else of
// the etcd of --data-dir: the etcd of the server running on it, or, when
// none runs there, an etcd started on it for the time of the command.
// Either is reached with the data directory's own client certificate.
// close stops what connect started.
func (f *encryptionFlags) connect(ctx context.Context, log *slog.Logger) (c *clientv3.Client, where string, close func(), err error) {
	if len(f.etcdServers) > 0 {
		tlsCfg, err := etcd.TLSConfig(f.caFile, f.certFile, f.keyFile)
		if err != nil {
			return nil, "", nil, err
		}
		c, err := dialChecked(ctx, f.etcdServers, tlsCfg, etcd.DialTimeout)
		if err != nil {
			return nil, "", nil, err
		}
		return c, "etcd " + strings.Join(f.etcdServers, ","), func() { c.Close() }, nil
	}
	// Offline unless a server holds the data directory: then its etcd.
	dir := server.EmbeddedEtcdDir(f.dataDir)
	probe, err := opsenc.OpenFile(dir)
	if err != nil {
		c, where, err := f.liveDataDir(ctx, err)
		if err != nil {
			return nil, "", nil, err
		}
		return c, where, func() { c.Close() }, nil
	}
	probe.Close()
	abs, err := filepath.Abs(f.dataDir)
	if err != nil {
		return nil, "", nil, err
	}
	// The offline member is secured as the server's, on free ports.
	p, err := etcd.EnsurePKI(server.EmbeddedEtcdPKIDir(abs))
	if err != nil {
		return nil, "", nil, err
	}
	tlsCfg, err := p.ClientTLS()
	if err != nil {
		return nil, "", nil, err
	}
	cfg := etcd.EmbeddedConfig{DataDir: server.EmbeddedEtcdDir(abs), Logger: log}
	p.Apply(&cfg)
	e, err := etcd.StartEmbedded(ctx, cfg)
	if err != nil {
		return nil, "", nil, err
	}
	c, err = etcd.NewClient([]string{e.Endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		e.Close()
		return nil, "", nil, err
	}
	return c, "data dir " + f.dataDir, func() { c.Close(); e.Close() }, nil
}

// liveProbeTimeout bounds the wait for the etcd a data directory records:
// after a crash the record names a member that is gone.
const liveProbeTimeout = 5 * time.Second

// liveDataDir connects to the etcd of the server running on --data-dir,
// which offline failed to open (offlineErr), with the data directory's
// client certificate. It returns "etcd URL (data dir D)" as where.
func (f *encryptionFlags) liveDataDir(ctx context.Context, offlineErr error) (*clientv3.Client, string, error) {
	p := etcd.PKI{Dir: server.EmbeddedEtcdPKIDir(f.dataDir)}
	howTo := fmt.Sprintf("to reach a running server's etcd, pass instead of --data-dir: --etcd-servers https://127.0.0.1:2379 (its --embedded-etcd-client-port) --etcd-cafile %s --etcd-certfile %s --etcd-keyfile %s",
		p.CAFile(), p.ClientCertFile(), p.ClientKeyFile())
	if _, err := os.Stat(p.ClientKeyFile()); err != nil {
		return nil, "", fmt.Errorf("--data-dir %s: %w", f.dataDir, offlineErr)
	}
	endpoint, err := server.EmbeddedEtcdEndpoint(f.dataDir)
	if err != nil || endpoint == "" {
		return nil, "", fmt.Errorf("--data-dir %s: %w; %s", f.dataDir, offlineErr, howTo)
	}
	tlsCfg, err := p.ClientTLS()
	if err == nil {
		var c *clientv3.Client
		if c, err = dialChecked(ctx, []string{endpoint}, tlsCfg, liveProbeTimeout); err == nil {
			return c, "etcd " + endpoint + " (data dir " + f.dataDir + ")", nil
		}
	}
	return nil, "", fmt.Errorf("--data-dir %s: %w; the etcd it records at %s did not answer: %v; %s", f.dataDir, offlineErr, endpoint, err, howTo)
}

// dialChecked connects to endpoints and checks, within timeout, that etcd
// answers.
func dialChecked(ctx context.Context, endpoints []string, tlsCfg *tls.Config, timeout time.Duration) (*clientv3.Client, error) {
	c, err := etcd.NewClient(endpoints, etcd.WithTLS(tlsCfg), etcd.WithDialTimeout(timeout))
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := c.Get(rctx, "/", clientv3.WithCountOnly()); err != nil {
		c.Close()
		return nil, fmt.Errorf("etcd at %v: %w", endpoints, err)
	}
	return c, nil
}
