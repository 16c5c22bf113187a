package apiserver_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/crd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

var shared *etcdtest.Server

func TestMain(m *testing.M) {
	// client-go sends CBOR only when its feature gates allow it.
	os.Setenv("KUBE_FEATURE_ClientsAllowCBOR", "true")
	os.Exit(etcdtest.Run(m, &shared))
}

// testServer is an API server over the package's etcd, under an etcd
// prefix of the test's own, on a loopback port.
type testServer struct {
	*httptest.Server
	reg    *registry.Registry
	api    *apiserver.Server
	config *rest.Config
}

type serverOption func(*apiserver.Config)

// startServer starts a server whose resources are served through watch
// caches, as in production.
func startServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	return start(t, true, opts...)
}

// startUncached starts a server straight over the etcd stores.
func startUncached(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	return start(t, false, opts...)
}

func start(t testing.TB, cached bool, opts ...serverOption) *testServer {
	t.Helper()
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	// Registered first, so it runs last: the next run of this test (-count)
	// starts from an empty prefix.
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/", clientv3.WithPrefix()) })
	storeMetrics := etcd3.NewMetrics()
	factory := server.EtcdStorage(server.EtcdConfig{
		Client:  client,
		Prefix:  prefix,
		Metrics: storeMetrics,
	})
	// The production read path: watch caches over the etcd stores (but
	// for events, as kube-apiserver).
	factory, caches := server.CachedStorage(factory, server.CacheConfig{Cached: func(gr schema.GroupResource) bool {
		return cached && gr.Resource != "events"
	}})
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: factory})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cachesDone := make(chan struct{})
	go func() { defer close(cachesDone); _ = caches.Run(ctx) }()
	if err := controller.Bootstrap(t.Context(), reg, 6443, builtin.DefaultServiceNetwork()); err != nil {
		t.Fatal(err)
	}
	metrics, err := apiserver.NewMetrics(reg, storeMetrics.Collectors()...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := apiserver.Config{
		Registry: reg,
		Version:  version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.2+regis"},
		Metrics:  metrics,
		Checks: []apiserver.Check{{Name: "etcd", Livez: true, Readyz: true, Func: func(ctx context.Context) error {
			_, err := shared.Client(t).Get(ctx, "/registry/health")
			return err
		}}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	api, err := apiserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nc := controller.NewNamespaceController(reg, nil)
	done := make(chan struct{})
	go func() { defer close(done); _ = nc.Run(ctx) }()
	gc := controller.NewGarbageCollector(reg, nil)
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); _ = gc.Run(ctx) }()
	reaperDone := make(chan struct{})
	go func() { defer close(reaperDone); _ = controller.NewGracefulReaper(reg, nil).Run(ctx) }()
	crds := crd.New(crd.Config{Registry: reg, Storage: factory, Release: caches.Release, TrackStatus: apiserver.TrackStatus})
	crdsDone := make(chan struct{})
	go func() { defer close(crdsDone); _ = crds.Run(ctx) }()
	hs := httptest.NewUnstartedServer(api)
	hs.EnableHTTP2 = true
	hs.Start()
	t.Cleanup(func() {
		api.Shutdown()
		hs.Close()
		cancel()
		<-done
		<-gcDone
		<-reaperDone
		<-crdsDone
		<-cachesDone
	})
	return &testServer{Server: hs, reg: reg, api: api, config: &rest.Config{Host: hs.URL, QPS: -1}}
}

func (s *testServer) clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(s.config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
