package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// MemberConfig configures one member of an etcd cluster, with etcd's own
// flag names (`regis etcd` takes them as etcd does). Lists of URLs are
// comma separated in flags and slices here.
type MemberConfig struct {
	// LocalSocket is a unix socket on which the member also serves
	// clients, without TLS, for the process's own client (see
	// EmbeddedConfig.LocalSocket); it is not advertised.
	LocalSocket string
	// Name (--name) is the member's human-readable name.
	Name string
	// DataDir (--data-dir) holds the member's data.
	DataDir string
	// InitialCluster (--initial-cluster) is "name=peerURL,..." of every
	// member at bootstrap; empty means this member alone.
	InitialCluster string
	// InitialClusterState (--initial-cluster-state) is "new" or "existing".
	InitialClusterState string
	// InitialClusterToken (--initial-cluster-token) tells clusters apart
	// at bootstrap.
	InitialClusterToken string
	// InitialAdvertisePeerURLs (--initial-advertise-peer-urls) is where
	// the other members reach this one.
	InitialAdvertisePeerURLs []string
	// ListenPeerURLs (--listen-peer-urls) is where the member listens
	// for peers.
	ListenPeerURLs []string
	// ListenClientURLs (--listen-client-urls) is where the member listens
	// for clients.
	ListenClientURLs []string
	// AdvertiseClientURLs (--advertise-client-urls) is what the member
	// tells clients (and the cluster) its client URLs are.
	AdvertiseClientURLs []string
	// Client and Peer are the TLS files of the client and peer ports
	// (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth and
	// their --peer-* twins).
	Client, Peer TLSFiles
	// HeartbeatMs and ElectionMs (--heartbeat-interval,
	// --election-timeout) are raft's timings; 0 keeps etcd's 100 and 1000.
	HeartbeatMs, ElectionMs uint
	// QuotaBackendBytes (--quota-backend-bytes); 0 keeps etcd's.
	QuotaBackendBytes int64
	// UnsafeNoFsync (--unsafe-no-fsync) skips fsync: data may be lost.
	UnsafeNoFsync bool
	// WatchProgressNotifyInterval (--watch-progress-notify-interval); 0
	// keeps etcd's 10m.
	WatchProgressNotifyInterval time.Duration
	// LogLevel (--log-level): debug, info, warn or error ("info" when
	// empty).
	LogLevel string
	// Logger receives the member's logs, tagged component=etcd; nil
	// discards them.
	Logger *slog.Logger
}

// TLSFiles are the TLS files of one of a member's ports.
type TLSFiles struct {
	// CertFile and KeyFile are the port's certificate and key.
	CertFile, KeyFile string
	// TrustedCAFile verifies the certificates the other side presents.
	TrustedCAFile string
	// ClientCertAuth requires the other side to present a certificate
	// TrustedCAFile signed.
	ClientCertAuth bool
}

func (f TLSFiles) info() transport.TLSInfo {
	return transport.TLSInfo{CertFile: f.CertFile, KeyFile: f.KeyFile, TrustedCAFile: f.TrustedCAFile, ClientCertAuth: f.ClientCertAuth}
}

