package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

// Follow over a store served by a watch cache, as the controllers use it:
// an open that fails and a watch that ends with an Error event (a
// resourceVersion older than the cache holds: 410 Gone) are each followed
// by another open, retry later, handle seeing the end of the watch as an
// Error event with no object; the next watch's events reach handle
// unwrapped from the cache's cacheable objects; Follow returns once ctx
// ends.
func TestFollow(t *testing.T) {
	client := shared.Client(t)
	prefix := "/" + t.Name()
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/", clientv3.WithPrefix()) })
	factory, caches := server.CachedStorage(server.EtcdStorage(server.EtcdConfig{Client: client, Prefix: prefix}),
		server.CacheConfig{Cached: func(gr schema.GroupResource) bool { return gr.Resource == "configmaps" }})
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: factory})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Revisions before the caches list: a watch from revision 1 is older
	// than the cache's history, 410 Gone.
	for range 2 {
		if _, err := client.Put(ctx, prefix+"/unrelated", ""); err != nil {
			t.Fatal(err)
		}
	}
	cachesDone := make(chan struct{})
	go func() { defer close(cachesDone); _ = caches.Run(ctx) }()
	defer func() { cancel(); <-cachesDone }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var pending []schema.GroupResource
		for _, gr := range caches.Resources() {
			if caches.Ready(gr) != nil {
				pending = append(pending, gr)
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("caches not ready: %v", pending)
		}
	}
	cms, _ := reg.Lookup(corev1.SchemeGroupVersion.WithResource("configmaps"))
	if _, err := reg.Namespaces().Create(ctx, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}}, registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create(t, cms, configMap("a", nil))

	const retry = 200 * time.Millisecond
	var opens []time.Time // Follow's goroutine only, read after it returns
	open := func(ctx context.Context) (watch.Interface, error) {
		opens = append(opens, time.Now())
		switch len(opens) {
		case 1:
			return nil, errors.New("refused")
		case 2:
			return cms.Watch(ctx, testNS, &metainternalversion.ListOptions{ResourceVersion: "1"})
		}
		return cms.Watching(testNS, &metainternalversion.ListOptions{})(ctx)
	}
	events := make(chan string, 100)
	followCtx, stop := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		registry.Follow(followCtx, retry, open, func(typ watch.EventType, obj runtime.Object) {
			switch o := obj.(type) {
			case nil:
				events <- string(typ)
			case *corev1.ConfigMap:
				events <- fmt.Sprintf("%s %s", typ, o.Name)
			default:
				events <- fmt.Sprintf("%s %T", typ, obj)
			}
		})
	}()
	defer func() { stop(); <-followed }()

	next := func(want string) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("event %q, want %q", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no event, want %q", want)
		}
	}
	next("ERROR")   // the end of the second watch: 410 Gone
	next("ADDED a") // the third watch starts from the current state
	create(t, cms, configMap("b", nil))
	next("ADDED b")
	update[*corev1.ConfigMap](t, cms, "b", edit(func(cm *corev1.ConfigMap) { cm.Data = map[string]string{"k": "v"} }), registry.UpdateOptions{})
	next("MODIFIED b")
	if _, _, err := cms.Delete(ctx, testNS, "b", registry.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	next("DELETED b")

	stop()
	select {
	case <-followed:
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return after ctx ended")
	}
	if len(opens) != 3 {
		t.Fatalf("%d opens, want 3", len(opens))
	}
	for i := 1; i < len(opens); i++ {
		if d := opens[i].Sub(opens[i-1]); d < retry {
			t.Errorf("open %d came %v after the previous one, want at least %v", i+1, d, retry)
		}
	}
	select {
	case e := <-events:
		t.Errorf("event %q after the last change, or at ctx's end", e)
	default:
	}
}
