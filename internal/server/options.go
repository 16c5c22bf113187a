// Package server is the one assembly of regis: from Options it starts or
// connects to etcd, runs the compactor, loads the encryption
// configuration, builds the codecs, transformers, etcd stores and watch
// caches, the registry and its controllers, the certificates and the HTTPS
// server, and runs them until its context ends. Command-line parsing lives
// in cmd/regis, the embedding API in registest; both only fill Options.
// The operator commands reach etcd through ConnectEtcd.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// Storage media types accepted by --storage-media-type (kube-apiserver's).
const (
	MediaTypeJSON     = "application/json"
	MediaTypeYAML     = "application/yaml"
	MediaTypeProtobuf = "application/vnd.kubernetes.protobuf"
)

var mediaTypes = []string{MediaTypeJSON, MediaTypeYAML, MediaTypeProtobuf} // sorted, as upstream lists them

// Options configure a server. Start from DefaultOptions: the zero value is
// not valid. Each field names the kube-apiserver flag it comes from.
type Options struct {
	// DataDir (--data-dir) holds what a server keeps on disk: the
	// generated certificates (DataDir/pki unless PKIDir) and admin
	// kubeconfig, and, without EtcdServers, the embedded etcd's data
	// (DataDir/etcd) and certificates (DataDir/pki/etcd).
	DataDir string
	// EtcdServers (--etcd-servers), scheme://host:port each, selects an
	// external etcd cluster; empty runs an embedded etcd in DataDir.
	EtcdServers []string
	// EtcdCAFile, EtcdCertFile and EtcdKeyFile (--etcd-cafile,
	// --etcd-certfile, --etcd-keyfile) secure the connection to the etcd
	// of EtcdServers; all empty means plaintext. See etcd.TLSConfig. The
	// embedded etcd does not use them: it is reached with the client
	// certificate of its own PKI.
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// AllowPrivileged is kube-apiserver's --allow-privileged: privileged
	// containers are refused unless it is set (kubeadm sets it).
	AllowPrivileged bool
	// ServiceClusterIPRange and ServiceNodePortRange are kube-apiserver's
	// --service-cluster-ip-range and --service-node-port-range (empty:
	// 10.0.0.0/24 and 30000-32767).
	ServiceClusterIPRange, ServiceNodePortRange string
	// EtcdServersOverrides (--etcd-servers-overrides) keeps some resources
	// in other etcd clusters: "group/resource#url;url", "/events#..." for
	// the core group.
	EtcdServersOverrides []string
	// EtcdPrefix (--etcd-prefix) is prepended to every resource key.
	EtcdPrefix string
	// EtcdCompactionInterval (--etcd-compaction-interval) is how often the
	// servers of a cluster compact etcd; 0 never compacts.
	EtcdCompactionInterval time.Duration
	// Maintenance of the embedded etcd (maintenance.go): scheduled snapshots
	// every EtcdSnapshotInterval (0: none) into EtcdSnapshotDir (empty:
	// DataDir/snapshots), the EtcdSnapshotRetention newest kept.
	EtcdSnapshotInterval  time.Duration
	EtcdSnapshotRetention int
	EtcdSnapshotDir       string
	// EtcdDefragThreshold (--etcd-defrag-threshold) defragments the
	// embedded member when that share of its database is free (0: never).
	EtcdDefragThreshold float64
	// StorageMediaType (--storage-media-type) is the encoding of built-in
	// resources in etcd.
	StorageMediaType string
	// EmbeddedEtcdClientPort (--embedded-etcd-client-port) is the port of
	// 127.0.0.1 where the embedded etcd serves clients, over TLS with
	// client certificates (see EmbeddedEtcdPKIDir); 0 picks a free port.
	// `regis serve` defaults to 2379, etcd's (and k3s's).
	EmbeddedEtcdClientPort int
	// EmbeddedEtcdPeerPort (--embedded-etcd-peer-port) is the port of
	// 127.0.0.1 where the embedded etcd serves peers, over TLS with peer
	// certificates; 0 picks a free port. `regis serve` defaults to 2380.
	EmbeddedEtcdPeerPort int
	// ClusterInit (--cluster-init) makes the embedded etcd the first
	// member of a cluster other servers join (see Join), and writes the
	// join token to DataDir/join-token.
	ClusterInit bool
	// Join (--join https://HOST:PORT) adds the embedded etcd, on its first
	// start, to the cluster of the server at that URL, with JoinToken
	// (--join-token, that server's DataDir/join-token).
	Join, JoinToken string
	// Leave (--leave) removes the embedded member from its cluster at a
	// clean shutdown (and its data: a later start joins again).
	Leave bool
	// AdvertiseAddress (--advertise-address) is the IP the embedded etcd
	// listens on and advertises to its peers with ClusterInit or Join
	// (127.0.0.1 when empty).
	AdvertiseAddress string
	// EtcdUnsafeNoFsync runs the embedded etcd without fsync: for data
	// that may be lost (tests, the embedding package).
	EtcdUnsafeNoFsync bool
	// EtcdLogLevel is the lowest level of the embedded etcd's own logs that
	// reach Logger ("error" when empty).
	EtcdLogLevel string
	// EncryptionProviderConfig (--encryption-provider-config) is the
	// EncryptionConfiguration file of encryption at rest; empty stores
	// every resource unencrypted. A file that does not load refuses the
	// start before etcd is touched.
	EncryptionProviderConfig string
	// EncryptionProviderConfigAutomaticReload
	// (--encryption-provider-config-automatic-reload, on by default)
	// applies each valid change of the file with no restart; an invalid
	// one is logged and counted, and the configuration in use stays.
	EncryptionProviderConfigAutomaticReload bool
	// EncryptionReloadInterval is how often the file is checked for
	// changes with automatic reload; zero means every 10 s.
	EncryptionReloadInterval time.Duration

	// BindAddress (--bind-address) and SecurePort (--secure-port) are where
	// HTTPS is served; port 0 picks a free one. Ignored with Listener.
	BindAddress string
	SecurePort  int
	// Listener, when set, is used instead of BindAddress:SecurePort.
	Listener net.Listener
	// TLSCertFile and TLSKeyFile (--tls-cert-file, --tls-private-key-file)
	// are the serving certificate; empty generates one (with a CA and an
	// admin client certificate) in PKIDir.
	TLSCertFile, TLSKeyFile string
	// ClientCAFile (--client-ca-file) verifies client certificates; empty
	// uses the generated CA.
	ClientCAFile string
	// TokenAuthFile (--token-auth-file) lists bearer tokens.
	TokenAuthFile string
	// AuthorizationModes (--authorization-mode, comma-separated) are the
	// authorizers after the system:masters bypass, in order: RBAC,
	// AlwaysAllow, AlwaysDeny; empty means RBAC (authz.DefaultModes).
	AuthorizationModes []string
	// AnonymousAuth (--anonymous-auth) serves requests with no
	// credentials as system:anonymous (group system:unauthenticated),
	// which authorization then allows or refuses; false refuses them
	// with 401.
	AnonymousAuth bool
	// EnableAdmissionPlugins and DisableAdmissionPlugins
	// (--enable-admission-plugins, --disable-admission-plugins) take
	// upstream's plugin names; regis runs NamespaceLifecycle,
	// ServiceAccount, LimitRanger and dynamic admission unless disabled
	// (admissionplugins.go).
	EnableAdmissionPlugins, DisableAdmissionPlugins []string
	// AdmissionControlConfigFile (--admission-control-config-file) is
	// upstream's AdmissionConfiguration file: the configuration of the
	// PodSecurity plugin (admission_podsecurity.go).
	AdmissionControlConfigFile string
	// PKIDir keeps the generated certificates; empty means DataDir/pki.
	PKIDir string
	// KubeconfigDir is where admin.kubeconfig is written; empty means
	// DataDir.
	KubeconfigDir string
	// WatchCache (--watch-cache) serves watches and lists from watch
	// caches; WatchCacheSizes (--watch-cache-sizes, "resource[.group]#0")
	// turns them off per resource (events are never cached by default).
	WatchCache      bool
	WatchCacheSizes []string
	// WatchCacheMaxBytes (--watch-cache-max-bytes: "4Gi" for all caches,
	// "pods#1Gi" for one) caps the caches' memory: past it, watches are
	// still served from the cache and lists go to etcd.
	WatchCacheMaxBytes []string
	// ShutdownGracePeriod is how long a shutdown waits for running
	// requests before it cuts them; DefaultShutdownGracePeriod when 0.
	ShutdownGracePeriod time.Duration
	// Ready, when set, is called once the server accepts requests.
	Ready func(Info)

	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// Serve, when set, replaces ServeAPI: it runs on b until ctx ends, and
	// returns after everything it started has stopped; its error, unless
	// it is ctx's own, is Run's. For tests of the etcd side, or tests that
	// wrap ServeAPI to reach the Backend.
	Serve ServeFunc

	// Service accounts (kube-apiserver's flags of the same names).
	// ServiceAccountSigningKeyFile signs tokens; empty generates
	// PKIDir/sa.key. ServiceAccountKeyFiles verify tokens besides it.
	ServiceAccountSigningKeyFile string
	ServiceAccountKeyFiles       []string
	// ServiceAccountIssuers: the first is written in new tokens, all are
	// accepted; empty means serviceaccount.DefaultIssuer.
	ServiceAccountIssuers []string
	// APIAudiences are the audiences of tokens for the API; empty means
	// the first issuer.
	APIAudiences []string
	// ServiceAccountMaxTokenExpiration caps requested tokens' lifetime.
	ServiceAccountMaxTokenExpiration time.Duration
	// ServiceAccountExtendTokenExpiration lets kubelets' pod-bound tokens
	// (3607 s) live a year with a warnafter claim (on in `regis serve`).
	ServiceAccountExtendTokenExpiration bool
	// ServiceAccountJWKSURI overrides jwks_uri in the OIDC discovery
	// document.
	ServiceAccountJWKSURI string

	// Audit configures audit logging (--audit-policy-file, --audit-log-*;
	// audit.go).
	Audit AuditOptions
}

