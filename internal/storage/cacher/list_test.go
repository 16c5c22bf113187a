package cacher_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// summary is what a list says: its revision and each item's name and revision.
func summary(t *testing.T, l *corev1.PodList) string {
	t.Helper()
	s := l.ResourceVersion + ":"
	for i := range l.Items {
		s += " " + l.Items[i].Name + "@" + l.Items[i].ResourceVersion
	}
	return s
}

func TestConsistentListFromCacheEqualsEtcd(t *testing.T) {
	counter := &countingStore{}
	f := newFixture(t, withStore(counter.wrap))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			ctx := context.Background()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i%20)
				key := podKey("ns", name)
				if i%40 >= 20 {
					_ = f.cacher.Delete(ctx, key, &corev1.Pod{}, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{})
					continue
				}
				_ = f.cacher.Create(ctx, key, newPod("ns", name, "node-1"), &corev1.Pod{}, 0)
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	const lists = 30
	before := counter.lists.Load()
	for range lists {
		fromCache := &corev1.PodList{}
		if err := f.cacher.GetList(context.Background(), "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, fromCache); err != nil {
			t.Fatal(err)
		}
		fromEtcd := f.listEtcd(t, fromCache.ResourceVersion)
		if got, want := summary(t, fromCache), summary(t, fromEtcd); got != want {
			t.Fatalf("consistent list from the cache:\n%s\netcd at the same revision:\n%s", got, want)
		}
		// And it was consistent: nothing newer than the list existed
		// when it was asked for (etcd's revision may have moved since).
		time.Sleep(10 * time.Millisecond)
	}
	if n := counter.lists.Load() - before; n > lists/10 {
		t.Errorf("%d of %d consistent lists went to etcd", n, lists)
	}
}

