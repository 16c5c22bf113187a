// Package registest runs a whole regis API server in process, for tests
// of controllers and clients: an embedded etcd in a temporary directory
// and the Kubernetes API over HTTPS on a free loopback port, with a
// *rest.Config that authenticates as an administrator. It replaces envtest
// with nothing to download, and Stop leaves no goroutine, port or file
// behind.
//
//	srv, err := registest.Start(ctx, registest.Options{})
//	if err != nil { ... }
//	defer srv.Stop()
//	cs := kubernetes.NewForConfigOrDie(srv.Config())
package registest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/server"
)

// Options configure Start. The zero value is ready to use.
type Options struct {
	// Dir keeps etcd's data and the certificates; empty means a new
	// temporary directory, removed by Stop.
	Dir string
	// StorageMediaType is how objects are stored (kube-apiserver's
	// protobuf when empty).
	StorageMediaType string
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// CRDs are files of CustomResourceDefinitions (YAML or JSON, several
	// documents each) or directories of them, as envtest's
	// CRDDirectoryPaths: Start creates them and returns once their
	// resources are served.
	CRDs []string
	// AuthorizationModes are the server's --authorization-mode (RBAC
	// when empty, as kube-apiserver's usual; AlwaysAllow lets every
	// authenticated user do everything).
	AuthorizationModes []string
	// TokenAuthFile is the server's --token-auth-file (CSV:
	// token,user,uid[,"group1,group2"]).
	TokenAuthFile string
	// DisableAdmissionPlugins is the server's --disable-admission-plugins
	// (ServiceAccount, as envtest's kube-apiserver runs; or the four
	// dynamic plugins together).
	DisableAdmissionPlugins []string
	// AdmissionControlConfigFile is the server's
	// --admission-control-config-file (an AdmissionConfiguration).
	AdmissionControlConfigFile string
}

// Server is a running in-process regis.
type Server struct {
	config     *rest.Config
	kubeconfig string
	url        string
	pkiDir     string

	cancel  context.CancelFunc
	done    chan struct{}
	err     error // Serve's error, set before done is closed
	dir     string
	tempDir bool
	once    sync.Once
}

// Start starts etcd and the API server and returns once the API serves
// requests. ctx bounds the start only: the server runs until Stop.
func Start(ctx context.Context, o Options) (*Server, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{dir: o.Dir, done: make(chan struct{})}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "registest-")
		if err != nil {
			return nil, err
		}
		s.dir, s.tempDir = d, true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.cleanup()
		return nil, err
	}
	opts := server.DefaultOptions()
	opts.DataDir = s.dir
	opts.EtcdUnsafeNoFsync = true
	opts.EtcdCompactionInterval = 0
	opts.Logger = log
	if o.StorageMediaType != "" {
		opts.StorageMediaType = o.StorageMediaType
	}
	opts.AuthorizationModes, opts.TokenAuthFile = o.AuthorizationModes, o.TokenAuthFile
	opts.DisableAdmissionPlugins = o.DisableAdmissionPlugins
	opts.AdmissionControlConfigFile = o.AdmissionControlConfigFile
	ready := make(chan server.Info, 1)
	opts.Listener, opts.Ready = ln, func(i server.Info) { ready <- i }

	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { // owned by s: Stop waits for it
		defer close(s.done)
		s.err = server.Run(rctx, opts)
	}()
	select {
	case info := <-ready:
		s.url, s.kubeconfig, s.pkiDir = info.URL, info.Kubeconfig, info.PKIDir
		s.config = &rest.Config{
			Host: info.URL, QPS: -1,
			TLSClientConfig: rest.TLSClientConfig{CAData: info.CAData, CertData: info.ClientCertData, KeyData: info.ClientKeyData},
		}
		if len(o.CRDs) > 0 {
			if err := installCRDs(ctx, s.config, o.CRDs); err != nil {
				s.Stop()
				return nil, err
			}
		}
		return s, nil
	case <-s.done:
		s.cleanup()
		return nil, fmt.Errorf("registest: server stopped while starting: %w", s.err)
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
}

// Config returns a new client configuration for the server, as an
// administrator (client certificate). Client-side rate limiting is off.
func (s *Server) Config() *rest.Config { return rest.CopyConfig(s.config) }

// URL returns the server's HTTPS address.
func (s *Server) URL() string { return s.url }

// Kubeconfig returns the path of an admin kubeconfig for the server, for
// kubectl and other tools.
func (s *Server) Kubeconfig() string { return s.kubeconfig }

// Stop stops the API server and etcd, and removes the temporary directory.
// It may be called more than once; it returns the server's error, if it
// failed.
func (s *Server) Stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.err = errors.Join(s.err, errors.New("registest: server did not stop in 30s"))
		}
		s.cleanup()
	})
	return s.err
}

func (s *Server) cleanup() {
	if s.tempDir {
		os.RemoveAll(s.dir)
	}
}
