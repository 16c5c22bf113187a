package etcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// EmbeddedConfig configures an embedded single-member etcd.
type EmbeddedConfig struct {
	// DataDir holds the member's data.
	DataDir string
	// ClientURL is where clients connect; empty picks a free loopback port.
	ClientURL string
	// PeerURL is the member's peer address; empty picks a free loopback port.
	PeerURL string
	// Logger receives etcd's own logs, tagged component=etcd; nil discards
	// them.
	Logger *slog.Logger
	// LogLevel is the lowest level of etcd's logs passed to Logger: debug,
	// info, warn or error ("error" when empty; etcd is chatty).
	LogLevel string
	// QuotaBackendBytes is the backend size limit (etcd's default when 0).
	QuotaBackendBytes int64
	// UnsafeNoFsync skips fsync: only for data that may be lost (tests).
	UnsafeNoFsync bool
	// WatchProgressNotifyInterval is how often etcd sends progress
	// notifications to watches that asked for them (etcd's 10m when 0).
	WatchProgressNotifyInterval time.Duration
	// CertFile and KeyFile, when set, make the member serve clients over
	// TLS (an empty ClientURL then gets the https scheme). The certificate
	// is also a client one when ClientCAFile is set: etcd's gRPC gateway
	// dials the member with it.
	CertFile, KeyFile string
	// ClientCAFile, when set, requires clients to present a certificate
	// signed by it (mutual TLS).
	ClientCAFile string
	// PeerCertFile and PeerKeyFile, when set, make the member serve (and
	// dial) peers over TLS (an empty PeerURL then gets the https scheme).
	PeerCertFile, PeerKeyFile string
	// PeerCAFile, when set, requires peers to present a certificate signed
	// by it, and is what the member trusts its peers with.
	PeerCAFile string
	// LocalSocket, when set, is the path of a unix socket on which the
	// member also serves clients, without TLS, for the process's own
	// client (Embedded.LocalEndpoint). On an https URL etcd serves gRPC
	// through net/http's HTTP/2 server (grpc.Server.ServeHTTP), on a
	// socket without TLS with gRPC's own transport: a pod create costs the
	// process (server and member) 0.75x the CPU over the socket. Whoever
	// reaches the socket can read and
	// write everything: put it in a directory only the owner enters (as the
	// client's key). A path longer than a socket address holds is ignored.
	LocalSocket string
}

// maxSocketPath is the longest unix socket path Linux accepts (sun_path
// holds 108 bytes with the terminating NUL).
const maxSocketPath = 107

// socketPath is p made absolute, "" when p is empty or too long for a
// socket address.
func socketPath(p string) string {
	if p == "" {
		return ""
	}
	abs, err := filepath.Abs(p)
	if err != nil || len(abs) > maxSocketPath {
		return ""
	}
	return abs
}

// Embedded is a running embedded etcd member.
type Embedded struct {
	etcd      *embed.Etcd
	closeOnce sync.Once
	closing   *atomic.Bool
	// Endpoint is the client URL.
	Endpoint string
	// LocalEndpoint is the unix socket of EmbeddedConfig.LocalSocket as a
	// client endpoint (unix:///path, no TLS), "" when there is none.
	LocalEndpoint string
	// DataDir is where the member keeps its data.
	DataDir string
}

