package cacher_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// The package shares one etcd; each fixture works under an etcd prefix of
// its own.
var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

var prefixSeq atomic.Int64

// fixture is a cacher of pods over a real etcd3 store.
type fixture struct {
	client *clientv3.Client
	store  *etcd3.Store
	cacher *cacher.Cacher
	codec  runtime.Codec
	prefix string // this fixture's etcd prefix, e.g. "/t3"
	stop   func() // stops the cacher and waits for Run to return
}

// setup is how a fixture is built.
type setup struct {
	cfg    *cacher.Config
	noWait bool
	seed   []*corev1.Pod // written to etcd before the cacher starts
}

type fixtureOption func(*setup)

// withStore puts a wrapper between the cacher and the store.
func withStore(wrap func(storage.Interface) storage.Interface) fixtureOption {
	return func(s *setup) { s.cfg.Store = wrap(s.cfg.Store) }
}

func withConfig(edit func(*cacher.Config)) fixtureOption {
	return func(s *setup) { edit(s.cfg) }
}

// withSeed writes pods to etcd before the cacher starts.
func withSeed(pods ...*corev1.Pod) fixtureOption {
	return func(s *setup) { s.seed = append(s.seed, pods...) }
}

// noWait returns the fixture before the cache is ready.
func noWait(s *setup) { s.noWait = true }

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	return newFixtureOn(t, srv, opts...)
}

// newFixtureOn is newFixture on the etcd of es.
func newFixtureOn(t testing.TB, es *etcdtest.Server, opts ...fixtureOption) *fixture {
	t.Helper()
	cdc, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{client: es.Client(t), codec: cdc, prefix: fmt.Sprintf("/t%d", prefixSeq.Add(1))}
	// A compactor that only observes, so that the store (and the cache)
	// learn of the compactions tests make.
	compactor := etcd.NewCompactor(es.Client(t), 0, nil)
	cctx, ccancel := context.WithCancel(context.Background())
	cdone := make(chan struct{})
	go func() {
		defer close(cdone)
		_ = compactor.Run(cctx)
	}()
	t.Cleanup(func() {
		ccancel()
		<-cdone
	})
	f.store, err = etcd3.New(etcd3.Config{
		Compactor:      compactor,
		Client:         f.client,
		Codec:          cdc,
		NewFunc:        func() runtime.Object { return &corev1.Pod{} },
		NewListFunc:    func() runtime.Object { return &corev1.PodList{} },
		Prefix:         f.prefix,
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.store.Close)
	cfg := cacher.Config{
		Store:          f.store,
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		NewFunc:        func() runtime.Object { return &corev1.Pod{} },
		NewListFunc:    func() runtime.Object { return &corev1.PodList{} },
		GetAttrs:       podAttrs,
		IndexedFields:  []string{"spec.nodeName", "metadata.name"},
		TriggerField:   "spec.nodeName",
		Codec:          cdc,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),

		CompactionPollInterval: 10 * time.Millisecond,
	}
	st := setup{cfg: &cfg}
	for _, o := range opts {
		o(&st)
	}
	for _, p := range st.seed {
		if err := f.store.Create(context.Background(), podKey(p.Namespace, p.Name), p, &corev1.Pod{}, 0); err != nil {
			t.Fatalf("seed %s/%s: %v", p.Namespace, p.Name, err)
		}
	}
	if f.cacher, err = cacher.New(cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.cacher.Run(ctx) }()
	stopped := false
	f.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cacher.Run: %v", err)
		}
	}
	t.Cleanup(f.stop)
	if !st.noWait {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := f.cacher.WaitReady(ctx); err != nil {
			t.Fatalf("cacher not ready: %v", err)
		}
	}
	return f
}

// podAttrs are pods' selectable fields.
func podAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil, fmt.Errorf("not a pod: %T", obj)
	}
	return labels.Set(p.Labels), fields.Set{
		"metadata.name":      p.Name,
		"metadata.namespace": p.Namespace,
		"spec.nodeName":      p.Spec.NodeName,
		"status.phase":       string(p.Status.Phase),
	}, nil
}

func newPod(ns, name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name),
			Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func podKey(ns, name string) string { return "/pods/" + ns + "/" + name }

func (f *fixture) create(t testing.TB, p *corev1.Pod) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	if err := f.cacher.Create(context.Background(), podKey(p.Namespace, p.Name), p, out, 0); err != nil {
		t.Fatalf("create %s/%s: %v", p.Namespace, p.Name, err)
	}
	return out
}

func (f *fixture) update(t testing.TB, ns, name string, edit func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	err := f.cacher.GuaranteedUpdate(context.Background(), podKey(ns, name), out, false, nil,
		func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
			p := in.(*corev1.Pod).DeepCopy()
			edit(p)
			return p, nil, nil
		}, nil)
	if err != nil {
		t.Fatalf("update %s/%s: %v", ns, name, err)
	}
	return out
}

func (f *fixture) delete(t testing.TB, ns, name string) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	if err := f.cacher.Delete(context.Background(), podKey(ns, name), out, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	return out
}

// listEtcd lists the pods straight from the store.
func (f *fixture) listEtcd(t testing.TB, rv string) *corev1.PodList {
	t.Helper()
	list := &corev1.PodList{}
	opts := storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: storage.Everything}
	if rv != "" {
		opts.ResourceVersionMatch = metav1.ResourceVersionMatchExact
	}
	if err := f.store.GetList(context.Background(), "/pods", opts, list); err != nil {
		t.Fatalf("etcd list: %v", err)
	}
	return list
}

func (f *fixture) currentRV(t testing.TB) uint64 {
	t.Helper()
	rv, err := f.store.GetCurrentResourceVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

// unwrap returns the object of an event, through a cacheable.Object.
func unwrap(obj runtime.Object) runtime.Object {
	if co, ok := obj.(runtime.CacheableObject); ok {
		return co.GetObject()
	}
	return obj
}

func objRV(t testing.TB, obj runtime.Object) uint64 {
	t.Helper()
	rv, err := storage.APIObjectVersioner{}.ObjectResourceVersion(obj)
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

// next receives one event, failing after timeout.
func next(t testing.TB, w watch.Interface, timeout time.Duration) (watch.Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		return ev, ok
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
		return watch.Event{}, false
	}
}
