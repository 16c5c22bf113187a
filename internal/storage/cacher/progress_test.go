package cacher_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// silentStore never asks etcd for progress: etcd "does not answer".
type silentStore struct{ storage.Interface }

func (silentStore) RequestWatchProgress(context.Context) error { return nil }

// TestConsistentListWithoutProgress: without progress notifications, a
// consistent list is served by the cache when it is at etcd's current
// revision, and by etcd at once when etcd has moved on.
func TestConsistentListWithoutProgress(t *testing.T) {
	counter := &countingStore{}
	f := newFixture(t, withStore(func(s storage.Interface) storage.Interface { return counter.wrap(silentStore{s}) }),
		withConfig(func(c *cacher.Config) { cacher.SetFreshTimeout(c, 3*time.Second) }))
	cacher.GiveUpProgress(f.cacher)
	f.create(t, newPod("ns", "p1", "node-1"))
	ctx := context.Background()
	list := func() time.Duration {
		t.Helper()
		start := time.Now()
		out := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, out); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	// The cache sees its own create: at etcd's revision.
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := counter.lists.Load()
		list()
		if counter.lists.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a consistent list at etcd's revision still went to etcd")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A write elsewhere moves etcd's revision past the cache's.
	if _, err := f.client.Put(ctx, "/elsewhere/key", "x"); err != nil {
		t.Fatal(err)
	}
	before := counter.lists.Load()
	if took := list(); took > time.Second || counter.lists.Load() != before+1 {
		t.Errorf("behind etcd without progress: %v, %d lists from etcd; want one at once", took, counter.lists.Load()-before)
	}
}

// TestConsistentListUnansweredProgress, on a real etcd that does not
// answer: a cache that has just listed a quiet etcd watches from the
// revision after etcd's current one, and etcd answers no progress
// request until a write moves its revision there (progressIfSync). The
// cache gives up asking often; it still serves consistent lists while it
// is at etcd's revision, lets etcd serve them once a write elsewhere has
// moved etcd past it, and keeps asking: the first answer, within a retry
// period of the write, brings them back to the cache.
func TestConsistentListUnansweredProgress(t *testing.T) {
	quiet := quietEtcd(t)
	const retry = time.Second
	metrics := cacher.NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.Collectors()...)
	counter := &countingStore{}
	f := newFixtureOn(t, quiet, withSeed(newPod("ns", "p1", "node-1")), withStore(counter.wrap),
		withConfig(func(c *cacher.Config) {
			c.Metrics = metrics
			cacher.SetProgressProbing(c, 20*time.Millisecond, 5, retry)
		}))
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen, gaveUp := cacher.ProgressState(f.cacher)
		if seen {
			t.Fatal("etcd answered a progress request for a watch from its next revision")
		}
		if gaveUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cache never gave up asking for progress")
		}
		time.Sleep(10 * time.Millisecond)
	}
	consistentList := func() (*corev1.PodList, bool) {
		t.Helper()
		before := counter.lists.Load()
		out := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, out); err != nil {
			t.Fatal(err)
		}
		return out, counter.lists.Load() == before
	}
	fromCache := func() float64 { return consistentReads(t, reg, "true", "false") }

	// No writes: every consistent list is the cache's, at etcd's revision.
	rv := f.currentRV(t)
	served := fromCache()
	for range 5 {
		out, cached := consistentList()
		if !cached || len(out.Items) != 1 || out.ResourceVersion != fmt.Sprint(rv) {
			t.Fatalf("quiet etcd: cached %v, %d items at %s; want the cache's 1 item at %d", cached, len(out.Items), out.ResourceVersion, rv)
		}
	}
	if got := fromCache() - served; got != 5 {
		t.Errorf("consistent reads served by the cache: +%v, want +5", got)
	}
	// And so is a watch-list (client-go's informers): its initial events
	// and the end bookmark at etcd's revision.
	watchList(t, f.cacher, rv)

	// Some retry periods later, a write elsewhere moves etcd past the
	// cache: etcd serves the next consistent list (unless a probe was
	// answered in between), and a later probe is answered.
	time.Sleep(5 * retry / 2)
	resp, err := f.client.Put(ctx, "/elsewhere", "x")
	if err != nil {
		t.Fatal(err)
	}
	wrote, etcdRV := time.Now(), uint64(resp.Header.Revision)
	fallbacks := consistentReads(t, reg, "true", "true")
	if _, cached := consistentList(); cached {
		if seen, _ := cacher.ProgressState(f.cacher); !seen {
			t.Error("behind etcd without progress, a consistent list was the cache's")
		}
	} else if got := consistentReads(t, reg, "true", "true") - fallbacks; got != 1 {
		t.Errorf("consistent reads that fell back to etcd: +%v, want +1", got)
	}
	for {
		out := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true, Predicate: storage.Everything}, out); err != nil {
			t.Fatal(err)
		}
		if out.ResourceVersion == fmt.Sprint(etcdRV) {
			break
		}
		if time.Since(wrote) > retry+2*time.Second {
			t.Fatalf("no progress answer %v after the write (the cache at %s, etcd at %d)", time.Since(wrote), out.ResourceVersion, etcdRV)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the cache reached etcd's revision %v after the write", time.Since(wrote).Round(time.Millisecond))
	if seen, _ := cacher.ProgressState(f.cacher); !seen {
		t.Error("the cache reached etcd's revision without a progress answer")
	}
	served = fromCache()
	if out, cached := consistentList(); !cached || out.ResourceVersion != fmt.Sprint(etcdRV) {
		t.Errorf("after the answer: cached %v at %s; want the cache's at %d", cached, out.ResourceVersion, etcdRV)
	}
	if got := fromCache() - served; got != 1 {
		t.Errorf("consistent reads served by the cache after the answer: +%v, want +1", got)
	}
}

