package cacher_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/codec"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// Issue 8, defect 5: a cache that has not heard of a revision etcd has
// (just after a restart, the first page of a list came from etcd) must not
// answer 504 "Too large resource version" for it: once its wait for the
// revision is over, etcd serves the read.
func TestReadsAtRevisionsNewerThanTheCache(t *testing.T) {
	counter := &countingStore{}
	held := &killableStore{}
	var release func()
	f := newFixture(t, withStore(counter.wrap), withStore(func(s storage.Interface) storage.Interface {
		// The cache lists, becomes ready and hears of nothing more: its
		// etcd watch is held back.
		w := held.wrap(s)
		release = sync.OnceFunc(held.hold())
		return w
	}), withConfig(func(c *cacher.Config) { cacher.SetFreshTimeout(c, 200*time.Millisecond) }))
	t.Cleanup(func() { release() })
	ctx := context.Background()

	// Written behind the cache's back.
	for i := range 7 {
		p := newPod("ns", fmt.Sprintf("p-%d", i), "node-1")
		if err := f.store.Create(ctx, podKey(p.Namespace, p.Name), p, &corev1.Pod{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	rv := f.currentRV(t)
	atRV := f.listEtcd(t, strconv.FormatUint(rv, 10))

	names := func(l *corev1.PodList) string {
		s := ""
		for i := range l.Items {
			s += l.Items[i].Name + "@" + l.Items[i].ResourceVersion + " "
		}
		return s
	}
	page := func(t *testing.T, opts storage.ListOptions) *corev1.PodList {
		t.Helper()
		opts.Recursive = true
		opts.Predicate.Label, opts.Predicate.Field = storage.Everything.Label, storage.Everything.Field
		l := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, "/pods", opts, l); err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		return l
	}

	// The first page: a consistent read the cache cannot serve in time,
	// served by etcd at its current revision, as upstream does.
	first := page(t, storage.ListOptions{Predicate: storage.SelectionPredicate{Limit: 3}})
	if first.ResourceVersion != strconv.FormatUint(rv, 10) || first.Continue == "" || len(first.Items) != 3 {
		t.Fatalf("first page: rv %s (want %d), continue %q, %d items", first.ResourceVersion, rv, first.Continue, len(first.Items))
	}
	// A write after the first page: the next pages are still at rv.
	f.create(t, newPod("ns", "p-later", "node-1"))

	// The continue page, at a revision the cache has not seen: etcd
	// serves it, with the right items and a token that works.
	before := counter.lists.Load()
	second := page(t, storage.ListOptions{Predicate: storage.SelectionPredicate{Limit: 3, Continue: first.Continue}})
	if second.ResourceVersion != first.ResourceVersion || second.Continue == "" || len(second.Items) != 3 {
		t.Fatalf("second page: rv %s, continue %q, %d items", second.ResourceVersion, second.Continue, len(second.Items))
	}
	// The streaming path answers alike.
	objs, err := f.cacher.ListObjects(ctx, "/pods", storage.ListOptions{Recursive: true,
		Predicate: storage.SelectionPredicate{Label: storage.Everything.Label, Field: storage.Everything.Field, Limit: 3, Continue: first.Continue}})
	if err != nil {
		t.Fatalf("ListObjects, continue page: %v", err)
	}
	if objs.Continue != second.Continue || strconv.FormatUint(objs.ResourceVersion, 10) != second.ResourceVersion || len(objs.Items) != len(second.Items) {
		t.Fatalf("ListObjects: rv %d, continue %q, %d items; GetList: rv %s, continue %q, %d items",
			objs.ResourceVersion, objs.Continue, len(objs.Items), second.ResourceVersion, second.Continue, len(second.Items))
	}
	third := page(t, storage.ListOptions{Predicate: storage.SelectionPredicate{Limit: 3, Continue: second.Continue}})
	if third.ResourceVersion != first.ResourceVersion || third.Continue != "" {
		t.Fatalf("third page: rv %s, continue %q", third.ResourceVersion, third.Continue)
	}
	if n := counter.lists.Load() - before; n != 3 {
		t.Errorf("%d continue pages reached etcd, want 3", n)
	}
	all := &corev1.PodList{Items: append(append(first.Items, second.Items...), third.Items...)}
	if got, want := names(all), names(atRV); got != want {
		t.Fatalf("pages:\n%s\netcd at %d:\n%s", got, rv, want)
	}

	// Other reads at a revision etcd has and the cache has not seen.
	now := f.currentRV(t)
	nowStr := strconv.FormatUint(now, 10)
	got := &corev1.Pod{}
	if err := f.cacher.Get(ctx, podKey("ns", "p-later"), storage.GetOptions{ResourceVersion: nowStr}, got); err != nil || got.Name != "p-later" {
		t.Fatalf("get at %d: %v", now, err)
	}
	l := page(t, storage.ListOptions{ResourceVersion: nowStr, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if len(l.Items) != 8 {
		t.Fatalf("not older than %d: %d items (%s)", now, len(l.Items), names(l))
	}
	l = page(t, storage.ListOptions{ResourceVersion: strconv.FormatUint(rv, 10), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if got, want := names(l), names(atRV); got != want || l.ResourceVersion != strconv.FormatUint(rv, 10) {
		t.Fatalf("exact %d: rv %s\n%s\nwant\n%s", rv, l.ResourceVersion, got, want)
	}
	l = page(t, storage.ListOptions{ResourceVersion: strconv.FormatUint(rv, 10), Predicate: storage.SelectionPredicate{Limit: 100}})
	if got, want := names(l), names(atRV); got != want {
		t.Fatalf("legacy exact %d with a limit:\n%s\nwant\n%s", rv, got, want)
	}

	// A revision etcd does not have is still upstream's 504.
	future := strconv.FormatUint(now+1000, 10)
	if err := f.cacher.Get(ctx, podKey("ns", "p-later"), storage.GetOptions{ResourceVersion: future}, got); !storage.IsTooLargeResourceVersion(err) {
		t.Errorf("get at a future revision: %v", err)
	}
	for _, match := range []metav1.ResourceVersionMatch{"", metav1.ResourceVersionMatchNotOlderThan, metav1.ResourceVersionMatchExact} {
		err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: future, ResourceVersionMatch: match, Recursive: true, Predicate: storage.Everything}, &corev1.PodList{})
		if !storage.IsTooLargeResourceVersion(err) {
			t.Errorf("list at a future revision, match %q: %v", match, err)
		}
	}
	futureToken, err := storage.EncodeContinue("/pods/ns/p-3", "/pods/", int64(now+1000))
	if err != nil {
		t.Fatal(err)
	}
	err = f.cacher.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{
		Label: storage.Everything.Label, Field: storage.Everything.Field, Limit: 3, Continue: futureToken}}, &corev1.PodList{})
	if !storage.IsTooLargeResourceVersion(err) {
		t.Errorf("continue at a future revision: %v", err)
	}

	// Once the cache has caught up, it serves the same pages itself.
	release()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything}, l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache did not catch up: %s", names(l))
		}
		time.Sleep(20 * time.Millisecond)
	}
	before = counter.lists.Load()
	again := page(t, storage.ListOptions{Predicate: storage.SelectionPredicate{Limit: 3, Continue: first.Continue}})
	// (A token of the cache's names its key with a leading "/", one of
	// etcd's without, as upstream's; both decode alike.)
	if names(again) != names(second) || decodeToken(t, again.Continue) != decodeToken(t, second.Continue) || again.ResourceVersion != second.ResourceVersion {
		t.Fatalf("continue page from the cache: rv %s, continue %q\n%s\nwant rv %s, continue %q\n%s",
			again.ResourceVersion, again.Continue, names(again), second.ResourceVersion, second.Continue, names(second))
	}
	if n := counter.lists.Load() - before; n != 0 {
		t.Errorf("the caught-up cache sent %d continue pages to etcd", n)
	}
}