// pkiDir is where the API server's certificates are generated.
func (o Options) pkiDir() string {
	if o.PKIDir != "" {
		return o.PKIDir
	}
	return filepath.Join(o.DataDir, "pki")
}

// kubeconfigDir is where admin.kubeconfig is written.
func (o Options) kubeconfigDir() string {
	if o.KubeconfigDir != "" {
		return o.KubeconfigDir
	}
	return o.DataDir
}

// DefaultOptions returns kube-apiserver's defaults, HTTPS on
// 127.0.0.1:6443, and an embedded etcd in ./regis-data on free ports
// (`regis serve` sets 2379 and 2380).
func DefaultOptions() Options {
	return Options{
		BindAddress:            "127.0.0.1",
		SecurePort:             6443,
		WatchCache:             true,
		AnonymousAuth:          true,
		DataDir:                "./regis-data",
		EtcdPrefix:             "/registry",
		EtcdCompactionInterval: 5 * time.Minute,
		StorageMediaType:       MediaTypeProtobuf,

		EncryptionProviderConfigAutomaticReload: true,
		Audit:                                   DefaultAuditOptions(),
	}
}

// Validate reports every invalid option, with upstream's messages where
// kube-apiserver has one.
func (o Options) Validate() error {
	var errs []error
	if len(o.EtcdServers) == 0 && o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must be specified when --etcd-servers is not"))
	}
	for _, s := range o.EtcdServers {
		if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("--etcd-servers: %q is not a scheme://host:port URL", s))
		}
	}
	if o.EtcdCompactionInterval < 0 {
		errs = append(errs, fmt.Errorf("--etcd-compaction-interval %v must not be negative", o.EtcdCompactionInterval))
	}
	if o.StorageMediaType != "" && !slices.Contains(mediaTypes, o.StorageMediaType) {
		errs = append(errs, fmt.Errorf("--storage-media-type %q invalid, allowed values: %s", o.StorageMediaType, strings.Join(mediaTypes, ", ")))
	}
	for _, p := range []struct {
		flag string
		port int
	}{{"--embedded-etcd-client-port", o.EmbeddedEtcdClientPort}, {"--embedded-etcd-peer-port", o.EmbeddedEtcdPeerPort}} {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("%s %d must be between 0 (any free port) and 65535", p.flag, p.port))
		}
	}
	if o.Listener == nil && (o.SecurePort < 0 || o.SecurePort > 65535) {
		errs = append(errs, fmt.Errorf("--secure-port %d must be between 0 (any free port) and 65535", o.SecurePort))
	}
	if o.EmbeddedEtcdClientPort != 0 && o.EmbeddedEtcdClientPort == o.EmbeddedEtcdPeerPort {
		errs = append(errs, fmt.Errorf("--embedded-etcd-client-port and --embedded-etcd-peer-port must differ (both %d)", o.EmbeddedEtcdClientPort))
	}
	if len(o.AuthorizationModes) > 0 {
		if _, err := authz.ParseModes(o.AuthorizationModes); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.validateAdmissionPlugins()...)
	errs = append(errs, o.Audit.validate()...)
	if _, err := cacher.ParseWatchCacheSizes(o.WatchCacheSizes); err != nil {
		errs = append(errs, err)
	}
	if _, err := cacher.ParseWatchCacheMaxBytes(o.WatchCacheMaxBytes); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.validateHA()...)
	if _, err := builtin.ParseServiceNetwork(o.ServiceClusterIPRange, o.ServiceNodePortRange); err != nil {
		errs = append(errs, err)
	}
	if _, err := ParseEtcdServersOverrides(o.EtcdServersOverrides); err != nil {
		errs = append(errs, err)
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-certfile and --etcd-keyfile must be given together"))
	}
	return errors.Join(errs...)
}
