// Package etcd runs the embedded etcd member that regis uses by default and
// builds etcd clients.
package etcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// EmbeddedConfig configures an embedded single-member etcd.
type EmbeddedConfig struct {
	// DataDir holds the member's data.
	DataDir string
	// ClientURL is where clients connect; empty picks a free loopback port.
	ClientURL string
	// PeerURL is the member's peer address; empty picks a free loopback port.
	PeerURL string
	// LogLevel of etcd's own logs ("error" when empty).
	LogLevel string
	// QuotaBackendBytes is the backend size limit (etcd's default when 0).
	QuotaBackendBytes int64
}

// Embedded is a running embedded etcd member.
type Embedded struct {
	etcd *embed.Etcd
	// Endpoint is the client URL.
	Endpoint string
}

// StartEmbedded starts a one-member etcd and waits until it serves.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	ec := embed.NewConfig()
	ec.Name = "regis"
	ec.Dir = cfg.DataDir
	ec.LogLevel = cfg.LogLevel
	if ec.LogLevel == "" {
		ec.LogLevel = "error"
	}
	if cfg.QuotaBackendBytes > 0 {
		ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	}
	clientURL, peerURL := cfg.ClientURL, cfg.PeerURL
	var err error
	if clientURL == "" {
		if clientURL, err = freeLoopbackURL(); err != nil {
			return nil, err
		}
	}
	if peerURL == "" {
		if peerURL, err = freeLoopbackURL(); err != nil {
			return nil, err
		}
	}
	cu, err := url.Parse(clientURL)
	if err != nil {
		return nil, fmt.Errorf("etcd client URL %q: %w", clientURL, err)
	}
	pu, err := url.Parse(peerURL)
	if err != nil {
		return nil, fmt.Errorf("etcd peer URL %q: %w", peerURL, err)
	}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.DataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after 60s", cfg.DataDir)
	}
	return &Embedded{etcd: e, Endpoint: clientURL}, nil
}

// Err reports a fatal error of the running member.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close stops the member.
func (e *Embedded) Close() { e.etcd.Close() }

// NewClient connects to endpoints with upstream's client settings.
func NewClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          20 * time.Second,
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		Logger:               zap.NewNop(),
	})
}

func freeLoopbackURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer l.Close()
	return "http://" + l.Addr().String(), nil
}