// decodeToken is what a continue token of a list of /pods says: the key
// the next page starts at and the revision.
func decodeToken(t *testing.T, token string) string {
	t.Helper()
	key, rv, err := storage.DecodeContinue(token, "/pods/")
	if err != nil {
		t.Fatalf("continue token %q: %v", token, err)
	}
	return fmt.Sprintf("%s@%d", key, rv)
}

// The cause of defect 5: etcd answers a progress request for a whole
// watch stream, and only when every watch on it has started (etcd's
// progressIfSync). A watch opened at etcd's next revision on the stream
// of the cache's watch (another cache that has just listed, a client's
// watch served by etcd) silenced the progress notifications a lagging
// cache waits for, until the next write, or etcd's periodic notification
// (10 minutes by default). Each cache has a stream of its own.
func TestProgressIsNotSilencedByOtherWatches(t *testing.T) {
	// An etcd of its own, with etcd's default progress notification
	// interval (the package's etcd sends one every second).
	client := quietEtcd(t).Client(t)
	ctx := context.Background()

	cdc, err := codec.New("", corev1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	store, err := etcd3.New(etcd3.Config{
		Client:         client,
		Codec:          cdc,
		NewFunc:        func() runtime.Object { return &corev1.Pod{} },
		NewListFunc:    func() runtime.Object { return &corev1.PodList{} },
		Prefix:         "/registry",
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	for i := range 3 {
		p := newPod("ns", fmt.Sprintf("p-%d", i), "node-1")
		if err := store.Create(ctx, podKey(p.Namespace, p.Name), p, &corev1.Pod{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	counter := &countingStore{}
	c, err := cacher.New(cacher.Config{
		Store:          counter.wrap(store),
		ResourcePrefix: "/pods",
		GroupResource:  schema.GroupResource{Resource: "pods"},
		NewFunc:        func() runtime.Object { return &corev1.Pod{} },
		NewListFunc:    func() runtime.Object { return &corev1.PodList{} },
		GetAttrs:       podAttrs,
		Codec:          cdc,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	if err := c.WaitReady(waitCtx); err != nil {
		t.Fatal(err)
	}
	// The cache has listed; wait for its watch to deliver a write.
	p := newPod("ns", "sync", "node-1")
	if err := store.Create(ctx, podKey(p.Namespace, p.Name), p, &corev1.Pod{}, 0); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		l := &corev1.PodList{}
		if err := c.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything}, l); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache did not see a write: %d items", len(l.Items))
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A write elsewhere: the cache learns of its revision only through a
	// progress notification.
	put, err := client.Put(ctx, "/registry/configmaps/ns/elsewhere", "x")
	if err != nil {
		t.Fatal(err)
	}
	rev := put.Header.Revision
	// A watch from etcd's next revision on the client's shared stream (the
	// context metadata of the etcd store's watches), as a client's watch
	// of an uncached resource opened at the current revision.
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	other := client.Watch(clientv3.WithRequireLeader(wctx), "/registry/events/", clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithCreatedNotify())
	if resp := <-other; !resp.Created {
		t.Fatalf("other watch: %+v", resp)
	}

	// A consistent list must wait for the cache to reach rev: it is served
	// from the cache, without the 3 s timeout.
	start := time.Now()
	before := counter.lists.Load()
	l := &corev1.PodList{}
	if err := c.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, l); err != nil {
		t.Fatal(err)
	}
	if n := counter.lists.Load() - before; n != 0 || l.ResourceVersion != strconv.FormatInt(rev, 10) {
		t.Fatalf("consistent list: rv %s (etcd %d), %d lists to etcd, after %v: the cache did not catch up",
			l.ResourceVersion, rev, n, time.Since(start))
	}
	t.Logf("consistent list served from the cache in %v", time.Since(start))
	// And a continue page at etcd's revision (the first page from etcd).
	first := &corev1.PodList{}
	if err := store.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{
		Label: storage.Everything.Label, Field: storage.Everything.Field, Limit: 2}}, first); err != nil {
		t.Fatal(err)
	}
	before = counter.lists.Load()
	next := &corev1.PodList{}
	if err := c.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{
		Label: storage.Everything.Label, Field: storage.Everything.Field, Limit: 2, Continue: first.Continue}}, next); err != nil {
		t.Fatal(err)
	}
	if n := counter.lists.Load() - before; n != 0 || len(next.Items) != 2 || next.Items[0].Name != "p-2" {
		t.Fatalf("continue page: %d items, %d lists to etcd", len(next.Items), n)
	}
}
