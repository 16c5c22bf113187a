package registry_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

// The tests of this package drive *registry.Store directly over the real
// etcd3 store and a real etcd, and assert what kube-apiserver's generic
// store (k8s.io/apiserver/pkg/registry/generic/registry/store.go, v0.37.2)
// does in the same case. Where regis differs from upstream, the case is
// skipped with the difference as its reason.

// shared is the package's etcd; each test works under a key prefix of its own.
var shared *etcdtest.Server

func TestMain(m *testing.M) {
	before := etcdtest.SnapshotGoroutines()
	code := etcdtest.Run(m, &shared)
	if code == 0 {
		if left := goroutinesLeft(before, 10*time.Second); left != "" {
			fmt.Fprintf(os.Stderr, "goroutines left running after the tests and etcd stopped:\n\n%s\n", left)
			code = 1
		}
	}
	os.Exit(code)
}

// goroutinesLeft waits up to wait until every goroutine running is one of
// before, and returns the stacks of the others.
func goroutinesLeft(before etcdtest.Goroutines, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		var left []string
		for id, stack := range etcdtest.SnapshotGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, stack)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return strings.Join(left, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// now is the registry's clock in every test: timestamps can be compared
// exactly. Its fraction of a second shows that timestamps are stored to
// the second, as upstream's metav1.Time encodings keep them.
var now = time.Date(2031, time.March, 4, 5, 6, 7, 800_000_000, time.UTC)

// nowSec is now as stored.
var nowSec = metav1.NewTime(now.Truncate(time.Second))

// testNS is the namespace every fixture creates.
const testNS = "test"

// fixture is a registry of the built-in rows over the shared etcd, under
// a prefix of the test's own, with the namespace testNS.
type fixture struct {
	reg    *registry.Registry
	client *clientv3.Client
	prefix string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	client := shared.Client(t)
	prefix := "/" + strings.ReplaceAll(t.Name(), "/", "_")
	// Runs last: the next run of this test (-count) starts from an empty prefix.
	t.Cleanup(func() { _, _ = client.Delete(context.Background(), prefix+"/", clientv3.WithPrefix()) })
	reg, err := registry.New(registry.Config{
		Resources: builtin.Resources(),
		Internal:  builtin.Internal(),
		Storage:   server.EtcdStorage(server.EtcdConfig{Client: client, Prefix: prefix}),
		Now:       func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{reg: reg, client: client, prefix: prefix}
	f.createNamespace(t, testNS)
	return f
}

func (f *fixture) createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := f.reg.Namespaces().Create(t.Context(), "", ns, registry.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

func (f *fixture) store(t *testing.T, group, resource string) *registry.Store {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: resource}
	s, ok := f.reg.Lookup(gvr)
	if !ok {
		t.Fatalf("no store for %s", gvr)
	}
	return s
}

func (f *fixture) configMaps(t *testing.T) *registry.Store  { return f.store(t, "", "configmaps") }
func (f *fixture) pods(t *testing.T) *registry.Store        { return f.store(t, "", "pods") }
func (f *fixture) deployments(t *testing.T) *registry.Store { return f.store(t, "apps", "deployments") }

// etcdRev returns the mod revision of the etcd key of a store key
// ("/configmaps/test/a"), 0 when there is no such key.
func (f *fixture) etcdRev(t *testing.T, key string) int64 {
	t.Helper()
	resp, err := f.client.Get(t.Context(), f.prefix+key)
	if err != nil {
		t.Fatalf("etcd get %s: %v", key, err)
	}
	if len(resp.Kvs) == 0 {
		return 0
	}
	return resp.Kvs[0].ModRevision
}

// create creates obj in testNS and fails the test on an error.
func create[T runtime.Object](t *testing.T, s *registry.Store, obj T) T {
	t.Helper()
	out, err := s.Create(t.Context(), testNS, obj, registry.CreateOptions{})
	if err != nil {
		t.Fatalf("create %s: %v", s.Resource().Resource, err)
	}
	return out.(T)
}

// get reads an object of testNS and fails the test on an error.
func get[T runtime.Object](t *testing.T, s *registry.Store, name string) T {
	t.Helper()
	out, err := s.Get(t.Context(), testNS, name, nil)
	if err != nil {
		t.Fatalf("get %s %s: %v", s.Resource().Resource, name, err)
	}
	return out.(T)
}

// edit is an UpdateFunc that changes a copy of the stored object, keeping
// its resourceVersion: a conditional update.
func edit[T runtime.Object](change func(T)) registry.UpdateFunc {
	return func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, errors.New("edit: nothing stored")
		}
		obj := existing.(T)
		change(obj)
		return obj, nil
	}
}

// replace is an UpdateFunc that writes obj whatever is stored.
func replace(obj runtime.Object) registry.UpdateFunc {
	return func(context.Context, runtime.Object) (runtime.Object, error) { return obj.DeepCopyObject(), nil }
}

// update updates an object of testNS and fails the test on an error.
func update[T runtime.Object](t *testing.T, s *registry.Store, name string, upd registry.UpdateFunc, opts registry.UpdateOptions) T {
	t.Helper()
	out, _, err := s.Update(t.Context(), testNS, name, upd, opts)
	if err != nil {
		t.Fatalf("update %s %s: %v", s.Resource().Resource, name, err)
	}
	return out.(T)
}

// wantNotFound fails the test unless the object is gone, from the store
// and from etcd.
func (f *fixture) wantNotFound(t *testing.T, s *registry.Store, name string) {
	t.Helper()
	_, err := s.Get(t.Context(), testNS, name, nil)
	wantStatus(t, err, 404, metav1.StatusReasonNotFound)
	if rev := f.etcdRev(t, "/"+s.Resource().EtcdPrefix()+"/"+testNS+"/"+name); rev != 0 {
		t.Errorf("%s %s still in etcd (mod revision %d)", s.Resource().Resource, name, rev)
	}
}

// wantStatus fails the test unless err is an API status error with code
// and reason, and returns its status.
func wantStatus(t *testing.T, err error, code int32, reason metav1.StatusReason) metav1.Status {
	t.Helper()
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("got error %v (%T), want a %d %s status", err, err, code, reason)
	}
	st := se.Status()
	if st.Code != code || st.Reason != reason {
		t.Fatalf("got %d %s (%q), want %d %s", st.Code, st.Reason, st.Message, code, reason)
	}
	return st
}

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
			},
		},
	}
}

// pod returns a pod bound to node ("" for an unscheduled pod).
func pod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}},
		},
	}
}

// metaOf returns the metadata of an object of a built-in type.
func metaOf(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(err)
	}
	return m
}
