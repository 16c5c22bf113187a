package server

// The API server on a running etcd backend: the registry over the etcd3
// stores (and their watch caches), the system namespaces, the controllers,
// TLS (generated once in the data directory unless given), authentication,
// health checks, metrics, and the HTTPS listener.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/admission"
	"github.com/regis-dev/regis/internal/admission/podsecurity"
	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/crd"
	"github.com/regis-dev/regis/internal/pki"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/storage/cacher"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// Info describes a serving server.
type Info struct {
	// URL is the server's HTTPS address ("https://127.0.0.1:6443").
	URL string
	// Kubeconfig is the admin kubeconfig's path ("" with a given
	// certificate, whose CA regis does not know).
	Kubeconfig string
	// PKIDir is the generated certificates' directory ("" with given
	// ones).
	PKIDir string
	// CAData, ClientCertData and ClientKeyData are PEM, for rest.Config.
	CAData, ClientCertData, ClientKeyData []byte
}

// DefaultShutdownGracePeriod is how long a shutdown waits for running
// requests.
const DefaultShutdownGracePeriod = 15 * time.Second

// ServeAPI serves the API of o on b until ctx ends, then drains requests (up to
// ShutdownGracePeriod), ends watches and stops its goroutines.
func ServeAPI(ctx context.Context, b *Backend, o Options) error {
	log := b.log
	// The stores' and the caches' metrics, this server's own.
	storeMetrics, cacheMetrics := etcd3.NewMetrics(), cacher.NewMetrics()
	factory := EtcdStorage(EtcdConfig{
		Client: b.Client, Prefix: b.Prefix, MediaType: b.MediaType, Compactor: b.Compactor, Logger: log,
		Transformer: b.TransformerForResource, // --encryption-provider-config
		Metrics:     storeMetrics,
		Overrides:   b.Overrides(), // --etcd-servers-overrides
	})
	var caches *Caches
	if o.WatchCache {
		sizes := cacher.DefaultWatchCacheSizes()
		given, err := cacher.ParseWatchCacheSizes(o.WatchCacheSizes)
		if err != nil {
			return err
		}
		for gr, n := range given {
			sizes[gr] = n
		}
		limits, err := cacher.ParseWatchCacheMaxBytes(o.WatchCacheMaxBytes)
		if err != nil {
			return err
		}
		factory, caches = CachedStorage(factory, CacheConfig{
			Cached: func(gr schema.GroupResource) bool {
				enabled, _ := cacher.CacheEnabled(sizes, gr)
				return enabled
			},
			MaxBytes: limits, Metrics: cacheMetrics, Logger: log,
			Early:              earlyCache, // the others fill once the server is ready (startorder.go)
			KeepHistoryDecoded: b.MediaType != "" && b.MediaType != MediaTypeProtobuf,
		})
	}
	authorization, err := newAuthorization(o.AuthorizationModes) // --authorization-mode
	if err != nil {
		return err
	}
	resources := builtin.Resources()
	network, err := builtin.ParseServiceNetwork(o.ServiceClusterIPRange, o.ServiceNodePortRange)
	if err != nil {
		return err
	}
	builtin.UseServiceNetwork(resources, network) // --service-cluster-ip-range, --service-node-port-range
	if o.AllowPrivileged {
		builtin.AllowPrivileged(resources) // --allow-privileged
	}
	authorization.guard(resources) // privilege escalation on RBAC writes
	// --service-account-*: token signing keys, serviceaccounts/token.
	sa, err := newServiceAccounts(o, resources)
	if err != nil {
		return err
	}
	reg, err := registry.New(registry.Config{Resources: resources, Internal: builtin.Internal(), Storage: factory})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	checks := []apiserver.Check{
		{Name: "etcd", Livez: true, Readyz: true, Func: b.Health.Check},
		{Name: "etcd-readiness", Readyz: true, Func: b.Health.Check},
	}
	checks = append(checks, b.overrideChecks()...)
	checks = append(checks, apiserver.Check{Name: "etcd-alarms", Readyz: true, Func: b.alarmCheck()})
	if b.EncryptionConfigured() {
		// kube-apiserver's KMS check: in /healthz and /readyz, not /livez.
		checks = append(checks, apiserver.Check{Name: "kms-providers", Readyz: true, Func: b.EncryptionHealthy})
	}
	if caches != nil {
		wg.Go(func() { _ = caches.Run(cctx) })
	}
	for _, w := range o.admissionPluginWarnings() {
		log.Warn(w)
	}
	podSecurityMetrics := podsecurity.NewMetrics(1, 37) // upstream's pod_security_* metrics
	if err := startAdmission(&admissionEnv{ctx: cctx, o: &o, reg: reg, authorizer: authorization.authorizer, wg: &wg, log: log, podSecurityMetrics: podSecurityMetrics}); err != nil {
		return err
	}
	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort))); err != nil {
			return err
		}
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if err := controller.Bootstrap(ctx, reg, int32(port), network); err != nil {
		return err
	}
	checks = append(checks, authorization.checks()...)

	tlsCfg, info, err := tlsConfig(o, ln)
	if err != nil {
		return err
	}
	var authn apiserver.Authenticators
	authn = append(authn, apiserver.ClientCertAuthenticator{})
	if o.TokenAuthFile != "" {
		t, err := apiserver.LoadTokenFile(o.TokenAuthFile)
		if err != nil {
			return err
		}
		authn = append(authn, t)
	}
	authn = append(authn, sa.use(reg)) // service account tokens
	metrics, err := apiserver.NewMetrics(reg, slices.Concat(storeMetrics.Collectors(), cacheMetrics.Collectors(),
		[]prometheus.Collector{collectors.NewGoCollector()}, b.EncryptionCollectors(), podSecurityMetrics.Collectors())...)
	if err != nil {
		return err
	}
	// A first probe before serving: until one has answered, the check
	// reports "not yet established" (upstream's text) to every caller
	// but the prober, and /readyz would fail right after the start.
	_ = b.Health.Check(ctx)
	monitor := apiserver.NewStorageMonitor(b.Health.Check, 0)
	if err := b.startMaintenance(cctx, o, &wg, metrics.Registry()); err != nil {
		return err
	}
	wg.Go(func() { _ = monitor.Run(cctx) })
	auditor, err := o.Audit.start(cctx, &wg, log) // --audit-policy-file, --audit-log-path
	if err != nil {
		return err
	}
	api, err := apiserver.New(apiserver.Config{
		Registry: reg, Version: Version(), Authenticator: authn, Metrics: metrics, Logger: log,
		Authorizer: authorization.authorizer, RulesResolver: authorization.authorizer, Anonymous: o.AnonymousAuth,
		Checks: checks, StorageMonitor: monitor, ServiceAccounts: sa.issuer,
		Audit: auditor,
	})
	if err != nil {
		return err
	}
	loopback := serveLoopback(cctx, api, &wg, log)
	if err := authorization.run(cctx, reg, loopback, &wg, log); err != nil {
		return err
	}
	// kube-apiserver's limits (secure_serving.go): a request's headers
	// within 32 s, a kept-alive connection idle at most 90 s, headers of
	// 1 MiB at most; a request's body is read within its own timeout (the
	// apiserver sets the read deadline per request, watches excepted).
	handler, err := b.joinHandler(api, tlsCfg) // --cluster-init: the join endpoint
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: handler, TLSConfig: tlsCfg,
		ReadHeaderTimeout: 32 * time.Second, IdleTimeout: 90 * time.Second, MaxHeaderBytes: 1 << 20,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}

	serveErr := make(chan error, 3)
	runControllers := func(cs ...controller.Named) {
		if err := controller.Run(cctx, log, cs...); err != nil {
			serveErr <- err // fatal: the server stops
		}
	}
	// Serving custom resources and flow control's configuration are part
	// of the start; the other controllers follow it (startorder.go).
	wg.Go(func() {
		runControllers(
			controller.Named{Name: "priority-and-fairness-config", Runner: controller.NewFlowControl(reg, log)},
			controller.Named{Name: "customresourcedefinitions", Runner: newCRDController(reg, factory, caches, log)})
	})
	late := func() {
		runControllers(
			controller.Named{Name: "namespace", Runner: controller.NewNamespaceController(reg, log)},
			controller.Named{Name: "serviceaccount", Runner: controller.NewServiceAccounts(reg, info.CAData, log)},
			controller.Named{Name: "serviceaccount-token", Runner: sa.legacyTokens(reg, info.CAData, log)},
			controller.Named{Name: "garbage-collector", Runner: controller.NewGarbageCollector(reg, log)},
			controller.Named{Name: "graceful-reaper", Runner: controller.NewGracefulReaper(reg, log)},
			controller.Named{Name: "volume-protection", Runner: controller.NewVolumeProtection(reg, log)},
			controller.Named{Name: "local-apiservice-availability", Runner: controller.NewLocalAvailability(reg, log)},
			controller.Named{Name: admission.PolicyStatusManager, Runner: admission.NewPolicyStatus(kubernetes.NewForConfigOrDie(loopback), reg, log)})
	}
	wg.Go(func() {
		if err := hs.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	if !authorization.waitReady(ctx, 30*time.Second) {
		log.Warn("serving before the bootstrap RBAC policy is reconciled: requests other than system:masters' may be refused")
	}
	log.Info("serving the Kubernetes API", "url", info.URL, "kubeconfig", info.Kubeconfig)
	if o.Ready != nil {
		o.Ready(info)
	}
	wg.Go(func() { startRest(cctx, caches, late) })
	var failed error
	select {
	case <-ctx.Done():
	case failed = <-serveErr: // the listener or a controller failed: stop
	}
	api.Shutdown() // watches end, so that Shutdown below does not wait for them
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace(o))
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Requests still running after the grace period (a client
		// trickling a body, say) are cut: the shutdown itself went as
		// asked, so it is no error.
		log.Warn("requests still running after the shutdown grace period were cut", "grace", shutdownGrace(o), "err", err)
		_ = hs.Close()
	}
	return failed
}

