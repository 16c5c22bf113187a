package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"k8s.io/apimachinery/pkg/api/apitesting"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/apis/example"
	examplev1 "k8s.io/apiserver/pkg/apis/example/v1"
	ustorage "k8s.io/apiserver/pkg/storage"
	storagetesting "k8s.io/apiserver/pkg/storage/testing"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage/cacher"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

var (
	srv    *etcdtest.Server
	scheme = runtime.NewScheme()
	codecs = serializer.NewCodecFactory(scheme)
)

func init() {
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	utilruntime.Must(example.AddToScheme(scheme))
	utilruntime.Must(examplev1.AddToScheme(scheme))
}

// The whole package shares one etcd; each test wipes it when done.
func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

// testPrefix is the PrefixTransformer prefix the upstream harness uses.
const testPrefix = "test!"

// failingCodec fails every decode while failing is set.
type failingCodec struct {
	runtime.Codec
	failing atomic.Bool
}

func (c *failingCodec) setFailing(f bool) { c.failing.Store(f) }

func (c *failingCodec) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if c.failing.Load() {
		return nil, nil, errors.New("synthetic error")
	}
	return c.Codec.Decode(data, defaults, into)
}

// harness is one regis etcd3 store built as upstream builds its reference
// store: etcd prefix "", resource prefix "/pods/", a "test!" prefix
// transformer, the example API codec, and a KV that counts reads.
type harness struct {
	client      *clientv3.Client
	kv          *storagetesting.KVRecorder
	prefixT     *storagetesting.PrefixTransformer
	transformer *swappableTransformer
	codec       *failingCodec
	compactor   *etcd.Compactor
	store       *etcd3.Store
}

type harnessConfig struct {
	store etcd3.Config
	// etcd serves the harness: the package's shared one unless the test
	// needs one of its own.
	etcd *etcdtest.Server
}

type harnessOption func(*testing.T, *harnessConfig)

func aggregateCorruptErrors(_ *testing.T, c *harnessConfig) { c.store.AggregateCorruptErrors = true }

