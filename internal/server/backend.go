package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd"
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

	tls       *tls.Config
	log       *slog.Logger
	stop      context.CancelFunc // stops the compactor
	wg        sync.WaitGroup     // the compactor's goroutine
	closeOnce sync.Once
	closeErr  error
}

// Start starts the embedded etcd (unless o.EtcdServers is set), connects a
// client, waits until etcd answers, and starts the compactor. ctx bounds
// the start only. The caller calls Close.
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
		dir, err := filepath.Abs(filepath.Join(o.DataDir, "etcd"))
		if err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		b.Embedded, err = etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: dir, Logger: log, LogLevel: o.EtcdLogLevel,
			UnsafeNoFsync: o.EtcdUnsafeNoFsync})
		if err != nil {
			return nil, err
		}
		b.Endpoints = []string{b.Embedded.Endpoint}
		log.Info("embedded etcd started", "data", dir, "endpoint", b.Embedded.Endpoint)
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
	log.Info("connected to etcd", "endpoints", b.Endpoints, "tls", tlsCfg != nil, "prefix", b.Prefix, "storage-media-type", b.MediaType)

	b.Compactor = etcd.NewCompactor(b.Client, o.EtcdCompactionInterval, log.With("component", "compactor"))
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b.stop = stop
	b.wg.Go(func() { _ = b.Compactor.Run(cctx) })
	if err := b.encryption.start(cctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// NewClient returns a new client of the same etcd with the same settings,
// for parts that want a connection of their own (kube-apiserver gives one
// to each resource). The caller closes it.
func (b *Backend) NewClient() (*clientv3.Client, error) {
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
		b.encryption.close()
		var errs []error
		if b.Client != nil {
			if err := b.Client.Close(); err != nil && !errors.Is(err, context.Canceled) {
				errs = append(errs, fmt.Errorf("closing the etcd client: %w", err))
			}
		}
		if b.Embedded != nil {
			b.Embedded.Close()
			b.log.Info("embedded etcd stopped", "data", b.Embedded.DataDir)
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}
