package cacher_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ustorage "k8s.io/apiserver/pkg/storage"
	ucacher "k8s.io/apiserver/pkg/storage/cacher"
	uetcd3 "k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// Memory of a cache that has seen a bench run: N realistic pods (about
// 3.5 KiB of protobuf each, with managedFields) created and then updated
// U times each while the cache runs, so that its event history holds
// N×(U+1) events (all within the history window, as in a bench run). The
// heap the cache holds is the live heap with the cache running minus the
// live heap once it is stopped and unreachable (the etcd server of the
// test process and its client stay in both); it is reported per pod and
// per event, for regis's cache and for kube-apiserver's over the same
// etcd. Run with
//
//	go test ./internal/storage/cacher -run '^$' -bench CachedPodMemoryWithHistory -benchtime=1x -count=5
const (
	memPods    = 2000
	memUpdates = 10
	memWriters = 16
)

func BenchmarkCachedPodMemoryWithHistory(b *testing.B) {
	b.Run("impl=regis", func(b *testing.B) {
		for b.Loop() {
			f := newFixture(b)
			f.stop() // only its store and prefix are used
			benchmarkHistoryMemory(b, f.client, f.prefix, func() (func(), func() (string, error)) {
				c, stop := runCacher(b, f.store)
				return stop, func() (string, error) {
					l := &corev1.PodList{}
					err := c.GetList(context.Background(), "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, l)
					return l.ResourceVersion, err
				}
			})
		}
	})
	b.Run("impl=kube-apiserver", func(b *testing.B) {
		for b.Loop() {
			u := newUpstreamStore(b)
			benchmarkHistoryMemory(b, u.client, u.prefix, func() (func(), func() (string, error)) {
				// A store of its own, closed with the cache: upstream's
				// store keeps the cache's key function for its size
				// estimates.
				own := &upstreamCache{client: u.client, prefix: u.prefix}
				var closeStore func()
				own.store, closeStore = newUpstreamEtcd3(b, u.prefix)
				c, d := own.run(b)
				return func() {
						d.Stop()
						c.Stop()
						closeStore()
						own.store = nil
					}, func() (string, error) {
						l := &corev1.PodList{}
						err := d.GetList(context.Background(), "/pods/", ustorage.ListOptions{Recursive: true, Predicate: ustorage.Everything}, l)
						return l.ResourceVersion, err
					}
			})
		}
	})
}

// benchmarkHistoryMemory starts a cache (start returns how to stop it and
// how to read its revision with a consistent list), writes the pods and
// their updates under prefix, and reports the cache's heap.
func benchmarkHistoryMemory(b *testing.B, client *clientv3.Client, prefix string, start func() (stop func(), listRV func() (string, error))) {
	cdc, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		b.Fatal(err)
	}
	stop, listRV := start()
	// One write per revision, as clients make them (each revision is a
	// snapshot of the cache), from 16 writers.
	var (
		protoSize atomic.Int64
		lastRev   atomic.Int64
	)
	for round := 0; round <= memUpdates; round++ {
		var wg sync.WaitGroup
		for w := range memWriters {
			wg.Go(func() {
				for i := w; i < memPods; i += memWriters {
					p := realisticPod(i)
					p.Annotations["round"] = strconv.Itoa(round)
					p.Status.Conditions[1].LastTransitionTime = metav1.Unix(int64(1_800_000_000+round), 0)
					data, err := kruntime.Encode(cdc, p)
					if err != nil {
						b.Error(err)
						return
					}
					protoSize.Add(int64(len(data)))
					resp, err := client.Put(context.Background(), prefix+"/pods/"+p.Namespace+"/"+p.Name, string(data))
					if err != nil {
						b.Error(err)
						return
					}
					for {
						last := lastRev.Load()
						if resp.Header.Revision <= last || lastRev.CompareAndSwap(last, resp.Header.Revision) {
							break
						}
					}
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
	}
	events := memPods * (memUpdates + 1)
	// A consistent list waits until the cache has every event.
	deadline := time.Now().Add(time.Minute)
	for {
		rv, err := listRV()
		if err != nil {
			b.Fatal(err)
		}
		if n, _ := strconv.ParseInt(rv, 10, 64); n >= lastRev.Load() {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("cache at %s, want %d", rv, lastRev.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	with := liveHeap()
	if path := os.Getenv("CACHER_HEAP_PROFILE"); path != "" {
		writeHeapProfile(b, path+"."+strings.ReplaceAll(b.Name(), "/", "_"))
	}
	stop()
	stop, listRV = nil, nil
	// Let the stopped cache's goroutines exit.
	time.Sleep(2 * time.Second)
	without := liveHeap()
	held := float64(with) - float64(without)
	b.ReportMetric(held/memPods, "heap-B/pod")
	b.ReportMetric(held/float64(events), "heap-B/event")
	b.ReportMetric(float64(protoSize.Load()/int64(events)), "proto-B/pod")
	b.ReportMetric(held/1e6, "heap-MB")
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// runCacher runs a pods cacher over store until the returned stop is
// called, and waits until it is ready.
func runCacher(b testing.TB, store storage.Interface) (*cacher.Cacher, func()) {
	b.Helper()
	c, err := cacher.New(cacher.Config{
		Store:          store,
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		NewFunc:        func() kruntime.Object { return &corev1.Pod{} },
		NewListFunc:    func() kruntime.Object { return &corev1.PodList{} },
		GetAttrs:       podAttrs,
		IndexedFields:  []string{"spec.nodeName"},
		TriggerField:   "spec.nodeName",
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		stop()
		b.Fatal(err)
	}
	return c, stop
}

// run builds and starts kube-apiserver's cacher over the store, as start
// does, and leaves stopping it to the caller.
func (u *upstreamCache) run(b testing.TB) (*ucacher.Cacher, *ucacher.CacheDelegator) {
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
		c.Stop()
		b.Fatal(err)
	}
	return c, ucacher.NewCacheDelegator(c, u.store)
}

// newUpstreamEtcd3 is kube-apiserver's etcd3 store of pods under prefix,
// as newUpstreamStore makes it, with a client of its own; close closes
// both.
func newUpstreamEtcd3(b testing.TB, prefix string) (st ustorage.Interface, close func()) {
	b.Helper()
	kc, err := kubernetes.New(clientv3.Config{Endpoints: []string{srv.Endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	cdc, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		b.Fatal(err)
	}
	compactor := uetcd3.NewCompactor(kc.Client, 0, clock.RealClock{}, nil)
	versioner := ustorage.APIObjectVersioner{}
	store, err := uetcd3.New(kc, compactor, cdc, func() kruntime.Object { return &corev1.Pod{} }, func() kruntime.Object { return &corev1.PodList{} },
		prefix, "/pods/", schema.GroupResource{Resource: "pods"}, identity.NewEncryptCheckTransformer(),
		uetcd3.NewDefaultLeaseManagerConfig(), uetcd3.NewDefaultDecoder(cdc, versioner), versioner)
	if err != nil {
		b.Fatal(err)
	}
	return store, func() {
		store.Close()
		compactor.Stop()
		_ = kc.Close()
	}
}

// writeHeapProfile writes the live heap to path (go tool pprof -sample_index=inuse_space).
func writeHeapProfile(b testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}