// freshEtcd gives the harness an etcd of its own, never compacted.
func freshEtcd(t *testing.T, c *harnessConfig) { c.etcd = etcdtest.New(t) }

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	hc := harnessConfig{etcd: srv, store: etcd3.Config{
		NewFunc:        func() runtime.Object { return &example.Pod{} },
		NewListFunc:    func() runtime.Object { return &example.PodList{} },
		Prefix:         "",
		ResourcePrefix: "/pods/",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		Lease:          etcd3.LeaseConfig{ReuseDurationSeconds: 1, MaxObjectCount: 1000},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
	for _, o := range opts {
		o(t, &hc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	client := hc.etcd.Client(t)
	h := &harness{client: client}
	h.kv = storagetesting.NewKVRecorder(client.KV, nil)
	client.KV = h.kv
	h.prefixT = storagetesting.NewPrefixTransformer([]byte(testPrefix), false)
	h.transformer = &swappableTransformer{t: h.prefixT}
	h.codec = &failingCodec{Codec: apitesting.TestCodec(codecs, examplev1.SchemeGroupVersion)}
	// The compactor has a client of its own, so that its reads are not
	// counted as the store's.
	h.compactor = etcd.NewCompactor(hc.etcd.Client(t), 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go h.compactor.Run(ctx)
	hc.store.Client, hc.store.Codec, hc.store.Transformer, hc.store.Compactor = client, h.codec, h.transformer, h.compactor
	s, err := etcd3.New(hc.store)
	if err != nil {
		t.Fatal(err)
	}
	h.store = s
	t.Cleanup(func() {
		s.Close()
		cancel()
		// Leave an empty key space for the next test.
		if _, err := client.Delete(context.Background(), "\x00", clientv3.WithFromKey()); err != nil {
			t.Errorf("wiping etcd: %v", err)
		}
	})
	return h
}

func (h *harness) upstream() upstream { return upstream{s: h.store} }

// withPrefixTransformer is upstream's InterfaceWithPrefixTransformer.
type withPrefixTransformer struct {
	upstream
	h *harness
}

func (w withPrefixTransformer) UpdatePrefixTransformer(modifier storagetesting.PrefixTransformerModifier) func() {
	copied := *w.h.prefixT
	return w.h.transformer.swap(modifier(&copied))
}

// withTransformerOverride is upstream's InterfaceWithTransformerOverride.
type withTransformerOverride struct {
	upstream
	h *harness
}

func (w withTransformerOverride) UpdateTransformer(modifier storagetesting.TransformerModifier) func() {
	return w.h.transformer.swap(modifier(w.h.transformer.get()))
}

// keyValidation checks what the store wrote: the value carries the
// transformer prefix, decodes, and has no resourceVersion or selfLink.
func (h *harness) keyValidation(ctx context.Context, t *testing.T, key string) {
	resp, err := h.client.Get(ctx, key)
	if err != nil {
		t.Fatalf("etcd get: %v", err)
	}
	if len(resp.Kvs) == 0 {
		t.Fatalf("expecting non empty result on key: %s", key)
	}
	obj, err := runtime.Decode(h.codec, resp.Kvs[0].Value[len(testPrefix):])
	if err != nil {
		t.Fatalf("decoding stored object: %v", err)
	}
	pod := obj.(*example.Pod)
	if pod.ResourceVersion != "" {
		t.Errorf("stored object should have empty resource version")
	}
	if pod.SelfLink != "" {
		t.Errorf("stored output should have empty selfLink")
	}
}

// compaction compacts etcd at rv and waits until the store observes it.
func (h *harness) compaction(ctx context.Context, t *testing.T, resourceVersion string) {
	rv, err := ustorage.APIObjectVersioner{}.ParseResourceVersion(resourceVersion)
	if err != nil {
		t.Fatal(err)
	}
	if err := etcd.CompactAt(ctx, h.client.KV, int64(rv)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.store.CompactRevision() != int64(rv) {
		if time.Now().After(deadline) {
			t.Fatalf("compaction at %d not observed (store reports %d)", rv, h.store.CompactRevision())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// increaseRV writes an unrelated key and returns the new revision.
func (h *harness) increaseRV(ctx context.Context, t *testing.T) int64 {
	resp, err := h.client.Put(ctx, "increaseRV", "ok")
	if err != nil {
		t.Fatalf("increaseRV: %v", err)
	}
	return resp.Header.Revision
}

// callsValidation is upstream's check of the page-filling algorithm: the
// number of transformer reads and of etcd range calls per list.
func (h *harness) callsValidation(t *testing.T, pageSize, estimatedProcessedObjects uint64) {
	if reads := h.prefixT.GetReadsAndReset(); reads != estimatedProcessedObjects {
		t.Errorf("unexpected reads: %d, expected: %d", reads, estimatedProcessedObjects)
	}
	estimatedGetCalls := uint64(1)
	if pageSize != 0 {
		currLimit := pageSize
		for sum := uint64(1); sum < estimatedProcessedObjects; {
			currLimit = min(currLimit*2, 10000)
			sum += currLimit
			estimatedGetCalls++
		}
	}
	if reads := h.kv.GetReadsAndReset() + h.kv.GetStreamReadsAndReset(); reads != estimatedGetCalls {
		t.Fatalf("unexpected reads: %d, want: %d", reads, estimatedGetCalls)
	}
}

var _ = fmt.Sprintf

// cacherHarness is a regis cacher over a harness-built etcd3 store, set up
// as upstream's cacher tests set up theirs (cacher_test.go testSetup): the
// pods' selectable fields, indexes on spec.nodeName and metadata.namespace,
// spec.nodeName as the trigger, and a recorder of the lists that reach etcd.
type cacherHarness struct {
	*harness
	cacher   *cacher.Cacher
	recorder *storagetesting.KubernetesRecorder
}

// cacherSetup is how a cacher harness is built.
type cacherSetup struct {
	harness []harnessOption
	cacher  []func(*cacher.Config)
}

type cacherOption func(*cacherSetup)

// estimateSizes turns on the store's size estimation, with the cache's keys.
func estimateSizes(s *cacherSetup) {
	s.cacher = append(s.cacher, func(c *cacher.Config) { c.EstimateSizes = true })
}

// clusterScoped keys objects by name alone (upstream's withClusterScopedKeyFunc).
func clusterScoped(s *cacherSetup) {
	s.cacher = append(s.cacher, func(c *cacher.Config) { c.ClusterScoped = true })
}

// onFreshEtcd builds the cacher on an etcd of its own.
func onFreshEtcd(s *cacherSetup) { s.harness = append(s.harness, freshEtcd) }

func newCacherHarness(t *testing.T, opts ...cacherOption) *cacherHarness {
	t.Helper()
	var setup cacherSetup
	for _, o := range opts {
		o(&setup)
	}
	h := newHarness(t, setup.harness...)
	ch := &cacherHarness{harness: h, recorder: storagetesting.NewKubernetesRecorder(noopLister{})}
	h.client.KV = &listRecordingKV{KV: h.client.KV, rec: ch.recorder}
	cfg := cacher.Config{
		Store:                  h.store,
		ResourcePrefix:         "/pods/",
		GroupResource:          schema.GroupResource{Resource: "pods"},
		NewFunc:                func() runtime.Object { return &example.Pod{} },
		NewListFunc:            func() runtime.Object { return &example.PodList{} },
		GetAttrs:               podAttrs,
		IndexedFields:          []string{"spec.nodeName", "metadata.namespace"},
		TriggerField:           "spec.nodeName",
		Codec:                  h.codec,
		CompactionPollInterval: 10 * time.Millisecond,
		Logger:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range setup.cacher {
		o(&cfg)
	}
	c, err := cacher.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch.cacher = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	// Cleanups run last-in first-out: the cacher stops before the store
	// and etcd's wipe.
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cacher.Run: %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatalf("cacher not ready: %v", err)
	}
	return ch
}

func (h *cacherHarness) upstream() upstream { return upstream{s: h.cacher} }

// compaction compacts etcd at rv and waits until the cacher has applied it.
func (h *cacherHarness) compaction(ctx context.Context, t *testing.T, resourceVersion string) {
	h.harness.compaction(ctx, t, resourceVersion)
	rv, _ := strconv.ParseInt(resourceVersion, 10, 64)
	deadline := time.Now().Add(30 * time.Second)
	for h.cacher.CompactRevision() != rv {
		if time.Now().After(deadline) {
			t.Fatalf("compaction at %d not observed by the cacher (it reports %d)", rv, h.cacher.CompactRevision())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// podAttrs are the selectable fields of upstream's cacher tests (GetPodAttrs).
func podAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	pod, ok := obj.(*example.Pod)
	if !ok {
		return nil, nil, fmt.Errorf("not a pod")
	}
	return labels.Set(pod.Labels), fields.Set{
		"spec.nodeName":      pod.Spec.NodeName,
		"spec.restartPolicy": string(pod.Spec.RestartPolicy),
		"status.phase":       string(pod.Status.Phase),
		"metadata.name":      pod.Name,
		"metadata.namespace": pod.Namespace,
	}, nil
}

// listRecordingKV records the range reads (lists) of requests that carry
// upstream's recorder key, as upstream's KubernetesRecorder records the
// lists of its store, so that tests see which lists the cacher sent to etcd.
type listRecordingKV struct {
	clientv3.KV
	rec *storagetesting.KubernetesRecorder
}

func (k *listRecordingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if _, ok := ctx.Value(storagetesting.RecorderContextKey).(string); ok {
		if op := clientv3.OpGet(key, opts...); len(op.RangeBytes()) > 0 {
			_, _ = k.rec.List(ctx, key, kubernetes.ListOptions{Revision: op.Rev(), Limit: op.Limit()})
		}
	}
	return k.KV.Get(ctx, key, opts...)
}

// noopLister is the recorder's inner client: the read itself is done by
// listRecordingKV.
type noopLister struct{ kubernetes.Interface }

func (noopLister) List(context.Context, string, kubernetes.ListOptions) (kubernetes.ListResponse, error) {
	return kubernetes.ListResponse{}, nil
}
