package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/encryptionconfig"
)

// Defaults of PublisherConfig.
const (
	DefaultTTL   = 15 * time.Second
	retryBackoff = time.Second
)

// PublisherConfig configures a Publisher. Client, ID and Transformers are
// required.
type PublisherConfig struct {
	Client *clientv3.Client
	Layout Layout
	// ID is the server's ID, unique among the servers of the etcd.
	ID string
	// Transformers is the server's configuration; each change is published.
	Transformers *encryptionconfig.Transformers
	// TTL is the lease of the registration: how long a server that died
	// without revoking it is still waited for. Zero means DefaultTTL.
	TTL time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Publisher keeps a server's registration in etcd: the keys its current
// configuration reads and writes with, under a lease kept alive while it
// runs. Its owner runs Run and stops it by cancelling the context, which
// revokes the lease, so that a server that stops is no longer waited for.
type Publisher struct {
	cfg      PublisherConfig
	hostname string
	pid      int
}

// NewPublisher returns the Publisher of cfg.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("peers: Client is required")
	case cfg.ID == "":
		return nil, errors.New("peers: ID is required")
	case cfg.Transformers == nil:
		return nil, errors.New("peers: Transformers is required")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _ := os.Hostname()
	return &Publisher{cfg: cfg, hostname: host, pid: os.Getpid()}, nil
}

// Registration is what the publisher publishes for the configuration in
// use now.
func (p *Publisher) Registration() Registration {
	set := p.cfg.Transformers.Current()
	return Registration{
		ID:         p.cfg.ID,
		Hostname:   p.hostname,
		PID:        p.pid,
		ConfigHash: set.Hash(),
		Updated:    time.Now().UTC(),
		Rules:      RulesOf(set),
	}
}

// Run publishes the registration, republishes it at each configuration
// change and whenever the lease is lost, until ctx is done; it then revokes
// the lease and returns nil.
func (p *Publisher) Run(ctx context.Context) error {
	log := p.cfg.Logger.With("component", "encryption-peers", "id", p.cfg.ID)
	for {
		err := p.session(ctx, log)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("lost the encryption registration in etcd; publishing it again", "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryBackoff):
		}
	}
}

// session holds one lease until ctx is done (nil) or the lease is lost.
func (p *Publisher) session(ctx context.Context, log *slog.Logger) error {
	lease, err := p.cfg.Client.Grant(ctx, int64((p.cfg.TTL+time.Second-1)/time.Second))
	if err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	defer func() {
		// Revoke so that waiters stop waiting for a stopped server at once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_, _ = p.cfg.Client.Revoke(rctx, lease.ID)
	}()
	kctx, stopKeepAlive := context.WithCancel(ctx)
	defer stopKeepAlive()
	alive, err := p.cfg.Client.KeepAlive(kctx, lease.ID)
	if err != nil {
		return fmt.Errorf("keep alive: %w", err)
	}
	for {
		changed := p.cfg.Transformers.Changed()
		reg := p.Registration()
		data, err := json.Marshal(reg)
		if err != nil {
			return err
		}
		if _, err := p.cfg.Client.Put(ctx, p.cfg.Layout.Server(p.cfg.ID), string(data), clientv3.WithLease(lease.ID)); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		log.Debug("published the encryption registration", "hash", reg.ConfigHash)
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case _, ok := <-alive:
				if !ok {
					return errors.New("lease keep-alive ended")
				}
			case <-changed:
				break wait
			}
		}
	}
}
