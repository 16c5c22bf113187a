package etcd3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

var srv *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(etcdtest.Run(m, &srv)) }

var prefixSeq atomic.Int64

type fixture struct {
	client *clientv3.Client
	store  *etcd3.Store
	prefix string // the etcd prefix of this test, e.g. "/t3"
}

// newStore returns a pods store under an etcd prefix of the test's own,
// with the given media type.
func newStore(t testing.TB, mediaType string) fixture {
	t.Helper()
	c, err := codec.New(mediaType, corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client(t)
	prefix := fmt.Sprintf("/t%d", prefixSeq.Add(1))
	s, err := etcd3.New(etcd3.Config{
		Client:         client,
		Codec:          c,
		NewFunc:        func() runtime.Object { return &corev1.Pod{} },
		NewListFunc:    func() runtime.Object { return &corev1.PodList{} },
		Prefix:         prefix,
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return fixture{client: client, store: s, prefix: prefix}
}

func pod(ns, name string, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls, UID: types.UID("uid-" + ns + "-" + name)},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func key(ns, name string) string { return "/pods/" + ns + "/" + name }

func TestStoredBytesPerMediaType(t *testing.T) {
	for _, tc := range []struct {
		mediaType string
		prefix    []byte
	}{
		{"application/vnd.kubernetes.protobuf", []byte("k8s\x00")},
		{"application/json", []byte(`{"kind":"Pod","apiVersion":"v1"`)},
		{"application/cbor", []byte{0xd9, 0xd9, 0xf7}},
	} {
		t.Run(tc.mediaType, func(t *testing.T) {
			ctx := context.Background()
			f := newStore(t, tc.mediaType)
			in := pod("default", "p1", map[string]string{"app": "a"})
			out := &corev1.Pod{}
			if err := f.store.Create(ctx, key("default", "p1"), in, out, 0); err != nil {
				t.Fatal(err)
			}
			resp, err := f.client.Get(ctx, f.prefix+"/pods/default/p1")
			if err != nil || len(resp.Kvs) != 1 {
				t.Fatalf("raw get: %v %v", resp, err)
			}
			raw := resp.Kvs[0].Value
			if !bytes.HasPrefix(raw, tc.prefix) {
				t.Fatalf("stored value starts with %q, want %q", raw[:min(len(raw), 16)], tc.prefix)
			}
			stored, err := runtime.Decode(codec.Deserializer(), raw)
			if err != nil {
				t.Fatalf("decoding the raw value: %v", err)
			}
			if rv := stored.(*corev1.Pod).ResourceVersion; rv != "" {
				t.Errorf("resourceVersion %q was stored", rv)
			}
			got := &corev1.Pod{}
			if err := f.store.Get(ctx, key("default", "p1"), storage.GetOptions{}, got); err != nil {
				t.Fatal(err)
			}
			if got.ResourceVersion != fmt.Sprint(resp.Kvs[0].ModRevision) {
				t.Errorf("resourceVersion %s, want mod revision %d", got.ResourceVersion, resp.Kvs[0].ModRevision)
			}
			in.ResourceVersion = got.ResourceVersion
			in.APIVersion, in.Kind = "v1", "Pod"
			got.APIVersion, got.Kind = "v1", "Pod"
			if !equalJSON(t, in, got) {
				t.Errorf("round trip changed the pod:\n in: %+v\nout: %+v", in, got)
			}
		})
	}
}

func equalJSON(t *testing.T, a, b runtime.Object) bool {
	t.Helper()
	c, _ := codec.New("application/json", corev1.SchemeGroupVersion)
	ea, err := runtime.Encode(c, a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := runtime.Encode(c, b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ea, eb)
}

func TestConcurrentGuaranteedUpdateLosesNothing(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	k := key("default", "counter")
	if err := f.store.Create(ctx, k, pod("default", "counter", nil), nil, 0); err != nil {
		t.Fatal(err)
	}
	const workers, each = 50, 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				err := f.store.GuaranteedUpdate(ctx, k, &corev1.Pod{}, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
					p := in.(*corev1.Pod)
					n := 0
					fmt.Sscan(p.Annotations["count"], &n)
					if p.Annotations == nil {
						p.Annotations = map[string]string{}
					}
					p.Annotations["count"] = fmt.Sprint(n + 1)
					return p, nil, nil
				}, nil)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := &corev1.Pod{}
	if err := f.store.Get(ctx, k, storage.GetOptions{}, got); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint(workers * each); got.Annotations["count"] != want {
		t.Fatalf("count = %s, want %s", got.Annotations["count"], want)
	}
}

func TestPagingWithSelectorReturnsEachOnce(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	const n = 2500
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			lbl := map[string]string{"keep": fmt.Sprint(i%3 == 0)}
			name := fmt.Sprintf("p%05d", i)
			if err := f.store.Create(ctx, key("ns", name), pod("ns", name, lbl), nil, 0); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	sel := labels.SelectorFromSet(labels.Set{"keep": "true"})
	seen := map[string]int{}
	token, pages := "", 0
	for {
		list := &corev1.PodList{}
		pred := storage.SelectionPredicate{Label: sel, Limit: 100, Continue: token, GetAttrs: storage.DefaultNamespaceScopedAttr}
		if err := f.store.GetList(ctx, "/pods/ns", storage.ListOptions{Recursive: true, Predicate: pred}, list); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range list.Items {
			seen[p.Name]++
		}
		if list.RemainingItemCount != nil {
			t.Errorf("remainingItemCount set on a filtered list")
		}
		if token = list.Continue; token == "" {
			break
		}
		if len(list.Items) != 100 {
			t.Fatalf("page %d has %d items and a continue token", pages, len(list.Items))
		}
	}
	if len(seen) != (n+2)/3 {
		t.Fatalf("saw %d objects, want %d", len(seen), (n+2)/3)
	}
	for name, c := range seen {
		if c != 1 {
			t.Errorf("%s returned %d times", name, c)
		}
	}
}

func TestCompactedRevisionIsGone(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	out := &corev1.Pod{}
	if err := f.store.Create(ctx, key("ns", "a"), pod("ns", "a", nil), out, 0); err != nil {
		t.Fatal(err)
	}
	oldRV := out.ResourceVersion
	for i := 0; i < 3; i++ {
		if err := f.store.GuaranteedUpdate(ctx, key("ns", "a"), &corev1.Pod{}, false, nil, setLabel("i", fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := f.store.GetCurrentResourceVersion(ctx)
	if _, err := f.client.Compact(ctx, int64(cur)); err != nil {
		t.Fatal(err)
	}
	err := f.store.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, ResourceVersion: oldRV,
		ResourceVersionMatch: metav1.ResourceVersionMatchExact, Predicate: storage.Everything}, &corev1.PodList{})
	if !apierrors.IsResourceExpired(err) || apierrors.ReasonForError(err) != metav1.StatusReasonExpired {
		t.Fatalf("list at compacted RV: %v, want 410 Expired", err)
	}
	w, err := f.store.Watch(ctx, "/pods", storage.ListOptions{Recursive: true, ResourceVersion: oldRV, Predicate: storage.Everything})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := next(t, w)
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || st.Code != 410 || st.Message != "The resourceVersion for the provided watch is too old." {
		t.Fatalf("watch at compacted RV: %v %+v, want a 410 ERROR event", ev.Type, ev.Object)
	}
}

func setLabel(k, v string) storage.UpdateFunc {
	return func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		p := in.(*corev1.Pod)
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
		return p, nil, nil
	}
}

func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event in 10s")
	}
	return watch.Event{}
}

func TestWatchFromOldRVReplaysInOrder(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	out := &corev1.Pod{}
	if err := f.store.Create(ctx, key("ns", "a"), pod("ns", "a", nil), out, 0); err != nil {
		t.Fatal(err)
	}
	start := out.ResourceVersion
	var want []string
	for i := 0; i < 5; i++ {
		p := &corev1.Pod{}
		if err := f.store.GuaranteedUpdate(ctx, key("ns", "a"), p, false, nil, setLabel("i", fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, "MODIFIED/"+p.ResourceVersion)
	}
	del := &corev1.Pod{}
	if err := f.store.Delete(ctx, key("ns", "a"), del, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	want = append(want, "DELETED/"+del.ResourceVersion)
	w, err := f.store.Watch(ctx, "/pods", storage.ListOptions{Recursive: true, ResourceVersion: start, Predicate: storage.Everything})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i, wnt := range want {
		ev := next(t, w)
		got := string(ev.Type) + "/" + ev.Object.(*corev1.Pod).ResourceVersion
		if got != wnt {
			t.Fatalf("event %d = %s, want %s", i, got, wnt)
		}
	}
}

func TestTTLExpiryDeletes(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	if err := f.store.Create(ctx, key("ns", "short"), pod("ns", "short", nil), nil, 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := f.store.Get(ctx, key("ns", "short"), storage.GetOptions{}, &corev1.Pod{})
		if storage.IsNotFound(err) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("object with a 1s TTL still exists after 15s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	if err := f.store.Create(ctx, key("ns", "a"), pod("ns", "a", nil), nil, 0); err != nil {
		t.Fatal(err)
	}
	// A corrupt value in etcd.
	if _, err := f.client.Put(ctx, f.prefix+"/pods/ns/corrupt", "k8s\x00garbage"); err != nil {
		t.Fatal(err)
	}
	list := func(o storage.ListOptions) error {
		o.Recursive = true
		if o.Predicate.Label == nil {
			o.Predicate = storage.Everything
		}
		return f.store.GetList(ctx, "/pods", o, &corev1.PodList{})
	}
	cases := []struct {
		name  string
		err   error
		check func(error) bool
		text  string
	}{
		{"get corrupt", f.store.Get(ctx, key("ns", "corrupt"), storage.GetOptions{}, &corev1.Pod{}), storage.IsInternalError, f.prefix + "/pods/ns/corrupt"},
		{"list corrupt", list(storage.ListOptions{}), storage.IsInternalError, f.prefix + "/pods/ns/corrupt"},
		{"bad continue", list(storage.ListOptions{Predicate: storage.SelectionPredicate{Label: labels.Everything(), Limit: 1, Continue: "%%%"}}), apierrors.IsBadRequest, "invalid continue token"},
		{"path escaping continue", list(storage.ListOptions{Predicate: storage.SelectionPredicate{Label: labels.Everything(), Limit: 1,
			Continue: "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIuLi8uLi9zZWNyZXRzLyJ9"}}), apierrors.IsBadRequest, "continue key is not valid"},
		{"bad resourceVersion", list(storage.ListOptions{ResourceVersion: "abc"}), apierrors.IsBadRequest, "invalid resource version"},
		{"bad get resourceVersion", f.store.Get(ctx, key("ns", "a"), storage.GetOptions{ResourceVersion: "-1"}, &corev1.Pod{}), apierrors.IsBadRequest, "invalid resource version"},
		{"name with ..", f.store.Get(ctx, "/pods/ns/..", storage.GetOptions{}, &corev1.Pod{}), func(err error) bool { return err != nil }, "invalid key"},
		{"empty key", f.store.Get(ctx, "", storage.GetOptions{}, &corev1.Pod{}), func(err error) bool { return err != nil }, "empty key"},
	}
	big := pod("ns", "big", nil)
	big.Annotations = map[string]string{"blob": strings.Repeat("x", 2<<20)}
	cases = append(cases, struct {
		name  string
		err   error
		check func(error) bool
		text  string
	}{"too large", f.store.Create(ctx, key("ns", "big"), big, nil, 0), apierrors.IsRequestEntityTooLargeError, "request size limit"})
	for _, tc := range cases {
		if tc.err == nil || !tc.check(tc.err) || !strings.Contains(tc.err.Error(), tc.text) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, tc.err, tc.text)
		}
	}
	if resp, _ := f.client.Get(ctx, f.prefix+"/pods/ns/big"); len(resp.Kvs) != 0 {
		t.Errorf("the too-large object was written")
	}
}

func TestEtcdRefusalOfLargeValueIs413(t *testing.T) {
	ctx := context.Background()
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	// The store believes etcd takes 10 MiB; etcd itself refuses over 1.5 MiB.
	s, err := etcd3.New(etcd3.Config{
		Client: srv.Client(t), Codec: c, Prefix: "/big",
		NewFunc: func() runtime.Object { return &corev1.Pod{} }, NewListFunc: func() runtime.Object { return &corev1.PodList{} },
		ResourcePrefix: "/pods", MaxRequestBytes: 10 << 20, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1800 << 10, 3 << 20} { // over etcd's limit; over gRPC's too
		big := pod("ns", "big", nil)
		big.Annotations = map[string]string{"blob": strings.Repeat("x", size)}
		err = s.Create(ctx, key("ns", "big"), big, nil, 0)
		if !apierrors.IsRequestEntityTooLargeError(err) || !strings.Contains(err.Error(), `"/big/pods/ns/big"`) {
			t.Fatalf("%d bytes: got %v, want 413 naming the key", size, err)
		}
	}
}

func TestTTLObjectsCreatedTogetherShareALease(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	for _, name := range []string{"e1", "e2", "e3"} {
		if err := f.store.Create(ctx, key("ns", name), pod("ns", name, nil), nil, 3600); err != nil {
			t.Fatal(err)
		}
	}
	// An object with a very different TTL cannot share that lease.
	if err := f.store.Create(ctx, key("ns", "short"), pod("ns", "short", nil), nil, 5); err != nil {
		t.Fatal(err)
	}
	leases := map[string]int64{}
	resp, err := f.client.Get(ctx, f.prefix+"/pods/ns/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		leases[string(kv.Key)[len(f.prefix+"/pods/ns/"):]] = kv.Lease
	}
	if leases["e1"] == 0 || leases["e1"] != leases["e2"] || leases["e2"] != leases["e3"] {
		t.Errorf("objects created together have leases %v, want one shared lease", leases)
	}
	if leases["short"] == 0 || leases["short"] == leases["e1"] {
		t.Errorf("the 5s object has lease %d, want its own", leases["short"])
	}
	ttl, err := f.client.TimeToLive(ctx, clientv3.LeaseID(leases["e1"]))
	if err != nil {
		t.Fatal(err)
	}
	// ttl + min(5% of ttl, 60s) = 3600 + 60.
	if ttl.GrantedTTL != 3660 {
		t.Errorf("granted TTL %d, want 3660", ttl.GrantedTTL)
	}
}

// An unpaged list of many objects is decoded on several cores; what it
// returns is what the in-order decode returns: the selected objects in key
// order, and a corrupt value reported by key.
func TestLargeListDecodedInParallel(t *testing.T) {
	ctx := context.Background()
	f := newStore(t, "")
	const n = 900
	for i := range n {
		name := fmt.Sprintf("p%04d", i)
		if _, err := f.client.Put(ctx, f.prefix+"/pods/big/"+name, string(encodePod(t, pod("big", name, map[string]string{"keep": fmt.Sprint(i%3 == 0)})))); err != nil {
			t.Fatal(err)
		}
	}
	list := &corev1.PodList{}
	pred := storage.SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"keep": "true"}), GetAttrs: storage.DefaultNamespaceScopedAttr}
	if err := f.store.GetList(ctx, "/pods/big", storage.ListOptions{Recursive: true, Predicate: pred}, list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != n/3 {
		t.Fatalf("%d items, want %d", len(list.Items), n/3)
	}
	for i, p := range list.Items {
		if want := fmt.Sprintf("p%04d", 3*i); p.Name != want || p.Labels["keep"] != "true" || p.ResourceVersion == "" {
			t.Fatalf("item %d is %s (labels %v, rv %q), want %s", i, p.Name, p.Labels, p.ResourceVersion, want)
		}
	}
	if _, err := f.client.Put(ctx, f.prefix+"/pods/big/p0450", "k8s\x00garbage"); err != nil {
		t.Fatal(err)
	}
	err := f.store.GetList(ctx, "/pods/big", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, &corev1.PodList{})
	if !storage.IsInternalError(err) || !strings.Contains(err.Error(), f.prefix+"/pods/big/p0450") {
		t.Fatalf("list with a corrupt value: %v", err)
	}
}

func encodePod(t *testing.T, p *corev1.Pod) []byte {
	t.Helper()
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	data, err := runtime.Encode(c, p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// With AggregateCorruptErrors, a large list (decoded in parallel) returns
// every readable object and names each corrupt one, in key order.
func TestLargeListAggregatesCorruptObjects(t *testing.T) {
	ctx := context.Background()
	c, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	client := srv.Client(t)
	s, err := etcd3.New(etcd3.Config{Client: client, Codec: c, Prefix: "/agg", ResourcePrefix: "/pods",
		NewFunc: func() runtime.Object { return &corev1.Pod{} }, NewListFunc: func() runtime.Object { return &corev1.PodList{} },
		GroupResource: schema.GroupResource{Resource: "pods"}, AggregateCorruptErrors: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	for i := range n {
		name := fmt.Sprintf("p%04d", i)
		val := string(encodePod(t, pod("ns", name, nil)))
		if i == 100 || i == 300 {
			val = "k8s\x00garbage"
		}
		if _, err := client.Put(ctx, "/agg/pods/ns/"+name, val); err != nil {
			t.Fatal(err)
		}
	}
	list := &corev1.PodList{}
	err = s.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, list)
	st, ok := err.(apierrors.APIStatus)
	if !ok || st.Status().Reason != metav1.StatusReasonStoreReadError {
		t.Fatalf("got %v, want a StoreReadError", err)
	}
	causes := st.Status().Details.Causes
	if len(causes) != 2 || causes[0].Field != "/agg/pods/ns/p0100" || causes[1].Field != "/agg/pods/ns/p0300" {
		t.Fatalf("causes %+v", causes)
	}
	if len(list.Items) != n-2 || list.Items[100].Name != "p0101" || list.Items[n-3].Name != "p0399" {
		t.Fatalf("%d items", len(list.Items))
	}
}
