package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Client settings of kube-apiserver (storagebackend/factory/etcd3.go).
const (
	DialTimeout          = 20 * time.Second
	DialKeepAliveTime    = 30 * time.Second
	DialKeepAliveTimeout = 10 * time.Second
)

// ClientOption changes the configuration built by ClientConfig.
type ClientOption func(*clientv3.Config)

// WithTLS makes the client speak TLS with cfg; nil keeps the connection
// plaintext for http:// endpoints. See TLSConfig.
func WithTLS(cfg *tls.Config) ClientOption {
	return func(c *clientv3.Config) { c.TLS = cfg }
}

// WithDialTimeout replaces the default 20 s dial timeout.
func WithDialTimeout(d time.Duration) ClientOption {
	return func(c *clientv3.Config) { c.DialTimeout = d }
}

// ClientConfig returns kube-apiserver's client configuration for endpoints
// (each scheme://host:port), with opts applied. It is exported so that
// callers can build other client types with the same settings, for example
// go.etcd.io/etcd/client/v3/kubernetes.New(etcd.ClientConfig(...)).
// The client's own logging is discarded.
func ClientConfig(endpoints []string, opts ...ClientOption) clientv3.Config {
	cfg := clientv3.Config{
		Endpoints:            endpoints,
		DialTimeout:          DialTimeout,
		DialKeepAliveTime:    DialKeepAliveTime,
		DialKeepAliveTimeout: DialKeepAliveTimeout,
		Logger:               zap.NewNop(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// NewClient connects to endpoints with kube-apiserver's client settings and
// opts. It does not wait for a connection: requests wait for one until
// their context ends. The caller closes the client.
func NewClient(endpoints []string, opts ...ClientOption) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("etcd client: no endpoints")
	}
	c, err := clientv3.New(ClientConfig(endpoints, opts...))
	if err != nil {
		return nil, fmt.Errorf("etcd client for %v: %w", endpoints, err)
	}
	return c, nil
}

// TLSConfig builds the client TLS configuration of kube-apiserver's
// --etcd-cafile, --etcd-certfile and --etcd-keyfile. All three empty means
// no TLS: it returns nil, nil. caFile empty trusts the system roots;
// certFile and keyFile present a client certificate and must be given
// together.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case certFile != "" && keyFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case certFile != "" || keyFile != "":
		return nil, errors.New("etcd client certificate: --etcd-certfile and --etcd-keyfile must be given together")
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("etcd CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA: no PEM certificate in %s", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