// StartEmbedded starts a one-member etcd and waits until it serves.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	ec := embed.NewConfig()
	ec.Name = "regis"
	ec.Dir = cfg.DataDir
	// A lone member has no peer to lose an election to: a 5 ms tick and a
	// 25 ms election timeout (etcd's least, 5 ticks) make it leader (and
	// ready) 5–25 ms after its start, where etcd's 100/1000 ms took
	// 0.3–0.8 s (the election waits a random 1–electionTicks ticks after
	// the first ones are advanced). With no peer there are no heartbeats
	// to send: the ticks cost a timer. Members of a cluster (member.go)
	// keep etcd's defaults or their flags.
	ec.TickMs, ec.ElectionMs = 5, 25
	// A start decodes every record of every WAL file (64 MB each) for the
	// snapshot records, then those from the last snapshot's file on. etcd
	// keeps 5 by default, though the files before the last snapshot's are
	// never read again for recovery (their entries are in the database):
	// keeping only the files still needed cut the start on 100,000 pods
	// from 2.3 to 1.7 s of CPU. etcd never removes a file it still needs
	// (the WAL holds a lock on it); it purges the others at its start and
	// every 30 s.
	ec.MaxWalFiles = 1
	ec.LogLevel = cfg.LogLevel
	if ec.LogLevel == "" {
		ec.LogLevel = "error"
	}
	minLevel, err := zapcore.ParseLevel(ec.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("etcd log level: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	closing := new(atomic.Bool)
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(&slogCore{
		log:     logger.With("component", "etcd"),
		min:     minLevel,
		closing: closing,
	}))
	if cfg.QuotaBackendBytes > 0 {
		ec.QuotaBackendBytes = cfg.QuotaBackendBytes
	}
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	if cfg.WatchProgressNotifyInterval > 0 {
		ec.WatchProgressNotifyInterval = cfg.WatchProgressNotifyInterval
	}
	local := socketPath(cfg.LocalSocket)
	clientScheme, peerScheme := "http", "http"
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		clientScheme = "https"
		ec.ClientTLSInfo = transport.TLSInfo{
			CertFile:       cfg.CertFile,
			KeyFile:        cfg.KeyFile,
			TrustedCAFile:  cfg.ClientCAFile,
			ClientCertAuth: cfg.ClientCAFile != "",
		}
	}
	if cfg.PeerCertFile != "" || cfg.PeerKeyFile != "" {
		peerScheme = "https"
		ec.PeerTLSInfo = transport.TLSInfo{
			CertFile:       cfg.PeerCertFile,
			KeyFile:        cfg.PeerKeyFile,
			TrustedCAFile:  cfg.PeerCAFile,
			ClientCertAuth: cfg.PeerCAFile != "",
		}
	}
	var e *embed.Etcd
	var clientURL string
	// A port picked free may be taken before etcd binds it: pick again.
	for attempt := 1; ; attempt++ {
		var peerURL string
		clientURL, peerURL = cfg.ClientURL, cfg.PeerURL
		if clientURL == "" {
			if clientURL, err = freeLoopbackURL(clientScheme); err != nil {
				return nil, err
			}
		}
		if peerURL == "" {
			if peerURL, err = freeLoopbackURL(peerScheme); err != nil {
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
		if local != "" {
			ec.ListenClientUrls = append(ec.ListenClientUrls, url.URL{Scheme: "unix", Path: local})
		}
		ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
		ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
		e, err = embed.StartEtcd(ec)
		if err == nil {
			break
		}
		picked := cfg.ClientURL == "" || cfg.PeerURL == ""
		if !picked || !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 {
			return nil, fmt.Errorf("starting embedded etcd in %s (client %s, peer %s): %w", cfg.DataDir, clientURL, peerURL, err)
		}
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-ctx.Done():
		closing.Store(true)
		e.Close()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		closing.Store(true)
		e.Close()
		return nil, fmt.Errorf("embedded etcd in %s not ready after 60s", cfg.DataDir)
	}
	em := &Embedded{etcd: e, closing: closing, Endpoint: clientURL, DataDir: cfg.DataDir}
	if local != "" {
		em.LocalEndpoint = "unix://" + local
	}
	return em, nil
}

// Err reports a fatal error of the running member.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close stops the member and waits until it has stopped. It may be called
// more than once.
func (e *Embedded) Close() {
	e.closeOnce.Do(func() {
		e.closing.Store(true)
		e.etcd.Close()
	})
}

func freeLoopbackURL(scheme string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer l.Close()
	return scheme + "://" + l.Addr().String(), nil
}
