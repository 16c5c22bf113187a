package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/storage/value"
)

// encryption is a server's encryption at rest: the configuration in use,
// reloaded when its file changes, published to the other servers of the
// etcd, and the aesgcm write counts.
type encryption struct {
	path     string
	reload   bool
	interval time.Duration // 0: encryptionconfig's default
	ts       *encryptionconfig.Transformers
	counts   *peers.WriteCounter
	m        *encryptionconfig.Metrics
	build    encryptionconfig.BuildOptions
}

// loadEncryption loads o.EncryptionProviderConfig, before etcd is touched:
// a bad file refuses the start. Without a file every resource is stored
// unencrypted (identity).
func loadEncryption(ctx context.Context, o Options, id string, log *slog.Logger) (*encryption, error) {
	m, err := encryptionconfig.NewMetrics(nil, id)
	if err != nil {
		return nil, err
	}
	e := &encryption{path: o.EncryptionProviderConfig, reload: o.EncryptionProviderConfigAutomaticReload,
		interval: o.EncryptionReloadInterval, counts: peers.NewWriteCounter(), m: m}
	e.build = encryptionconfig.BuildOptions{
		KMSv2:        encryptionconfig.KMSv2Plugins(log.With("component", "kms")),
		AESGCMWrites: e.counts.Hook,
	}
	var set *encryptionconfig.Set
	if e.path != "" {
		if set, err = encryptionconfig.Load(ctx, e.path, e.build); err != nil {
			return nil, fmt.Errorf("--encryption-provider-config: %w", err)
		}
		m.Applied(set)
		log.Info("encryption at rest configured", "path", e.path, "hash", set.Hash(), "automatic-reload", e.reload)
	}
	e.ts = encryptionconfig.NewTransformers(set)
	return e, nil
}

// start runs the reloader (with automatic reload), the publisher of this
// server's keys and the write counter on b's goroutines, which b.Close
// stops.
func (e *encryption) start(ctx context.Context, b *Backend) error {
	log := b.log.With("component", "encryption")
	l := peers.NewLayout(b.Prefix)
	pub, err := peers.NewPublisher(peers.PublisherConfig{Client: b.Client, Layout: l, ID: b.ID, Transformers: e.ts, Logger: log})
	if err != nil {
		return err
	}
	b.wg.Go(func() { _ = pub.Run(ctx) })
	b.wg.Go(func() { _ = e.counts.Run(ctx, b.Client, l, 0, log) })
	if e.path != "" && e.reload {
		r, err := encryptionconfig.NewReloader(encryptionconfig.ReloaderConfig{
			Path: e.path, Transformers: e.ts, Build: e.build, Logger: log, Metrics: e.m, Interval: e.interval,
			Gate: peers.Gate(b.Client, l, b.ID),
		})
		if err != nil {
			return err
		}
		b.wg.Go(func() { _ = r.Run(ctx) })
	}
	return nil
}

// close closes the configuration in use; the goroutines are stopped.
func (e *encryption) close() {
	if e != nil {
		e.ts.Current().Close()
	}
}

// TransformerForResource returns the transformer of a resource's values
// in etcd (encryption at rest) for its store: it follows the configuration
// in use, reloads included. Pass events.k8s.io events as core events
// ({Resource: "events"}), as kube-apiserver does.
func (b *Backend) TransformerForResource(gr schema.GroupResource) value.Transformer {
	if b.encryption == nil {
		return value.Identity
	}
	return b.encryption.ts.TransformerForResource(gr)
}

// EncryptionConfigured reports whether --encryption-provider-config was given.
func (b *Backend) EncryptionConfigured() bool { return b.encryption != nil }

// EncryptionHealthy is the health of the KMS v2 plugins of the
// configuration in use (nil without any): kube-apiserver's "kms-providers"
// check, part of /healthz and /readyz, not /livez.
func (b *Backend) EncryptionHealthy(ctx context.Context) error {
	if b.encryption == nil {
		return nil
	}
	return b.encryption.ts.Healthy(ctx)
}

// EncryptionCollectors are the metrics of encryption at rest (reloads,
// config hash, key names in use; never key material), for the server's
// metrics registry.
func (b *Backend) EncryptionCollectors() []prometheus.Collector {
	if b.encryption == nil {
		return nil
	}
	return []prometheus.Collector{b.encryption.m}
}

// newServerID returns an ID for this server among those of one etcd:
// "regis-<hostname>-<8 random hex digits>".
func newServerID() string {
	host, _ := os.Hostname()
	host = strings.ReplaceAll(strings.ToLower(host), "/", "-")
	var r [4]byte
	_, _ = rand.Read(r[:])
	if host == "" {
		return "regis-" + hex.EncodeToString(r[:])
	}
	return "regis-" + host + "-" + hex.EncodeToString(r[:])
}
