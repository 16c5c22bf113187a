package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/regis-dev/regis/internal/codec"
)

// Issue 8, defect 5: right after a restart, a paged list's first page came
// from etcd (its continue token carries etcd's revision) and the next page
// waited for a watch cache that had not seen that revision yet, then
// failed with 504 "Too large resource version". A continue token's
// revision always exists in etcd: every page must be served.
func TestContinueRestart(t *testing.T) {
	const (
		count = 3000
		limit = 500
	)
	// etcd's default progress notification interval, as in production:
	// the package's etcd sends one every second (a variable of etcd's,
	// read as each watch stream starts; the tests of this package run one
	// at a time). The package's etcd sets it as its gRPC server is made:
	// it has answered a request before the test sets it.
	client := shared.Client(t)
	if _, err := client.Get(t.Context(), "/"); err != nil {
		t.Fatal(err)
	}
	interval := v3rpc.GetProgressReportInterval()
	v3rpc.SetProgressReportInterval(10 * time.Minute)
	t.Cleanup(func() { v3rpc.SetProgressReportInterval(interval) })
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_") // the prefix startServer uses
	// Registered first, so it runs after the servers have stopped.
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/", clientv3.WithPrefix()) })
	putConfigMaps(t, client, prefix, count)

	// Writes elsewhere in etcd, as other resources and other servers make
	// them: etcd's revision moves past what a configmaps cache has seen,
	// which it only learns through etcd's progress notifications.
	noise := prefix + "-noise"
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), noise) })

	for round := range 4 {
		// Before the new server starts and while it starts: its caches list
		// etcd at different revisions.
		if _, err := client.Put(t.Context(), noise, fmt.Sprint(round)); err != nil {
			t.Fatal(err)
		}
		stopNoise := make(chan struct{})
		var noiseWG sync.WaitGroup
		noiseWG.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopNoise:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if i%5 == 4 { // some quiet spells as well
					continue
				}
				_, _ = client.Put(context.Background(), noise, fmt.Sprint(i))
			}
		})

		// A fresh server over the same data: its caches start empty, as
		// after a restart. List at once, without waiting for readiness.
		s := startServer(t)
		cms := s.clientset(t).CoreV1().ConfigMaps("default")
		pageThrough(t, fmt.Sprintf("round %d, at once", round), cms, count, limit, 0)
		close(stopNoise)
		noiseWG.Wait()

		// Once the configmaps cache is ready: a write elsewhere moves etcd
		// past it, and a client's watch of events (served by etcd, on the
		// server's etcd client) opens at etcd's next revision. etcd answers
		// no progress request of a watch stream with such a watch on it, so
		// a cache sharing that stream could not learn of the revision (on
		// a quiet cluster, for 10 minutes). Every page must be served,
		// none after waiting out the cache's 3 s.
		waitCacheReady(t, s, "configmaps")
		put, err := client.Put(t.Context(), noise, "quiet")
		if err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithCancel(t.Context())
		w, err := s.clientset(t).CoreV1().Events("default").Watch(wctx, metav1.ListOptions{ResourceVersion: fmt.Sprint(put.Header.Revision)})
		if err != nil {
			wcancel()
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // for etcd to open it
		pageThrough(t, fmt.Sprintf("round %d, etcd ahead", round), cms, count, limit, 2*time.Second)
		w.Stop()
		wcancel()
	}
}

// pageThrough lists the configmaps limit at a time, following every
// continue token at once, and checks that every page is served, at the
// first page's revision, and that each of the count configmaps is listed
// once. A positive slow fails a page that took longer.
func pageThrough(t *testing.T, what string, cms typedcorev1.ConfigMapInterface, count, limit int, slow time.Duration) {
	t.Helper()
	start := time.Now()
	seen := make(map[string]int, count)
	opts := metav1.ListOptions{Limit: int64(limit)}
	pages := 0
	var listRV string
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		pageStart := time.Now()
		page, err := cms.List(ctx, opts)
		cancel()
		if err != nil {
			t.Fatalf("%s, page %d (continue %q): %v", what, pages+1, opts.Continue, err)
		}
		pages++
		if d := time.Since(pageStart); slow > 0 && d > slow {
			t.Errorf("%s, page %d took %v", what, pages, d)
		}
		if listRV == "" {
			listRV = page.ResourceVersion
		} else if page.ResourceVersion != listRV {
			t.Errorf("%s, page %d: resourceVersion %s, the first page's is %s", what, pages, page.ResourceVersion, listRV)
		}
		if len(page.Items) > limit {
			t.Errorf("%s, page %d: %d items, limit %d", what, pages, len(page.Items), limit)
		}
		for i := range page.Items {
			seen[page.Items[i].Name]++
		}
		if page.Continue == "" {
			break
		}
		opts.Continue = page.Continue
	}
	t.Logf("%s: %d pages in %v", what, pages, time.Since(start).Round(time.Millisecond))
	if len(seen) != count {
		t.Errorf("%s: %d configmaps listed, want %d", what, len(seen), count)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s: %s listed %d times", what, name, n)
		}
	}
	if wantPages := (count + limit - 1) / limit; pages != wantPages {
		t.Errorf("%s: %d pages, want %d", what, pages, wantPages)
	}
}

// waitCacheReady waits for the server's cache of a core resource to have
// listed it.
func waitCacheReady(t *testing.T, s *testServer, resource string) {
	t.Helper()
	st, ok := s.reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: resource})
	if !ok {
		t.Fatalf("no %s", resource)
	}
	deadline := time.Now().Add(30 * time.Second)
	for st.Storage().ReadinessCheck() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the %s cache is not ready", resource)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// putConfigMaps writes n configmaps in namespace default straight into
// etcd, encoded as the server stores them, many to a transaction.
func putConfigMaps(t *testing.T, client *clientv3.Client, prefix string, n int) {
	t.Helper()
	cdc, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	created := metav1.NewTime(time.Now().Truncate(time.Second))
	const batch = 100
	var ops []clientv3.Op
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := client.Txn(t.Context()).Then(ops...).Commit(); err != nil {
			t.Fatalf("etcd txn: %v", err)
		}
		ops = ops[:0]
	}
	for i := range n {
		name := fmt.Sprintf("cm-%05d", i)
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceDefault,
				UID: types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)), CreationTimestamp: created},
			Data: map[string]string{"index": fmt.Sprint(i)},
		}
		data, err := runtime.Encode(cdc, cm)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, clientv3.OpPut(prefix+"/configmaps/default/"+name, string(data)))
		if len(ops) == batch {
			flush()
		}
	}
	flush()
}
