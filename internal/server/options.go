// Package server assembles a regis server from its parts: it starts or
// connects to etcd, runs the compactor, and hands the resulting Backend to
// the layers above etcd (storage, registry, HTTP), which plug in through
// Options.Serve. Command-line parsing lives in cmd/regis; this package only
// sees Options.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
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
	// DataDir (--data-dir) holds what a server keeps on disk; the embedded
	// etcd keeps its data in DataDir/etcd and its certificates in
	// DataDir/pki/etcd. Unused with EtcdServers.
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
	// EtcdPrefix (--etcd-prefix) is prepended to every resource key.
	EtcdPrefix string
	// EtcdCompactionInterval (--etcd-compaction-interval) is how often the
	// servers of a cluster compact etcd; 0 never compacts.
	EtcdCompactionInterval time.Duration
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
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// Serve runs everything above etcd on b until ctx ends, and returns
	// after everything it started has stopped. Its error, unless it is ctx's
	// own, is Run's. Nil serves nothing: Run then keeps etcd and the
	// compactor running until ctx ends.
	Serve ServeFunc
}

// DefaultOptions returns kube-apiserver's defaults and an embedded etcd in
// ./regis-data, on free ports (`regis serve` sets 2379 and 2380).
func DefaultOptions() Options {
	return Options{
		DataDir:                "./regis-data",
		EtcdPrefix:             "/registry",
		EtcdCompactionInterval: 5 * time.Minute,
		StorageMediaType:       MediaTypeProtobuf,

		EncryptionProviderConfigAutomaticReload: true,
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
	if o.EmbeddedEtcdClientPort != 0 && o.EmbeddedEtcdClientPort == o.EmbeddedEtcdPeerPort {
		errs = append(errs, fmt.Errorf("--embedded-etcd-client-port and --embedded-etcd-peer-port must differ (both %d)", o.EmbeddedEtcdClientPort))
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-certfile and --etcd-keyfile must be given together"))
	}
	return errors.Join(errs...)
}
