package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/pki"
)

// readyTimeout is how long Start waits for etcd to answer, as upstream
// waits for its gRPC connection (storagebackend/factory/etcd3.go).
const readyTimeout = etcd.DialTimeout

// ServeFunc is the part of a server above etcd: it builds the storage,
// registry and HTTP layers from b and serves until ctx ends.
type ServeFunc func(ctx context.Context, b *Backend) error

// Backend is a running etcd side of a server: what the storage layer is
// built from. Its fields are read-only.
type Backend struct {
	// Client is connected to etcd. It is shared: do not close it.
	Client *clientv3.Client
	// Endpoints are etcd's client URLs.
	Endpoints []string
	// Prefix is --etcd-prefix made absolute and clean ("/registry"):
	// resource keys are Prefix + "/" + resource path.
	Prefix string
	// MediaType is --storage-media-type: how built-in resources are encoded.
	MediaType string
	// Compactor runs the cluster's compaction protocol; its CompactRevision
	// is the storage's compacted revision (reads below it are 410 Gone).
	Compactor *etcd.Compactor
	// Health probes etcd for /healthz, /livez and /readyz.
	Health *etcd.HealthCheck
	// Embedded is the embedded etcd, nil with --etcd-servers.
	Embedded *etcd.Embedded
	// ID identifies this server among the servers of one etcd (in the
	// encryption coordination keys and metrics).
	ID string

	encryption *encryption // see TransformerForResource

	// Embedded HA (embedded_ha.go): the etcd CA and token file of a
	// --cluster-init server's join endpoint; the data directory and
	// --leave of a member.
	joinCA        *pki.CA
	overrides     *overrideBackends // --etcd-servers-overrides (overrides.go)
	joinTokenFile string
	sharedDir     string // the API PKI directory whose CA and keys joiners get
	dataDir       string
	leave         bool

	tls          *tls.Config
	local        bool   // Endpoints is the embedded etcd's socket: no TLS
	endpointFile string // the record of the embedded etcd's endpoint
	log          *slog.Logger
	stop         context.CancelFunc // stops the compactor
	wg           sync.WaitGroup     // the compactor's goroutine
	closeOnce    sync.Once
	closeErr     error
}

