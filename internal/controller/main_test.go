package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/etcd"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

var shared *etcdtest.Server

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

// runTests is etcdtest.Run with a first request to etcd before the tests:
// the embedded server starts some of its goroutines once it serves, and a
// test's check for goroutines left running must not count them.
func runTests(m *testing.M) int {
	s, err := etcdtest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest:", err)
		return 1
	}
	defer s.Stop()
	shared = s
	c, err := etcd.NewClient([]string{s.Endpoint})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd client:", err)
		return 1
	}
	_, err = c.Get(context.Background(), "/warm-up")
	c.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd:", err)
		return 1
	}
	return m.Run()
}

// wait is how long a test waits for a controller's effect.
const wait = 10 * time.Second

// regOption changes the Config of a test registry.
type regOption func(*registry.Config)

// withClock gives the registry a clock of the test's.
func withClock(c *fakeClock) regOption {
	return func(cfg *registry.Config) { cfg.Now = c.Now }
}

// newRegistry returns a registry of the built-in resources over the
// shared etcd, straight over the etcd stores, under a key prefix of the
// test's own. When the test ends, the prefix is emptied, and the test
// fails if goroutines it started are left running.
func newRegistry(t *testing.T, opts ...regOption) *registry.Registry {
	t.Helper()
	before := etcdtest.SnapshotGoroutines()
	// Registered first, so it runs last, once the controllers have
	// stopped and the client is closed.
	t.Cleanup(func() { etcdtest.CheckNoGoroutinesLeft(t, before) })
	return registryAt(t, prefixOf(t), opts...)
}

// prefixOf is the etcd key prefix of a test's registry.
func prefixOf(t *testing.T) string {
	return "/" + strings.ReplaceAll(t.Name(), "/", "_")
}

// registryAt returns a registry over the shared etcd under prefix: a
// second one under the same prefix is a second server of one cluster.
func registryAt(t *testing.T, prefix string, opts ...regOption) *registry.Registry {
	t.Helper()
	client := shared.Client(t)
	// The next run of this test (-count) starts from an empty prefix.
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/", clientv3.WithPrefix()) })
	cfg := registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(),
		Storage: server.EtcdStorage(server.EtcdConfig{Client: client, Prefix: prefix})}
	for _, o := range opts {
		o(&cfg)
	}
	reg, err := registry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// start runs c until the test ends, then cancels its context and checks
// that it returns nil, promptly.
func start(t *testing.T, c controller.Runner) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%T.Run after its context ended: %v, want nil", c, err)
			}
		case <-time.After(wait):
			t.Errorf("%T.Run did not return after its context ended", c)
		}
	})
}

// testLog is a logger that writes to the test's output.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// storeOf returns the store of a resource ("apps/v1", "deployments").
func storeOf(t *testing.T, reg *registry.Registry, groupVersion, resource string) *registry.Store {
	t.Helper()
	gv, err := schema.ParseGroupVersion(groupVersion)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := reg.Lookup(gv.WithResource(resource))
	if !ok {
		t.Fatalf("no store of %s %s", groupVersion, resource)
	}
	return s
}

// create stores obj in namespace ns and returns it as stored.
func create[T runtime.Object](t *testing.T, s *registry.Store, ns string, obj T) T {
	t.Helper()
	out, err := s.Create(t.Context(), ns, obj, registry.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s %s/%s: %v", s.Resource().Resource, ns, metaOf(t, obj).GetName(), err)
	}
	return out.(T)
}

// createNamespace creates namespace name.
func createNamespace(t *testing.T, reg *registry.Registry, name string) *corev1.Namespace {
	t.Helper()
	return create(t, reg.Namespaces(), "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

// del deletes an object and returns what Delete returned.
func del(t *testing.T, s *registry.Store, ns, name string, opts metav1.DeleteOptions) (runtime.Object, bool) {
	t.Helper()
	obj, deleted, err := s.Delete(t.Context(), ns, name, registry.DeleteOptions{DeleteOptions: opts})
	if err != nil {
		t.Fatalf("delete %s %s/%s: %v", s.Resource().Resource, ns, name, err)
	}
	return obj, deleted
}

// update changes an object with change, as a client's read-modify-write.
func update[T runtime.Object](t *testing.T, s *registry.Store, ns, name string, change func(T)) T {
	t.Helper()
	out, _, err := s.Update(t.Context(), ns, name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(s.Resource().GroupResource(), name)
		}
		change(existing.(T))
		return existing, nil
	}, registry.UpdateOptions{})
	if err != nil {
		t.Fatalf("update %s %s/%s: %v", s.Resource().Resource, ns, name, err)
	}
	return out.(T)
}

