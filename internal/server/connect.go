package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
)

// The operator commands' way to etcd: a live cluster (EtcdServers), or the
// data directory of a server, running (its etcd) or stopped (an etcd
// started on it for the time of the command).

// Conn is a client of the etcd of Options, for an operator command.
type Conn struct {
	// Client is connected and answered once.
	Client *clientv3.Client
	// Where names the etcd for messages: "etcd URL", "etcd URL (data dir
	// D)" or "data dir D".
	Where string

	close func()
}

// Close closes the client and stops the etcd that ConnectEtcd started.
func (c *Conn) Close() { c.close() }

// liveProbeTimeout bounds the wait for the etcd a data directory records:
// after a crash the record names a member that is gone.
const liveProbeTimeout = 5 * time.Second

// ConnectEtcd connects to the etcd of EtcdServers (with EtcdCAFile,
// EtcdCertFile, EtcdKeyFile), or else to the etcd of DataDir: the etcd of
// the server running on it, or, when none runs there, an etcd started on
// it, on free ports, until Close. Either is reached with the data
// directory's own client certificate.
func ConnectEtcd(ctx context.Context, o Options) (*Conn, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if len(o.EtcdServers) > 0 {
		tlsCfg, err := etcd.TLSConfig(o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile)
		if err != nil {
			return nil, err
		}
		c, err := dialChecked(ctx, o.EtcdServers, tlsCfg, etcd.DialTimeout)
		if err != nil {
			return nil, err
		}
		return &Conn{Client: c, Where: "etcd " + strings.Join(o.EtcdServers, ","), close: func() { c.Close() }}, nil
	}
	// Offline unless a server holds the data directory: then its etcd.
	db, _, err := etcd.OpenDB(EmbeddedEtcdDir(o.DataDir))
	if err != nil {
		return ConnectRunning(ctx, o.DataDir, err)
	}
	db.Close()
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, err
	}
	// The offline member is secured as the server's, on free ports.
	p, err := etcd.EnsurePKI(EmbeddedEtcdPKIDir(abs))
	if err != nil {
		return nil, err
	}
	tlsCfg, err := p.ClientTLS()
	if err != nil {
		return nil, err
	}
	cfg := etcd.EmbeddedConfig{DataDir: EmbeddedEtcdDir(abs), Logger: log}
	p.Apply(&cfg)
	e, err := etcd.StartEmbedded(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c, err := etcd.NewClient([]string{e.Endpoint}, etcd.WithTLS(tlsCfg))
	if err != nil {
		e.Close()
		return nil, err
	}
	return &Conn{Client: c, Where: "data dir " + o.DataDir, close: func() { c.Close(); e.Close() }}, nil
}

// ConnectRunning connects to the etcd of the server running on dataDir,
// whose database could not be opened offline (offlineErr, reported when
// no server runs there either), with the data directory's client
// certificate.
func ConnectRunning(ctx context.Context, dataDir string, offlineErr error) (*Conn, error) {
	p := etcd.PKI{Dir: EmbeddedEtcdPKIDir(dataDir)}
	howTo := fmt.Sprintf("to reach a running server's etcd, pass instead of --data-dir: --etcd-servers https://127.0.0.1:2379 (its --embedded-etcd-client-port) --etcd-cafile %s --etcd-certfile %s --etcd-keyfile %s",
		p.CAFile(), p.ClientCertFile(), p.ClientKeyFile())
	if _, err := os.Stat(p.ClientKeyFile()); err != nil {
		return nil, fmt.Errorf("--data-dir %s: %w", dataDir, offlineErr)
	}
	endpoint, err := EmbeddedEtcdEndpoint(dataDir)
	if err != nil || endpoint == "" {
		return nil, fmt.Errorf("--data-dir %s: %w; %s", dataDir, offlineErr, howTo)
	}
	tlsCfg, err := p.ClientTLS()
	if err == nil {
		var c *clientv3.Client
		if c, err = dialChecked(ctx, []string{endpoint}, tlsCfg, liveProbeTimeout); err == nil {
			return &Conn{Client: c, Where: "etcd " + endpoint + " (data dir " + dataDir + ")", close: func() { c.Close() }}, nil
		}
	}
	return nil, fmt.Errorf("--data-dir %s: %w; the etcd it records at %s did not answer: %v; %s", dataDir, offlineErr, endpoint, err, howTo)
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
