package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

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
	client := shared.Client(t)
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
		start := time.Now()
		seen := make(map[string]int, count)
		opts := metav1.ListOptions{Limit: limit}
		pages := 0
		var listRV string
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			page, err := cms.List(ctx, opts)
			cancel()
			if err != nil {
				close(stopNoise)
				noiseWG.Wait()
				t.Fatalf("round %d, page %d (continue %q): %v", round, pages+1, opts.Continue, err)
			}
			pages++
			if listRV == "" {
				listRV = page.ResourceVersion
			} else if page.ResourceVersion != listRV {
				t.Errorf("round %d, page %d: resourceVersion %s, the first page's is %s", round, pages, page.ResourceVersion, listRV)
			}
			if len(page.Items) > limit {
				t.Errorf("round %d, page %d: %d items, limit %d", round, pages, len(page.Items), limit)
			}
			for i := range page.Items {
				seen[page.Items[i].Name]++
			}
			if page.Continue == "" {
				break
			}
			opts.Continue = page.Continue
		}
		close(stopNoise)
		noiseWG.Wait()
		t.Logf("round %d: %d pages in %v", round, pages, time.Since(start).Round(time.Millisecond))

		if len(seen) != count {
			t.Errorf("round %d: %d configmaps listed, want %d", round, len(seen), count)
		}
		for name, n := range seen {
			if n != 1 {
				t.Errorf("round %d: %s listed %d times", round, name, n)
			}
		}
		if wantPages := (count + limit - 1) / limit; pages != wantPages {
			t.Errorf("round %d: %d pages, want %d", round, pages, wantPages)
		}
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