// quietEtcd starts an etcd of its own that no other test writes to, with
// etcd's periodic progress notifications every 10 minutes, its default,
// not the test etcd's second: within the test only the cache's requests
// are answered. etcd keeps the interval in a variable of the process: the
// package's etcd sets it when its gRPC server is made, just after it is
// ready, and each watch stream reads it as it opens. Both etcds have
// answered a request before it is set.
func quietEtcd(t *testing.T) *etcdtest.Server {
	t.Helper()
	var (
		e   *etcd.Embedded
		err error
	)
	for range 3 { // a free port can be taken between pick and bind
		if e, err = etcd.StartEmbedded(context.Background(), etcd.EmbeddedConfig{DataDir: t.TempDir(), UnsafeNoFsync: true}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	t.Cleanup(e.Close)
	quiet := &etcdtest.Server{Embedded: e}
	for _, s := range []*etcdtest.Server{srv, quiet} {
		if _, err := s.Client(t).Get(context.Background(), "/"); err != nil {
			t.Fatal(err)
		}
	}
	interval := v3rpc.GetProgressReportInterval()
	v3rpc.SetProgressReportInterval(10 * time.Minute)
	t.Cleanup(func() { v3rpc.SetProgressReportInterval(interval.Truncate(time.Second)) })
	return quiet
}

// consistentReads is apiserver_watch_cache_consistent_read_total for pods
// with the given labels.
func consistentReads(t *testing.T, reg *prometheus.Registry, success, fallback string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "apiserver_watch_cache_consistent_read_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["resource"] == "pods" && l["success"] == success && l["fallback"] == fallback {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// watchList runs a consistent watch-list of every pod on c and checks
// that it sends the initial events and the end bookmark at rv.
func watchList(t *testing.T, c *cacher.Cacher, rv uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := true
	pred := storage.Everything
	pred.AllowWatchBookmarks = true
	w, err := c.Watch(ctx, "/pods", storage.ListOptions{Recursive: true, SendInitialEvents: &send, Predicate: pred})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the watch-list ended before its bookmark")
			}
			switch e.Type {
			case watch.Added:
				continue
			case watch.Bookmark:
				m, _ := meta.Accessor(e.Object)
				if m == nil || m.GetAnnotations()[storage.InitialEventsAnnotationKey] != "true" || m.GetResourceVersion() != fmt.Sprint(rv) {
					t.Fatalf("want the initial-events-end bookmark at %d, got %+v", rv, e.Object)
				}
				return
			default:
				t.Fatalf("watch-list: %s %+v", e.Type, e.Object)
			}
		case <-ctx.Done():
			t.Fatal("no initial-events-end bookmark in 10s")
		}
	}
}
