package cacher_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	ustorage "k8s.io/apiserver/pkg/storage"
	ucacher "k8s.io/apiserver/pkg/storage/cacher"
	uetcd3 "k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/storage"
)

// The same benchmarks against kube-apiserver's own watch cache
// (k8s.io/apiserver's Cacher and CacheDelegator over its etcd3 store, with
// its 1.37 default feature gates), on the same etcd, for comparison in one
// run. Test code only: regis never imports k8s.io/apiserver.

// upstreamCache is kube-apiserver's cache of pods under an etcd prefix of
// its own; it stops when the benchmark ends.
type upstreamCache struct {
	client *clientv3.Client
	prefix string
	store  ustorage.Interface
	cache  *ucacher.CacheDelegator
}

// newUpstreamStore returns kube-apiserver's etcd3 store of pods.
func newUpstreamStore(b testing.TB) *upstreamCache {
	b.Helper()
	kc, err := kubernetes.New(clientv3.Config{Endpoints: []string{srv.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = kc.Close() })
	cdc, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		b.Fatal(err)
	}
	compactor := uetcd3.NewCompactor(kc.Client, 0, clock.RealClock{}, nil)
	b.Cleanup(compactor.Stop)
	u := &upstreamCache{client: kc.Client, prefix: fmt.Sprintf("/u%d", prefixSeq.Add(1))}
	versioner := ustorage.APIObjectVersioner{}
	st, err := uetcd3.New(kc, compactor, cdc, func() kruntime.Object { return &corev1.Pod{} }, func() kruntime.Object { return &corev1.PodList{} },
		u.prefix, "/pods/", schema.GroupResource{Resource: "pods"}, identity.NewEncryptCheckTransformer(),
		uetcd3.NewDefaultLeaseManagerConfig(), uetcd3.NewDefaultDecoder(cdc, versioner), versioner)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	u.store = st
	return u
}

// start builds and starts kube-apiserver's cacher over the store, as
// StorageWithCacher does for pods (spec.nodeName trigger and index).
func (u *upstreamCache) start(b testing.TB) {
	b.Helper()
	cdc, _ := codec.New("", corev1.SchemeGroupVersion)
	c, err := ucacher.NewCacherFromConfig(ucacher.Config{
		Storage:             u.store,
		Versioner:           ustorage.APIObjectVersioner{},
		GroupResource:       schema.GroupResource{Resource: "pods"},
		EventsHistoryWindow: ucacher.DefaultEventFreshDuration,
		ResourcePrefix:      "/pods/",
		KeyFunc:             func(obj kruntime.Object) (string, error) { return ustorage.NamespaceKeyFunc("/pods/", obj) },
		GetAttrsFunc:        podAttrs,
		IndexerFuncs: ustorage.IndexerFuncs{"spec.nodeName": func(obj kruntime.Object) string {
			return obj.(*corev1.Pod).Spec.NodeName
		}},
		Indexers: &cache.Indexers{"f:spec.nodeName": func(obj any) ([]string, error) {
			return []string{obj.(*corev1.Pod).Spec.NodeName}, nil
		}},
		NewFunc:     func() kruntime.Object { return &corev1.Pod{} },
		NewListFunc: func() kruntime.Object { return &corev1.PodList{} },
		Codec:       cdc,
		Clock:       clock.RealClock{},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := c.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	u.cache = ucacher.NewCacheDelegator(c, u.store)
	b.Cleanup(func() {
		u.cache.Stop()
		c.Stop()
	})
}

// fanoutTarget is what the fan-out benchmark needs of a cache.
type fanoutTarget struct {
	create func(name string) error
	update func(name string, edit func(*corev1.Pod)) error
	listRV func() (string, error)
	watch  func(rv string) (watch.Interface, error)
}

func regisTarget(b *testing.B) fanoutTarget {
	f := newFixture(b)
	ctx := context.Background()
	return fanoutTarget{
		create: func(name string) error {
			return f.cacher.Create(ctx, podKey("ns", name), newPod("ns", name, "node-1"), &corev1.Pod{}, 0)
		},
		update: func(name string, edit func(*corev1.Pod)) error {
			return f.cacher.GuaranteedUpdate(ctx, podKey("ns", name), &corev1.Pod{}, false, nil,
				func(in kruntime.Object, _ storage.ResponseMeta) (kruntime.Object, *uint64, error) {
					p := in.(*corev1.Pod).DeepCopy()
					edit(p)
					return p, nil, nil
				}, nil)
		},
		listRV: func() (string, error) {
			l := &corev1.PodList{}
			err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, l)
			return l.ResourceVersion, err
		},
		watch: func(rv string) (watch.Interface, error) {
			return f.cacher.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: storage.Everything})
		},
	}
}

func upstreamTarget(b *testing.B) fanoutTarget {
	u := newUpstreamStore(b)
	u.start(b)
	ctx := context.Background()
	return fanoutTarget{
		create: func(name string) error {
			return u.cache.Create(ctx, "/pods/ns/"+name, newPod("ns", name, "node-1"), &corev1.Pod{}, 0)
		},
		update: func(name string, edit func(*corev1.Pod)) error {
			return u.cache.GuaranteedUpdate(ctx, "/pods/ns/"+name, &corev1.Pod{}, false, nil,
				func(in kruntime.Object, _ ustorage.ResponseMeta) (kruntime.Object, *uint64, error) {
					p := in.(*corev1.Pod).DeepCopy()
					edit(p)
					return p, nil, nil
				}, nil)
		},
		listRV: func() (string, error) {
			l := &corev1.PodList{}
			err := u.cache.GetList(ctx, "/pods/", ustorage.ListOptions{Recursive: true, Predicate: ustorage.Everything}, l)
			return l.ResourceVersion, err
		},
		watch: func(rv string) (watch.Interface, error) {
			return u.cache.Watch(ctx, "/pods/", ustorage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: ustorage.Everything})
		},
	}
}

// annotation reads an annotation of a watch event's object without
// copying it (both caches' wrappers implement metav1.Object).
func annotation(obj kruntime.Object, key string) string {
	m, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return m.GetAnnotations()[key]
}

// BenchmarkUpstreamCachedPodMemory50000 is BenchmarkCachedPodMemory50000
// for kube-apiserver's cache (filled, as in kube-apiserver 1.37, by a
// watch-list of its store).
func BenchmarkUpstreamCachedPodMemory50000(b *testing.B) {
	const pods = 50000
	u := newUpstreamStore(b)
	cdc, _ := codec.New("", corev1.SchemeGroupVersion)
	protoSize := seedPods(b, u.client, cdc, u.prefix, pods)
	for b.Loop() {
		heap := func() uint64 {
			var m runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := heap()
		u.start(b)
		after := heap()
		perPod := float64(after-before) / pods
		runtime.KeepAlive(u.cache)
		b.ReportMetric(perPod, "heap-B/pod")
		b.ReportMetric(float64(protoSize), "proto-B/pod")
		b.ReportMetric(perPod/float64(protoSize), "heap/proto")
	}
}