func TestListsFromCache(t *testing.T) {
	// The cache below lists after RV 1, which it therefore cannot serve.
	if _, err := srv.Client(t).Put(context.Background(), "/before-the-cache", "x"); err != nil {
		t.Fatal(err)
	}
	counter := &countingStore{}
	f := newFixture(t, withStore(counter.wrap))
	var rvs []string
	for i := range 6 {
		p := f.create(t, newPod(fmt.Sprintf("ns-%d", i%2), fmt.Sprintf("p-%d", i), fmt.Sprintf("node-%d", i%3)))
		rvs = append(rvs, p.ResourceVersion)
	}
	f.delete(t, "ns-0", "p-0")
	ctx := context.Background()
	list := func(t *testing.T, key string, opts storage.ListOptions) *corev1.PodList {
		t.Helper()
		opts.Recursive = true
		if opts.Predicate.Label == nil {
			opts.Predicate.Label, opts.Predicate.Field = storage.Everything.Label, storage.Everything.Field
		}
		l := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, key, opts, l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	names := func(l *corev1.PodList) string {
		s := ""
		for _, p := range l.Items {
			s += p.Name + " "
		}
		return s
	}
	before := counter.lists.Load()

	t.Run("exact revision from a snapshot", func(t *testing.T) {
		l := list(t, "/pods", storage.ListOptions{ResourceVersion: rvs[2], ResourceVersionMatch: metav1.ResourceVersionMatchExact})
		if got := names(l); got != "p-0 p-2 p-1 " || l.ResourceVersion != rvs[2] {
			t.Fatalf("got %q at %s", got, l.ResourceVersion)
		}
	})
	t.Run("pages", func(t *testing.T) {
		opts := storage.ListOptions{}
		opts.Predicate.Limit = 2
		var all string
		for page := 0; ; page++ {
			l := list(t, "/pods", opts)
			all += names(l)
			if l.Continue == "" {
				break
			}
			if page == 0 && (l.RemainingItemCount == nil || *l.RemainingItemCount != 3) {
				t.Fatalf("remaining item count %v, want 3", l.RemainingItemCount)
			}
			opts = storage.ListOptions{}
			opts.Predicate.Limit, opts.Predicate.Continue = 2, l.Continue
		}
		if all != "p-2 p-4 p-1 p-3 p-5 " {
			t.Fatalf("pages: %q", all)
		}
	})
	t.Run("namespace, RV 0", func(t *testing.T) {
		if got := names(list(t, "/pods/ns-1", storage.ListOptions{ResourceVersion: "0"})); got != "p-1 p-3 p-5 " {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("index on spec.nodeName", func(t *testing.T) {
		opts := storage.ListOptions{ResourceVersion: "0"}
		opts.Predicate.Label = storage.Everything.Label
		opts.Predicate.Field = fields.OneTermEqualSelector("spec.nodeName", "node-1")
		if got := names(list(t, "/pods", opts)); got != "p-4 p-1 " {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("namespace and name from the key", func(t *testing.T) {
		sel := func(s string) storage.ListOptions {
			opts := storage.ListOptions{}
			opts.Predicate.Label = storage.Everything.Label
			opts.Predicate.Field = fields.ParseSelectorOrDie(s)
			return opts
		}
		for s, want := range map[string]string{
			"metadata.namespace=ns-1":                      "p-1 p-3 p-5 ",
			"metadata.namespace=ns-1,metadata.name=p-3":    "p-3 ",
			"metadata.namespace=ns-1,metadata.name=p-2":    "",
			"metadata.namespace=nope":                      "",
			"metadata.name=p-4":                            "p-4 ",
			"metadata.namespace=ns-1,spec.nodeName=node-0": "p-3 ",
		} {
			if got := names(list(t, "/pods", sel(s))); got != want {
				t.Errorf("%s: got %q, want %q", s, got, want)
			}
		}
		if got := names(list(t, "/pods/ns-0", sel("metadata.namespace=ns-1"))); got != "" {
			t.Errorf("namespace ns-0 with selector ns-1: got %q", got)
		}
		opts := sel("metadata.namespace=ns-1")
		opts.Predicate.Limit = 2
		first := list(t, "/pods", opts)
		opts.Predicate.Continue = first.Continue
		if got := names(first) + "| " + names(list(t, "/pods", opts)); got != "p-1 p-3 | p-5 " {
			t.Errorf("pages: %q", got)
		}
	})
	t.Run("label selector", func(t *testing.T) {
		f.update(t, "ns-1", "p-3", func(p *corev1.Pod) { p.Labels["tier"] = "gold" })
		opts := storage.ListOptions{}
		opts.Predicate.Label = mustSelector(t, "tier=gold")
		opts.Predicate.Field = storage.Everything.Field
		if got := names(list(t, "/pods", opts)); got != "p-3 " {
			t.Fatalf("got %q", got)
		}
	})
	if n := counter.lists.Load() - before; n != 0 {
		t.Errorf("%d lists went to etcd, want none", n)
	}
	t.Run("exact revision older than the cache goes to etcd", func(t *testing.T) {
		// Etcd may have compacted it (410) or not: either way it answers.
		opts := storage.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchExact, Recursive: true, Predicate: storage.Everything}
		if err := f.cacher.GetList(ctx, "/pods", opts, &corev1.PodList{}); err != nil && !apierrors.IsResourceExpired(err) {
			t.Fatal(err)
		}
		if counter.lists.Load() == before {
			t.Fatal("the list did not go to etcd")
		}
	})
}

func TestGetFromCache(t *testing.T) {
	counter := &countingStore{}
	f := newFixture(t, withStore(counter.wrap))
	p := f.create(t, newPod("ns", "g", "node-1"))
	ctx := context.Background()
	out := &corev1.Pod{}
	if err := f.cacher.Get(ctx, podKey("ns", "g"), storage.GetOptions{ResourceVersion: p.ResourceVersion}, out); err != nil {
		t.Fatal(err)
	}
	if out.ResourceVersion != p.ResourceVersion || counter.gets.Load() != 0 {
		t.Fatalf("got rv %s (etcd gets %d), want %s from the cache", out.ResourceVersion, counter.gets.Load(), p.ResourceVersion)
	}
	out.Labels["mutated"] = "yes" // the caller owns its copy
	again := &corev1.Pod{}
	if err := f.cacher.Get(ctx, podKey("ns", "g"), storage.GetOptions{ResourceVersion: "0"}, again); err != nil || again.Labels["mutated"] != "" {
		t.Fatalf("the cache's object changed through a Get result: %v %v", again.Labels, err)
	}
	if err := f.cacher.Get(ctx, podKey("ns", "missing"), storage.GetOptions{ResourceVersion: "0"}, out); !storage.IsNotFound(err) {
		t.Fatalf("missing: %v", err)
	}
	// Too far in the future: upstream's 504 after 3 s, retry after 1 s.
	err := f.cacher.Get(ctx, podKey("ns", "g"), storage.GetOptions{ResourceVersion: strconv.FormatUint(f.currentRV(t)+1000, 10)}, out)
	if !storage.IsTooLargeResourceVersion(err) {
		t.Fatalf("future rv: %v", err)
	}
	// RV "": etcd.
	if err := f.cacher.Get(ctx, podKey("ns", "g"), storage.GetOptions{}, out); err != nil || counter.gets.Load() != 1 {
		t.Fatalf("consistent get: %v, etcd gets %d", err, counter.gets.Load())
	}
}

func TestNotReadyReadsGoToEtcdWatchesWait(t *testing.T) {
	blocker := &blockingStore{}
	f := newFixture(t, withStore(blocker.wrap), noWait)
	ctx := context.Background()
	if err := f.cacher.ReadinessCheck(); err == nil {
		t.Fatal("ready before the first list")
	}
	p := f.create(t, newPod("ns", "r", "node-1"))
	l := &corev1.PodList{}
	if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything}, l); err != nil || len(l.Items) != 1 {
		t.Fatalf("list while not ready: %v, %d items", err, len(l.Items))
	}
	if err := f.cacher.Get(ctx, podKey("ns", "r"), storage.GetOptions{ResourceVersion: "0"}, &corev1.Pod{}); err != nil {
		t.Fatalf("get while not ready: %v", err)
	}
	watched := make(chan watch.Interface, 1)
	go func() {
		w, err := f.cacher.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: p.ResourceVersion, Recursive: true, Predicate: storage.Everything})
		if err != nil {
			t.Error(err)
		}
		watched <- w
	}()
	select {
	case <-watched:
		t.Fatal("watch did not wait for the cache")
	case <-time.After(200 * time.Millisecond):
	}
	close(blocker.release)
	w := <-watched
	defer w.Stop()
	if err := f.cacher.ReadinessCheck(); err != nil {
		t.Fatalf("not ready after the list: %v", err)
	}
	f.create(t, newPod("ns", "r2", "node-1"))
	if got := collect(t, w, 1, 5*time.Second); got[0].name != "r2" {
		t.Fatalf("got %v", got)
	}
}

func TestMemoryBudgetSendsListsToEtcd(t *testing.T) {
	counter := &countingStore{}
	budget := cacher.NewBudget(0)
	metrics := cacher.NewMetrics()
	f := newFixture(t, withStore(counter.wrap), withConfig(func(c *cacher.Config) {
		c.MaxBytes = 1000
		c.Budget = budget
		c.GroupResource.Group = "budget.test"
		c.Metrics = metrics
	}))
	over := func() float64 {
		return metricValue(t, metrics, "apiserver_watch_cache_over_memory_budget", map[string]string{"group": "budget.test", "resource": "pods"})
	}
	ctx := context.Background()
	list := func() {
		t.Helper()
		if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything}, &corev1.PodList{}); err != nil {
			t.Fatal(err)
		}
	}
	base := counter.lists.Load() // the cacher's own list
	f.create(t, newPod("ns", "m0", "node-1"))
	list()
	if n := counter.lists.Load() - base; n != 0 || over() != 0 {
		t.Fatalf("under budget: %d lists to etcd, metric %v", n, over())
	}
	r := startReader(watchFrom(t, f, listRV(t, f)))
	var want []write
	for i := 1; i < 20; i++ {
		p := f.create(t, newPod("ns", fmt.Sprintf("m%d", i), "node-1"))
		want = append(want, write{watch.Added, p.Name, objRV(t, p)})
	}
	// The watch is served, over budget; once it has everything the cache
	// has applied it.
	if err := r.waitFor(want, 10*time.Second); err != nil {
		t.Fatalf("watch over budget: %v", err)
	}
	if budget.Used() <= 1000 {
		t.Fatalf("budget counts %d bytes for 20 pods", budget.Used())
	}
	list()
	if n := counter.lists.Load() - base; n != 1 || over() != 1 {
		t.Fatalf("over budget: %d lists to etcd (want 1), metric %v", n, over())
	}
	for i := range 20 {
		f.delete(t, "ns", fmt.Sprintf("m%d", i))
	}
	for deadline := time.Now().Add(10 * time.Second); budget.Used() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("empty cache, budget counts %d bytes", budget.Used())
		}
	}
	list()
	if n := counter.lists.Load() - base; n != 1 || over() != 0 {
		t.Fatalf("back under budget: %d lists to etcd (want 1), metric %v", n, over())
	}
}

func TestRunStopsEverything(t *testing.T) {
	before := etcdtest.SnapshotGoroutines()
	t.Run("cacher", func(t *testing.T) {
		f := newFixture(t)
		f.create(t, newPod("ns", "x", "node-1"))
		rv := listRV(t, f)
		w1 := watchFrom(t, f, rv)
		send := true
		opts := storage.ListOptions{Recursive: true, SendInitialEvents: &send, Predicate: storage.Everything}
		opts.Predicate.AllowWatchBookmarks = true
		w2, err := f.cacher.Watch(context.Background(), "/pods", opts)
		if err != nil {
			t.Fatal(err)
		}
		f.stop()
		for _, w := range []watch.Interface{w1, w2} {
			for range w.ResultChan() {
			}
		}
		if w, err := f.cacher.Watch(context.Background(), "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}); err == nil {
			t.Fatalf("watch after stop: %v", w)
		}
	})
	etcdtest.CheckNoGoroutinesLeft(t, before)
}

func mustSelector(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// metricValue reads one series of a cacher's metrics (0 when absent).
func metricValue(t *testing.T, m *cacher.Metrics, name string, want map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	for _, c := range m.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue series
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