// dropFinalizers removes the finalizers of an object, which lets a
// deleted one go.
func dropFinalizers(t *testing.T, s *registry.Store, ns, name string) {
	t.Helper()
	update(t, s, ns, name, func(obj runtime.Object) { metaOf(t, obj).SetFinalizers(nil) })
}

// get returns an object, nil if it does not exist.
func get(t *testing.T, s *registry.Store, ns, name string) runtime.Object {
	t.Helper()
	obj, err := s.Get(t.Context(), ns, name, nil)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s %s/%s: %v", s.Resource().Resource, ns, name, err)
	}
	return obj
}

// mustGet returns an object that must exist.
func mustGet[T runtime.Object](t *testing.T, s *registry.Store, ns, name string) T {
	t.Helper()
	obj := get(t, s, ns, name)
	if obj == nil {
		t.Fatalf("%s %s/%s is gone", s.Resource().Resource, ns, name)
	}
	return obj.(T)
}

// count returns how many objects of s are in ns.
func count(t *testing.T, s *registry.Store, ns string) int {
	t.Helper()
	list, err := s.List(t.Context(), ns, &metainternalversion.ListOptions{})
	if err != nil {
		t.Fatalf("list %s in %s: %v", s.Resource().Resource, ns, err)
	}
	return meta.LenList(list)
}

// waitFor polls cond until it holds, failing the test with what() after
// the deadline.
func waitFor(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", wait, what())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone waits until an object is deleted.
func waitGone(t *testing.T, s *registry.Store, ns, name string) {
	t.Helper()
	waitFor(t, func() bool { return get(t, s, ns, name) == nil },
		func() string { return s.Resource().Resource + " " + ns + "/" + name + " is still there" })
}

func metaOf(t *testing.T, obj runtime.Object) metav1.Object {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ptr[T any](v T) *T { return &v }

// recorder records the events of watches started at a revision: what a
// controller did, in order.
type recorder struct {
	mu     sync.Mutex
	events []recorded
}

// recorded is one event of a recorder: the event's type, the resource,
// and the object, whose resourceVersion is the revision of the change
// (of the deletion, for a Deleted event).
type recorded struct {
	typ      watch.EventType
	resource string
	obj      runtime.Object
	rev      int64
}

// record watches the stores in namespace ns ("" for all) after revision
// rv until the test ends.
func record(t *testing.T, ns, rv string, stores ...*registry.Store) *recorder {
	t.Helper()
	r := &recorder{}
	var (
		wg      sync.WaitGroup
		watches []watch.Interface
	)
	t.Cleanup(func() {
		for _, w := range watches {
			w.Stop()
		}
		wg.Wait()
	})
	for _, s := range stores {
		w, err := s.Watch(context.Background(), ns, &metainternalversion.ListOptions{ResourceVersion: rv})
		if err != nil {
			t.Fatalf("watch %s: %v", s.Resource().Resource, err)
		}
		watches = append(watches, w)
		wg.Go(func() {
			for e := range w.ResultChan() {
				obj := cacheable.Unwrap(e.Object)
				m, err := meta.Accessor(obj)
				if err != nil {
					continue
				}
				rev, _ := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
				r.mu.Lock()
				r.events = append(r.events, recorded{typ: e.Type, resource: s.Resource().Resource, obj: obj, rev: rev})
				r.mu.Unlock()
			}
		})
	}
	return r
}

// of returns the events recorded so far of resource/name.
func (r *recorder) of(key string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, e := range r.events {
		if m, err := meta.Accessor(e.obj); err == nil && e.resource+"/"+m.GetName() == key {
			out = append(out, e)
		}
	}
	return out
}

// deleted returns the revision at which resource/name was deleted, 0 if
// it was not (yet).
func (r *recorder) deleted(key string) int64 {
	for _, e := range r.of(key) {
		if e.typ == watch.Deleted {
			return e.rev
		}
	}
	return 0
}

// waitDeleted waits until every resource/name was seen deleted.
func (r *recorder) waitDeleted(t *testing.T, keys ...string) {
	t.Helper()
	waitFor(t, func() bool {
		for _, k := range keys {
			if r.deleted(k) == 0 {
				return false
			}
		}
		return true
	}, func() string {
		var seen []string
		for _, k := range keys {
			if r.deleted(k) != 0 {
				seen = append(seen, k)
			}
		}
		return "deletions seen: " + strings.Join(seen, ", ") + " of " + strings.Join(keys, ", ")
	})
}

// fakeClock is a registry clock the test moves, which counts its reads.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	reads atomic.Int64
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.reads.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