// shutdownGrace is how long a shutdown waits for running requests.
func shutdownGrace(o Options) time.Duration {
	if o.ShutdownGracePeriod > 0 {
		return o.ShutdownGracePeriod
	}
	return DefaultShutdownGracePeriod
}

// tlsConfig loads or generates the serving certificate and the client CA.
func tlsConfig(o Options, ln net.Listener) (*tls.Config, Info, error) {
	host := "127.0.0.1"
	if a := ln.Addr().(*net.TCPAddr); !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	info := Info{URL: "https://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))}
	certFile, keyFile, caFile := o.TLSCertFile, o.TLSKeyFile, o.ClientCAFile
	if certFile == "" || caFile == "" {
		dir := o.pkiDir()
		p, err := pki.EnsureAPIServer(dir, host)
		if err != nil {
			return nil, info, fmt.Errorf("certificates in %s: %w", dir, err)
		}
		if certFile == "" {
			certFile, keyFile = p.Path(pki.ServingCertFile), p.Path(pki.ServingKeyFile)
			info.PKIDir = p.Dir
			if info.Kubeconfig, err = p.WriteKubeconfig(info.URL, filepath.Join(o.kubeconfigDir(), pki.AdminKubeconfig)); err != nil {
				return nil, info, err
			}
			info.CAData, _ = os.ReadFile(p.Path(pki.CAFile))
			info.ClientCertData, _ = os.ReadFile(p.Path(pki.AdminCertFile))
			info.ClientKeyData, _ = os.ReadFile(p.Path(pki.AdminKeyFile))
		}
		if caFile == "" {
			caFile = p.Path(pki.CAFile)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, info, fmt.Errorf("--tls-cert-file/--tls-private-key-file: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, info, fmt.Errorf("--client-ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, info, fmt.Errorf("--client-ca-file %s: no certificate", caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, info, nil
}

// newCRDController serves the CustomResourceDefinitions over the
// server's storage (with its watch caches when they are on).
func newCRDController(reg *registry.Registry, factory registry.StorageFactory, caches *Caches, log *slog.Logger) *crd.Controller {
	cfg := crd.Config{Registry: reg, Storage: factory, TrackStatus: apiserver.TrackStatus, Logger: log}
	if caches != nil {
		cfg.Release = caches.Release
	}
	return crd.New(cfg)
}