// Start starts the embedded etcd (unless o.EtcdServers is set) on
// 127.0.0.1, secured by mutual TLS with the certificates of
// EmbeddedEtcdPKIDir (generated on first start), connects a client, waits
// until etcd answers, and starts the compactor. ctx bounds the start only.
// The caller calls Close.
func Start(ctx context.Context, o Options) (_ *Backend, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	tlsCfg, err := etcd.TLSConfig(o.EtcdCAFile, o.EtcdCertFile, o.EtcdKeyFile)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		ID:        newServerID(),
		Endpoints: o.EtcdServers,
		Prefix:    path.Join("/", o.EtcdPrefix),
		MediaType: o.StorageMediaType,
		tls:       tlsCfg,
		log:       log,
		stop:      func() {},
	}
	defer func() {
		if err != nil {
			_ = b.Close()
		}
	}()
	if b.encryption, err = loadEncryption(ctx, o, b.ID, log); err != nil {
		return nil, err
	}

	if len(o.EtcdServers) == 0 {
		start := b.startEmbedded
		if o.ClusterInit || o.Join != "" {
			start = b.startEmbeddedHA
		}
		if err := start(ctx, o); err != nil {
			return nil, err
		}
	}

	if b.Client, err = b.NewClient(); err != nil {
		return nil, err
	}
	b.Health = etcd.NewHealthCheck(b.Client, b.Prefix, etcd.DefaultHealthTimeout)
	rctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if _, err := b.Client.Get(rctx, b.Health.Key()); err != nil {
		return nil, fmt.Errorf("etcd at %v not ready: %w", b.Endpoints, err)
	}
	log.Info("connected to etcd", "endpoints", b.Endpoints, "tls", b.tls != nil && !b.local, "prefix", b.Prefix, "storage-media-type", b.MediaType)

	b.Compactor = etcd.NewCompactor(b.Client, o.EtcdCompactionInterval, log.With("component", "compactor"))
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b.stop = stop
	b.wg.Go(func() { _ = b.Compactor.Run(cctx) })
	if err := b.startOverrides(ctx, o); err != nil {
		return nil, err
	}
	if err := b.encryption.start(cctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// EmbeddedEtcdDir is where the embedded etcd of a data directory keeps its
// data.
func EmbeddedEtcdDir(dataDir string) string { return filepath.Join(dataDir, "etcd") }

// EmbeddedEtcdPKIDir is where the embedded etcd of a data directory keeps
// its certificates (etcd.PKI): its CA, its serving and peer certificates
// and the client certificate it accepts.
func EmbeddedEtcdPKIDir(dataDir string) string { return filepath.Join(dataDir, "pki", "etcd") }

// endpointFile records, while a server runs, the client URL of its
// embedded etcd, for the operator commands given the data directory.
const endpointFile = "endpoint"

// localSocketFile is the unix socket, in the embedded etcd's PKI
// directory, on which the member serves the server's own client
// (etcd.EmbeddedConfig.LocalSocket).
const localSocketFile = "client.sock"

// EmbeddedEtcdEndpoint returns the client URL that the embedded etcd of
// dataDir served on when it last started, "" if none is recorded. The
// record is removed at shutdown, but a server that crashed leaves it: only
// believe it when the data is in use (and trust the member by the PKI's
// CA, as etcd.PKI.ClientTLS does).
func EmbeddedEtcdEndpoint(dataDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(EmbeddedEtcdPKIDir(dataDir), endpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(data)), err
}

// startEmbedded makes sure the data directory has the etcd PKI, starts the
// embedded etcd on loopback with it and sets b's endpoint and client TLS.
func (b *Backend) startEmbedded(ctx context.Context, o Options) error {
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	dir := EmbeddedEtcdDir(dataDir)
	p, err := etcd.EnsurePKI(EmbeddedEtcdPKIDir(dataDir))
	if err != nil {
		return err
	}
	if len(p.Generated) > 0 {
		b.log.Info("embedded etcd certificates written", "dir", p.Dir, "files", p.Generated)
	}
	if b.tls, err = p.ClientTLS(); err != nil {
		return err
	}
	cfg := etcd.EmbeddedConfig{DataDir: dir, Logger: b.log, LogLevel: o.EtcdLogLevel, UnsafeNoFsync: o.EtcdUnsafeNoFsync,
		ClientURL: loopbackURL(o.EmbeddedEtcdClientPort), PeerURL: loopbackURL(o.EmbeddedEtcdPeerPort),
		LocalSocket: filepath.Join(p.Dir, localSocketFile)}
	p.Apply(&cfg)
	if b.Embedded, err = etcd.StartEmbedded(ctx, cfg); err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			err = fmt.Errorf("%w (is another etcd, or regis serve, running? choose other ports with --embedded-etcd-client-port and --embedded-etcd-peer-port, 0 for any free one)", err)
		}
		return err
	}
	b.Endpoints = []string{b.Embedded.Endpoint}
	if b.Embedded.LocalEndpoint != "" {
		// The server's own client: the socket in the PKI's directory
		// (0700, beside the client key), gRPC without TLS.
		b.Endpoints, b.local = []string{b.Embedded.LocalEndpoint}, true
	}
	b.endpointFile = filepath.Join(p.Dir, endpointFile)
	if err := pki.WriteFile(b.endpointFile, []byte(b.Embedded.Endpoint+"\n"), 0o644); err != nil {
		b.log.Warn("could not record the embedded etcd's endpoint", "error", err)
	}
	b.log.Info("embedded etcd started", "data", dir, "endpoint", b.Embedded.Endpoint, "pki", p.Dir)
	return nil
}

// loopbackURL is the https URL of port on 127.0.0.1, "" (a free port) for 0.
func loopbackURL(port int) string {
	if port == 0 {
		return ""
	}
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// NewClient returns a new client of the same etcd with the same settings,
// for parts that want a connection of their own (kube-apiserver gives one
// to each resource). The caller closes it.
func (b *Backend) NewClient() (*clientv3.Client, error) {
	if b.local {
		return etcd.NewClient(b.Endpoints)
	}
	return etcd.NewClient(b.Endpoints, etcd.WithTLS(b.tls))
}

// Err reports a fatal error of the embedded etcd; with an external etcd it
// never delivers.
func (b *Backend) Err() <-chan error {
	if b.Embedded == nil {
		return nil
	}
	return b.Embedded.Err()
}

// Close stops the compactor, closes the client and stops the embedded etcd,
// in that order, and waits for each. It may be called more than once.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.stop()
		b.wg.Wait()
		b.closeOverrides()
		b.encryption.close()
		var errs []error
		if b.Client != nil {
			if err := b.Client.Close(); err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("closing the etcd client: %w", err))
			}
		}
		if b.Embedded != nil {
			if b.endpointFile != "" {
				_ = os.Remove(b.endpointFile)
			}
			b.Embedded.Close()
			b.log.Info("embedded etcd stopped", "data", b.Embedded.DataDir)
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}
