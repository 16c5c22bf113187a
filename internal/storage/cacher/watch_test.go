package cacher_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/storage"
)

// write is one change made by a test writer, as etcd recorded it.
type write struct {
	typ  watch.EventType
	name string
	rv   uint64
}

// churn makes writers concurrent writers each create, update and delete
// pods (names prefixed by tag) and returns what they wrote, in revision
// order.
func churn(t *testing.T, f *fixture, tag string, writers, perWriter int) []write {
	t.Helper()
	var (
		mu  sync.Mutex
		all []write
		wg  sync.WaitGroup
	)
	ctx := context.Background()
	for w := range writers {
		wg.Go(func() {
			var mine []write
			defer func() {
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
			for i := range perWriter {
				name := fmt.Sprintf("%s-%d-%d", tag, w, i)
				key := podKey("ns", name)
				out := &corev1.Pod{}
				if err := f.cacher.Create(ctx, key, newPod("ns", name, fmt.Sprintf("node-%d", i%3)), out, 0); err != nil {
					t.Errorf("create: %v", err)
					return
				}
				mine = append(mine, write{watch.Added, name, objRV(t, out)})
				err := f.cacher.GuaranteedUpdate(ctx, key, out, false, nil, func(in runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
					p := in.(*corev1.Pod).DeepCopy()
					p.Labels["step"] = "updated"
					return p, nil, nil
				}, nil)
				if err != nil {
					t.Errorf("update: %v", err)
					return
				}
				mine = append(mine, write{watch.Modified, name, objRV(t, out)})
				if i%3 == 0 {
					if err := f.cacher.Delete(ctx, key, out, nil, storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{}); err != nil {
						t.Errorf("delete: %v", err)
						return
					}
					mine = append(mine, write{watch.Deleted, name, objRV(t, out)})
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].rv < all[j].rv })
	return all
}

// collect reads n events from w (bookmarks aside) within timeout.
func collect(t *testing.T, w watch.Interface, n int, timeout time.Duration) []write {
	t.Helper()
	got, err := collectErr(w, n, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func collectErr(w watch.Interface, n int, timeout time.Duration) ([]write, error) {
	var got []write
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return got, fmt.Errorf("watch closed after %d of %d events", len(got), n)
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			if ev.Type == watch.Error {
				return got, fmt.Errorf("watch error after %d events: %v", len(got), apierrors.FromObject(ev.Object))
			}
			m, err := meta.Accessor(ev.Object)
			if err != nil {
				return got, err
			}
			rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
			got = append(got, write{ev.Type, m.GetName(), rv})
		case <-deadline:
			return got, fmt.Errorf("got %d of %d events in %v", len(got), n, timeout)
		}
	}
	return got, nil
}

// checkExactlyOnceInOrder checks that got is want: every write once, in
// revision order.
func checkExactlyOnceInOrder(got, want []write) error {
	for i := 1; i < len(got); i++ {
		if got[i].rv <= got[i-1].rv {
			return fmt.Errorf("event %d (rv %d) after rv %d: not in revision order", i, got[i].rv, got[i-1].rv)
		}
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("got %d events, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	return nil
}

func firstDiff(a, b []write) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func listRV(t *testing.T, f *fixture) string {
	t.Helper()
	list := &corev1.PodList{}
	if err := f.cacher.GetList(context.Background(), "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, list); err != nil {
		t.Fatal(err)
	}
	return list.ResourceVersion
}

func watchFrom(t *testing.T, f *fixture, rv string) watch.Interface {
	t.Helper()
	w, err := f.cacher.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: storage.Everything})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// reader collects the events of a watch from now on, in the background.
type reader struct {
	w    watch.Interface
	done chan struct{}
	last atomic.Uint64 // the revision of the last event
	got  []write       // read after done
	err  error         // read after done
}

func (r *reader) lastRV() uint64 { return r.last.Load() }

func startReader(w watch.Interface) *reader {
	r := &reader{w: w, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			ev, ok := <-w.ResultChan()
			if !ok {
				return
			}
			switch ev.Type {
			case watch.Bookmark:
				continue
			case watch.Error:
				r.err = apierrors.FromObject(ev.Object)
				return
			}
			m, err := meta.Accessor(ev.Object)
			if err != nil {
				r.err = err
				return
			}
			rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
			r.got = append(r.got, write{ev.Type, m.GetName(), rv})
			r.last.Store(rv)
		}
	}()
	return r
}

// waitFor stops the reader once it has seen the revision of the last of
// want, then checks.
func (r *reader) waitFor(want []write, timeout time.Duration) error {
	last := want[len(want)-1].rv
	deadline := time.After(timeout)
	for {
		select {
		case <-r.done:
			return r.finish(want)
		case <-deadline:
			r.w.Stop()
			<-r.done
			return r.finish(want)
		case <-time.After(20 * time.Millisecond):
		}
		if r.lastRV() >= last {
			r.w.Stop()
			<-r.done
			return r.finish(want)
		}
	}
}

func (r *reader) finish(want []write) error {
	if r.err != nil {
		return fmt.Errorf("after %d events: %w", len(r.got), r.err)
	}
	return checkExactlyOnceInOrder(r.got, want)
}

func TestWatchersSeeEveryEventOnceInOrder(t *testing.T) {
	f := newFixture(t)
	rv := listRV(t, f)
	const watchers = 100
	rs := make([]*reader, watchers)
	for i := range rs {
		rs[i] = startReader(watchFrom(t, f, rv))
	}
	want := churn(t, f, "p", 4, 15)
	for i, r := range rs {
		if err := r.waitFor(want, 30*time.Second); err != nil {
			t.Errorf("watcher %d: %v", i, err)
		}
	}
}

func TestWatchResumesAfterEtcdWatchIsKilled(t *testing.T) {
	ks := &killableStore{}
	f := newFixture(t, withStore(ks.wrap))
	r := startReader(watchFrom(t, f, listRV(t, f)))
	done := make(chan struct{})
	var kills int
	go func() {
		defer close(done)
		for range 5 {
			time.Sleep(50 * time.Millisecond)
			kills += ks.kill()
		}
	}()
	want := churn(t, f, "k", 2, 25)
	<-done
	if err := r.waitFor(want, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if kills == 0 || ks.watches() < 2 {
		t.Fatalf("the etcd watch was killed %d times and opened %d times; want it killed and resumed", kills, ks.watches())
	}
}

func TestRelistAfterCompactionSendsTheDifference(t *testing.T) {
	ks := &killableStore{}
	f := newFixture(t, withStore(ks.wrap))
	for i := range 6 {
		f.create(t, newPod("ns", fmt.Sprintf("old-%d", i), "node-1"))
	}
	w := watchFrom(t, f, listRV(t, f))

	// Cut the cache off etcd, change things, compact past the cache.
	release := ks.hold()
	ks.kill()
	f.update(t, "ns", "old-0", func(p *corev1.Pod) { p.Labels["v"] = "2" })
	f.delete(t, "ns", "old-1")
	f.delete(t, "ns", "old-2")
	f.create(t, newPod("ns", "new-0", "node-2"))
	f.create(t, newPod("ns", "new-1", "node-2"))
	f.delete(t, "ns", "new-1")
	rev := f.currentRV(t)
	if err := etcd.CompactAt(context.Background(), f.client.KV, int64(rev)); err != nil {
		t.Fatal(err)
	}
	release()

	// The watcher sees the difference, in revision order, once.
	state := map[string]uint64{}
	for i := range 6 {
		state[fmt.Sprintf("old-%d", i)] = 0
	}
	etcdList := func() map[string]uint64 {
		m := map[string]uint64{}
		for _, p := range f.listEtcd(t, "").Items {
			m[p.Name] = objRV(t, &p)
		}
		return m
	}
	want := etcdList()
	var last uint64
	deadline := time.After(30 * time.Second)
	for !sameNames(state, want) || state["old-0"] != want["old-0"] {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				t.Fatalf("watch ended: %v", ev.Object)
			}
			if ev.Type == watch.Bookmark {
				continue
			}
			p := unwrap(ev.Object).(*corev1.Pod)
			rv := objRV(t, p)
			if rv < last {
				t.Fatalf("%s %s at rv %d after rv %d", ev.Type, p.Name, rv, last)
			}
			last = rv
			switch ev.Type {
			case watch.Deleted:
				if _, ok := state[p.Name]; !ok {
					t.Fatalf("DELETED %s, which the watcher did not have", p.Name)
				}
				delete(state, p.Name)
			case watch.Added:
				if _, ok := state[p.Name]; ok {
					t.Fatalf("ADDED %s twice", p.Name)
				}
				state[p.Name] = rv
			default:
				state[p.Name] = rv
			}
		case <-deadline:
			t.Fatalf("the watcher has %v, etcd %v", state, want)
		}
	}
	if _, ok := state["new-1"]; ok {
		t.Fatal("new-1, created and deleted while the cache was cut off, is left over")
	}
	// A watch from a revision before the relist is too old.
	ev, _ := next(t, watchFrom(t, f, strconv.FormatUint(last-1, 10)), 10*time.Second)
	if ev.Type != watch.Error || !apierrors.IsResourceExpired(apierrors.FromObject(ev.Object)) {
		t.Fatalf("watch from before the relist: got %s %v, want a 410 ERROR", ev.Type, ev.Object)
	}
}

func sameNames(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func TestStalledWatcherIsEndedFastWatcherKeepsLatency(t *testing.T) {
	f := newFixture(t)
	f.create(t, newPod("ns", "hot", "node-1"))
	rv := listRV(t, f)
	stalled := watchFrom(t, f, rv)
	fast := watchFrom(t, f, rv)
	// A watcher that reads, but slower than events come, must not set
	// the pace of the others either: it is ended too.
	slow := watchFrom(t, f, rv)
	slowEnded := make(chan error, 1)
	go func() {
		for ev := range slow.ResultChan() {
			if ev.Type == watch.Error {
				slowEnded <- nil
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
		slowEnded <- fmt.Errorf("the slow watcher's channel closed without an error")
	}()

	const updates = 300
	latencies := make(chan time.Duration, updates)
	go func() {
		for range updates {
			ev, ok := <-fast.ResultChan()
			if !ok {
				return
			}
			sent, _ := strconv.ParseInt(unwrap(ev.Object).(*corev1.Pod).Annotations["sent"], 10, 64)
			latencies <- time.Since(time.Unix(0, sent))
		}
		close(latencies)
	}()
	for i := range updates {
		f.update(t, "ns", "hot", func(p *corev1.Pod) {
			p.Annotations = map[string]string{"sent": strconv.FormatInt(time.Now().UnixNano(), 10), "i": strconv.Itoa(i)}
		})
	}
	var got []time.Duration
	timeout := time.After(30 * time.Second)
	for len(got) < updates {
		select {
		case l, ok := <-latencies:
			if !ok {
				t.Fatalf("fast watcher ended after %d events", len(got))
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("fast watcher got %d of %d events", len(got), updates)
		}
	}
	slices.Sort(got)
	p99 := got[len(got)*99/100]
	t.Logf("fast watcher: p50 %v, p99 %v, max %v", got[len(got)/2], p99, got[len(got)-1])
	if p99 > 500*time.Millisecond {
		t.Errorf("fast watcher p99 latency %v, want < 500ms", p99)
	}

	// The stalled watcher has what fit in its buffers, then a 410.
	n := 0
	for {
		ev, ok := next(t, stalled, 10*time.Second)
		if !ok {
			t.Fatalf("stalled watcher closed after %d events without an error", n)
		}
		if ev.Type == watch.Error {
			st := ev.Object.(*metav1.Status)
			if st.Code != http.StatusGone {
				t.Fatalf("stalled watcher ended with %v, want 410", st)
			}
			break
		}
		n++
	}
	if n >= updates {
		t.Fatalf("the stalled watcher got all %d events", n)
	}
	if _, ok := next(t, stalled, 10*time.Second); ok {
		t.Fatal("events after the error")
	}
	select {
	case err := <-slowEnded:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the slow watcher was not ended")
	}
}

func TestCompactionGivesOldWatches410WhileLiveWatchersContinue(t *testing.T) {
	f := newFixture(t)
	r0 := listRV(t, f)
	live := watchFrom(t, f, r0)
	for i := range 3 {
		f.create(t, newPod("ns", fmt.Sprintf("c-%d", i), "node-1"))
	}
	rev := f.currentRV(t)
	if err := etcd.CompactAt(context.Background(), f.client.KV, int64(rev)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.cacher.CompactRevision() < int64(rev) {
		if time.Now().After(deadline) {
			t.Fatalf("cacher compact revision %d, want %d", f.cacher.CompactRevision(), rev)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ev, _ := next(t, watchFrom(t, f, r0), 5*time.Second)
	if ev.Type != watch.Error {
		t.Fatalf("watch from a compacted rv: got %s, want ERROR", ev.Type)
	}
	st := ev.Object.(*metav1.Status)
	if st.Code != http.StatusGone || st.Reason != metav1.StatusReasonExpired || !strings.HasPrefix(st.Message, "too old resource version: "+r0+" (") {
		t.Fatalf("watch from a compacted rv: %+v", st)
	}
	f.create(t, newPod("ns", "after", "node-1"))
	got := collect(t, live, 4, 10*time.Second)
	if got[3].name != "after" {
		t.Fatalf("live watcher got %v", got)
	}
}

func TestSendInitialEventsEndsWithAnnotatedBookmark(t *testing.T) {
	f := newFixture(t)
	var created []*corev1.Pod
	for i := range 5 {
		created = append(created, f.create(t, newPod("ns", fmt.Sprintf("i-%d", i), "node-1")))
	}
	send := true
	opts := storage.ListOptions{Recursive: true, SendInitialEvents: &send, Predicate: storage.Everything}
	opts.Predicate.AllowWatchBookmarks = true
	w, err := f.cacher.Watch(context.Background(), "/pods", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for i := range created {
		ev, _ := next(t, w, 5*time.Second)
		if ev.Type != watch.Added || unwrap(ev.Object).(*corev1.Pod).Name != created[i].Name {
			t.Fatalf("initial event %d: %s %v", i, ev.Type, ev.Object)
		}
	}
	ev, _ := next(t, w, 5*time.Second)
	if ev.Type != watch.Bookmark {
		t.Fatalf("after the initial events: %s, want BOOKMARK", ev.Type)
	}
	m, _ := meta.Accessor(ev.Object)
	if m.GetAnnotations()[storage.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("bookmark annotations %v, want %s", m.GetAnnotations(), storage.InitialEventsAnnotationKey)
	}
	if objRV(t, ev.Object) < objRV(t, created[4]) {
		t.Fatalf("bookmark at %s, before the last pod (%s)", m.GetResourceVersion(), created[4].ResourceVersion)
	}
	p := f.create(t, newPod("ns", "live", "node-1"))
	for {
		ev, _ = next(t, w, 5*time.Second)
		if ev.Type != watch.Bookmark {
			break
		}
	}
	if ev.Type != watch.Added || objRV(t, ev.Object) != objRV(t, p) {
		t.Fatalf("live event: %s %v", ev.Type, ev.Object)
	}
}

func TestBookmarks(t *testing.T) {
	f := newFixture(t)
	f.create(t, newPod("ns", "b", "node-1"))
	rv := listRV(t, f)
	pred := storage.Everything
	pred.AllowWatchBookmarks = true
	advance := func() {
		// A write elsewhere moves etcd's revision, which progress
		// notifications bring to the cache.
		if _, err := f.client.Put(context.Background(), "/unrelated", "x"); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("before the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		w, err := f.cacher.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: pred})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		advance()
		listRV(t, f) // a consistent list: the cache has caught up
		ev, _ := next(t, w, 3500*time.Millisecond)
		if ev.Type != watch.Bookmark {
			t.Fatalf("got %s, want BOOKMARK", ev.Type)
		}
	})
	t.Run("after RequestWatchProgress", func(t *testing.T) {
		w, err := f.cacher.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: pred})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		advance()
		if err := f.cacher.RequestWatchProgress(context.Background()); err != nil {
			t.Fatal(err)
		}
		ev, _ := next(t, w, 3*time.Second)
		if ev.Type != watch.Bookmark || objRV(t, ev.Object) <= objRV(t, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: rv}}) {
			t.Fatalf("got %s %v, want a BOOKMARK after %s", ev.Type, ev.Object, rv)
		}
	})
	t.Run("not without allowWatchBookmarks", func(t *testing.T) {
		w := watchFrom(t, f, rv)
		advance()
		_ = f.cacher.RequestWatchProgress(context.Background())
		select {
		case ev := <-w.ResultChan():
			t.Fatalf("got %s", ev.Type)
		case <-time.After(1500 * time.Millisecond):
		}
	})
}

func TestWatchByNodeSeesOnlyItsPods(t *testing.T) {
	f := newFixture(t)
	rv := listRV(t, f)
	node := func(n string) watch.Interface {
		pred := storage.Everything
		pred.Field = fields.OneTermEqualSelector("spec.nodeName", n)
		w, err := f.cacher.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: rv, Recursive: true, Predicate: pred})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return w
	}
	n1, n2 := node("node-1"), node("node-2")
	a := f.create(t, newPod("ns", "a", "node-1"))
	f.create(t, newPod("ns", "b", "node-3"))
	moved := f.update(t, "ns", "a", func(p *corev1.Pod) { p.Spec.NodeName = "node-2" })

	got1 := collect(t, n1, 2, 5*time.Second)
	if want := []write{{watch.Added, "a", objRV(t, a)}, {watch.Deleted, "a", objRV(t, moved)}}; !slices.Equal(got1, want) {
		t.Fatalf("node-1 watcher: %v, want %v", got1, want)
	}
	got2 := collect(t, n2, 1, 5*time.Second)
	if want := []write{{watch.Added, "a", objRV(t, moved)}}; !slices.Equal(got2, want) {
		t.Fatalf("node-2 watcher: %v, want %v", got2, want)
	}
}