// embedConfig returns the embed configuration of c, validated.
func (c MemberConfig) embedConfig(closing *atomic.Bool) (*embed.Config, error) {
	ec := embed.NewConfig()
	if c.Name != "" {
		ec.Name = c.Name
	}
	if c.DataDir == "" {
		return nil, errors.New("--data-dir is required")
	}
	ec.Dir = c.DataDir
	var err error
	for _, u := range []struct {
		flag string
		in   []string
		out  *[]url.URL
	}{
		{"--listen-peer-urls", c.ListenPeerURLs, &ec.ListenPeerUrls},
		{"--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, &ec.AdvertisePeerUrls},
		{"--listen-client-urls", c.ListenClientURLs, &ec.ListenClientUrls},
		{"--advertise-client-urls", c.AdvertiseClientURLs, &ec.AdvertiseClientUrls},
	} {
		if len(u.in) == 0 {
			continue
		}
		if *u.out, err = parseURLs(u.flag, u.in); err != nil {
			return nil, err
		}
	}
	if len(c.ListenClientURLs) > 0 && len(c.AdvertiseClientURLs) == 0 {
		return nil, errors.New("--advertise-client-urls is required when --listen-client-urls is set explicitly")
	}
	if len(c.ListenPeerURLs) > 0 && len(c.InitialAdvertisePeerURLs) == 0 {
		ec.AdvertisePeerUrls = ec.ListenPeerUrls
	}
	ec.InitialCluster = c.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	}
	switch c.InitialClusterState {
	case "", embed.ClusterStateFlagNew:
		ec.ClusterState = embed.ClusterStateFlagNew
	case embed.ClusterStateFlagExisting:
		ec.ClusterState = embed.ClusterStateFlagExisting
	default:
		return nil, fmt.Errorf("--initial-cluster-state %q: want new or existing", c.InitialClusterState)
	}
	if c.InitialClusterToken != "" {
		ec.InitialClusterToken = c.InitialClusterToken
	}
	if local := socketPath(c.LocalSocket); local != "" {
		ec.ListenClientUrls = append(ec.ListenClientUrls, url.URL{Scheme: "unix", Path: local})
	}
	ec.ClientTLSInfo, ec.PeerTLSInfo = c.Client.info(), c.Peer.info()
	if c.HeartbeatMs > 0 {
		ec.TickMs = c.HeartbeatMs
	}
	if c.ElectionMs > 0 {
		ec.ElectionMs = c.ElectionMs
	}
	if c.QuotaBackendBytes > 0 {
		ec.QuotaBackendBytes = c.QuotaBackendBytes
	}
	ec.UnsafeNoFsync = c.UnsafeNoFsync
	if c.WatchProgressNotifyInterval > 0 {
		ec.WatchProgressNotifyInterval = c.WatchProgressNotifyInterval
	}
	ec.LogLevel = c.LogLevel
	if ec.LogLevel == "" {
		ec.LogLevel = "info"
	}
	minLevel, err := zapcore.ParseLevel(ec.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(&slogCore{log: logger.With("component", "etcd"), min: minLevel, closing: closing}))
	if err := ec.Validate(); err != nil {
		return nil, err
	}
	return ec, nil
}

func parseURLs(flag string, in []string) ([]url.URL, error) {
	out := make([]url.URL, 0, len(in))
	for _, s := range in {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("%s: %q is not a scheme://host:port URL", flag, s)
		}
		out = append(out, *u)
	}
	return out, nil
}

// StartMember starts one member of a cluster and returns once it has
// joined it and serves clients, which needs a quorum of the initial
// cluster: the wait is bounded by ctx only. The caller calls Close.
func StartMember(ctx context.Context, c MemberConfig) (*Embedded, error) {
	closing := new(atomic.Bool)
	ec, err := c.embedConfig(closing)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("starting etcd member %s in %s: %w", ec.Name, ec.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("etcd member %s failed: %w", ec.Name, err)
	case <-ctx.Done():
		closing.Store(true)
		e.Close()
		return nil, ctx.Err()
	}
	endpoint := ec.AdvertiseClientUrls[0].String()
	m := &Embedded{etcd: e, closing: closing, Endpoint: endpoint, DataDir: ec.Dir}
	if local := socketPath(c.LocalSocket); local != "" {
		m.LocalEndpoint = "unix://" + local
	}
	return m, nil
}

// RunMember runs a member (see StartMember) until ctx ends or the member
// fails; it returns nil after a stop asked for by ctx.
func RunMember(ctx context.Context, c MemberConfig) error {
	m, err := StartMember(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer m.Close()
	if c.Logger != nil {
		c.Logger.Info("etcd member serving", "name", c.Name, "client-urls", strings.Join(c.AdvertiseClientURLs, ","), "data-dir", c.DataDir)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.Err():
		return fmt.Errorf("etcd member %s: %w", c.Name, err)
	}
}

// MemberID is the member's ID in its cluster.
func (e *Embedded) MemberID() uint64 { return uint64(e.etcd.Server.MemberID()) }
