package registry_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/regis-dev/regis/internal/registry"
)

const holdFinalizer = "example.com/hold"

// Upstream's markAsDeleting and ShouldDeleteDuringUpdate: an object with
// finalizers is only marked (deletionTimestamp now, grace period 0,
// generation bumped if it has one) and goes with the update that removes
// its last finalizer.
func TestDeleteFinalizers(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name           string
		store          *registry.Store
		obj            runtime.Object
		wantGeneration int64
	}{
		{name: "configmap", store: f.configMaps(t), obj: configMap("a", nil), wantGeneration: 0},
		{name: "deployment", store: f.deployments(t), obj: deployment("a", 1), wantGeneration: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.store
			metaOf(tt.obj).SetFinalizers([]string{holdFinalizer})
			create(t, s, tt.obj)

			out, deleted, err := s.Delete(t.Context(), testNS, "a", registry.DeleteOptions{})
			if err != nil || deleted {
				t.Fatalf("delete: deleted %v, err %v; want marked only", deleted, err)
			}
			marked := wantMarked(t, out, nowSec, 0)
			if marked.GetGeneration() != tt.wantGeneration {
				t.Errorf("generation %d, want %d", marked.GetGeneration(), tt.wantGeneration)
			}
			if stored := getObj(t, s, "a"); metaOf(stored).GetResourceVersion() != marked.GetResourceVersion() {
				t.Errorf("stored at %s, delete answered %s", metaOf(stored).GetResourceVersion(), marked.GetResourceVersion())
			}

			// Deleting again changes nothing.
			out, deleted, err = s.Delete(t.Context(), testNS, "a", registry.DeleteOptions{})
			if err != nil || deleted {
				t.Fatalf("second delete: deleted %v, err %v", deleted, err)
			}
			if again := wantMarked(t, out, nowSec, 0); again.GetGeneration() != tt.wantGeneration {
				t.Errorf("second delete: generation %d, want %d", again.GetGeneration(), tt.wantGeneration)
			}

			// An update may not clear the deletion; with the finalizer kept,
			// the object stays.
			out, _, err = s.Update(t.Context(), testNS, "a", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
				m := metaOf(existing)
				m.SetLabels(map[string]string{"touched": "yes"})
				m.SetDeletionTimestamp(nil)
				m.SetDeletionGracePeriodSeconds(nil)
				return existing, nil
			}, registry.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantMarked(t, out, nowSec, 0)
			wantMarked(t, getObj(t, s, "a"), nowSec, 0)

			// The last finalizer goes: so does the object.
			_, _, err = s.Update(t.Context(), testNS, "a", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
				metaOf(existing).SetFinalizers(nil)
				return existing, nil
			}, registry.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			f.wantNotFound(t, s, "a")
		})
	}
}

// Upstream's deletionFinalizersForGarbageCollection: Orphan and Foreground
// (or the deprecated orphanDependents) add the "orphan" or
// "foregroundDeletion" finalizer, replacing the other, so the object is
// only marked; Background and no policy delete a config map (its strategy
// has no default policy of its own, which means background).
func TestDeletePropagation(t *testing.T) {
	f := newFixture(t)
	cms := f.configMaps(t)
	orphan, foreground, background := metav1.DeletePropagationOrphan, metav1.DeletePropagationForeground, metav1.DeletePropagationBackground
	bogus := metav1.DeletionPropagation("Sideways")
	tests := []struct {
		name           string
		finalizers     []string
		opts           metav1.DeleteOptions
		wantFinalizers []string // nil: deleted
		wantInvalid    bool
		upstreamOnly   string
	}{
		{name: "no policy"},
		{name: "background", opts: metav1.DeleteOptions{PropagationPolicy: &background}},
		{name: "orphan", opts: metav1.DeleteOptions{PropagationPolicy: &orphan}, wantFinalizers: []string{"orphan"}},
		{name: "foreground", opts: metav1.DeleteOptions{PropagationPolicy: &foreground}, wantFinalizers: []string{"foregroundDeletion"}},
		{name: "orphanDependents", opts: metav1.DeleteOptions{OrphanDependents: new(true)}, wantFinalizers: []string{"orphan"}},
		{name: "orphanDependents false", opts: metav1.DeleteOptions{OrphanDependents: new(false)}},
		{name: "orphan kept with other finalizers", finalizers: []string{holdFinalizer},
			opts: metav1.DeleteOptions{PropagationPolicy: &orphan}, wantFinalizers: []string{holdFinalizer, "orphan"}},
		{name: "foreground replaces orphan", finalizers: []string{"orphan"},
			opts: metav1.DeleteOptions{PropagationPolicy: &foreground}, wantFinalizers: []string{"foregroundDeletion"}},
		{name: "no policy keeps orphan", finalizers: []string{"orphan"}, wantFinalizers: []string{"orphan"}},
		// An explicit Background removes the garbage collector's
		// finalizers; none left, the object is deleted at once.
		{name: "background removes orphan", finalizers: []string{"orphan"}, opts: metav1.DeleteOptions{PropagationPolicy: &background},
			upstreamOnly: "an explicit Background policy keeps an object's orphan finalizer and only marks it; kube-apiserver removes the finalizer and deletes"},
		{name: "both policies", opts: metav1.DeleteOptions{PropagationPolicy: &orphan, OrphanDependents: new(true)}, wantInvalid: true},
		{name: "unknown policy", opts: metav1.DeleteOptions{PropagationPolicy: &bogus}, wantInvalid: true},
		{name: "negative grace period", opts: metav1.DeleteOptions{GracePeriodSeconds: new(int64(-1))}, wantInvalid: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "cm" + strconv.Itoa(i)
			cm := configMap(name, nil)
			cm.Finalizers = tt.finalizers
			create(t, cms, cm)
			out, deleted, err := cms.Delete(t.Context(), testNS, name, registry.DeleteOptions{DeleteOptions: tt.opts})
			if tt.wantInvalid {
				st := wantStatus(t, err, 422, metav1.StatusReasonInvalid)
				if st.Details.Kind != "DeleteOptions" || st.Details.Group != "meta.k8s.io" {
					t.Errorf("details %+v, want kind DeleteOptions of meta.k8s.io", st.Details)
				}
				getObj(t, cms, name)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantFinalizers == nil {
				if !deleted && tt.upstreamOnly != "" {
					t.Skipf("differs from upstream: %s (finalizers %v)", tt.upstreamOnly, metaOf(out).GetFinalizers())
				}
				if !deleted {
					t.Fatalf("not deleted: finalizers %v", metaOf(out).GetFinalizers())
				}
				f.wantNotFound(t, cms, name)
				return
			}
			if deleted {
				t.Fatal("deleted, want marked only")
			}
			wantMarked(t, out, nowSec, 0)
			if got := get[*corev1.ConfigMap](t, cms, name).Finalizers; !slices.Equal(got, tt.wantFinalizers) {
				t.Errorf("finalizers %v, want %v", got, tt.wantFinalizers)
			}
		})
	}
}

// Upstream's rcStrategy.DefaultGarbageCollectionPolicy is OrphanDependents
// for core/v1 (the behaviour before server-side garbage collection): a
// delete with no policy orphans the pods of a replication controller.
func TestDeleteReplicationControllerOrphansByDefault(t *testing.T) {
	f := newFixture(t)
	rcs := f.store(t, "", "replicationcontrollers")
	labels := map[string]string{"app": "rc"}
	create(t, rcs, &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "rc"},
		Spec: corev1.ReplicationControllerSpec{
			Selector: labels,
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
			},
		},
	})
	out, deleted, err := rcs.Delete(t.Context(), testNS, "rc", registry.DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if deleted {
		t.Fatal("a replication controller deleted with no propagation policy was deleted at once; upstream's default for core/v1 is Orphan (the orphan finalizer added, the object only marked)")
	}
	wantMarked(t, out, nowSec, 0)
	if got := metaOf(out).GetFinalizers(); !slices.Equal(got, []string{"orphan"}) {
		t.Errorf("finalizers %v, want [orphan]", got)
	}
}

// Upstream's BeforeDelete and storage preconditions: a uid or
// resourceVersion other than the stored one is 409 Conflict and deletes
// nothing.
func TestDeletePreconditions(t *testing.T) {
	f := newFixture(t)
	cms := f.configMaps(t)
	tests := []struct {
		name string
		// pre returns the preconditions of the delete of cm, as created.
		pre func(cm *corev1.ConfigMap) *metav1.Preconditions
		// wantConflict returns the end of upstream's 409 message, after
		// `Operation cannot be fulfilled on ConfigMap "<name>": `; nil
		// when the delete succeeds.
		wantConflict func(cm *corev1.ConfigMap) string
	}{
		{name: "uid", pre: func(cm *corev1.ConfigMap) *metav1.Preconditions {
			return &metav1.Preconditions{UID: new(cm.UID)}
		}},
		{name: "resourceVersion", pre: func(cm *corev1.ConfigMap) *metav1.Preconditions {
			return &metav1.Preconditions{ResourceVersion: new(cm.ResourceVersion)}
		}},
		{name: "both", pre: func(cm *corev1.ConfigMap) *metav1.Preconditions {
			return &metav1.Preconditions{UID: new(cm.UID), ResourceVersion: new(cm.ResourceVersion)}
		}},
		{name: "other uid", pre: func(cm *corev1.ConfigMap) *metav1.Preconditions {
			return &metav1.Preconditions{UID: new(types.UID("other"))}
		}, wantConflict: func(cm *corev1.ConfigMap) string {
			return fmt.Sprintf("the UID in the precondition (other) does not match the UID in record (%s). The object might have been deleted and then recreated", cm.UID)
		}},
		{name: "old resourceVersion", pre: func(cm *corev1.ConfigMap) *metav1.Preconditions {
			return &metav1.Preconditions{ResourceVersion: new("1")}
		}, wantConflict: func(cm *corev1.ConfigMap) string {
			return fmt.Sprintf("the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (%s). The object might have been modified", cm.ResourceVersion)
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "cm" + strconv.Itoa(i)
			cm := create(t, cms, configMap(name, nil))
			_, deleted, err := cms.Delete(t.Context(), testNS, name, registry.DeleteOptions{DeleteOptions: metav1.DeleteOptions{Preconditions: tt.pre(cm)}})
			if tt.wantConflict == nil {
				if err != nil || !deleted {
					t.Fatalf("deleted %v, err %v", deleted, err)
				}
				f.wantNotFound(t, cms, name)
				return
			}
			st := wantStatus(t, err, 409, metav1.StatusReasonConflict)
			if stored := get[*corev1.ConfigMap](t, cms, name); stored.ResourceVersion != cm.ResourceVersion {
				t.Errorf("a refused delete wrote: %s, was %s", stored.ResourceVersion, cm.ResourceVersion)
			}
			// rest.BeforeDelete names the kind, not the resource.
			want := `Operation cannot be fulfilled on ConfigMap "` + name + `": ` + tt.wantConflict(cm)
			if st.Message != want {
				t.Errorf("message %q, want upstream's %q", st.Message, want)
			}
		})
	}
}

// Store.Delete answers the deleted object for every row; the apiserver
// answers it as such for ReturnDeletedObject rows (pods), and as a
// Status naming it for the others, which is what upstream's
// finalizeDelete returns.
func TestDeleteReturnsObject(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		store      *registry.Store
		obj        runtime.Object
		wantReturn bool
	}{
		{name: "unscheduled pod", store: f.pods(t), obj: pod("a", ""), wantReturn: true},
		{name: "configmap", store: f.configMaps(t), obj: configMap("a", map[string]string{"k": "v"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.store.Resource().ReturnDeletedObject; got != tt.wantReturn {
				t.Errorf("ReturnDeletedObject %v, want %v", got, tt.wantReturn)
			}
			created := create(t, tt.store, tt.obj)
			out, deleted, err := tt.store.Delete(t.Context(), testNS, "a", registry.DeleteOptions{})
			if err != nil || !deleted {
				t.Fatalf("deleted %v, err %v", deleted, err)
			}
			// The deleted object is at the revision of its deletion, as
			// upstream's etcd3 conditionalDelete decodes it.
			m, c := metaOf(out), metaOf(created)
			if m.GetName() != "a" || m.GetUID() != c.GetUID() || atoi(t, m.GetResourceVersion()) <= atoi(t, c.GetResourceVersion()) {
				t.Errorf("answered %s uid %s at %s, created uid %s at %s", m.GetName(), m.GetUID(), m.GetResourceVersion(),
					c.GetUID(), c.GetResourceVersion())
			}
			if gvk := out.GetObjectKind().GroupVersionKind(); gvk != tt.store.Resource().GroupVersionKind() {
				t.Errorf("kind %v, want %v", gvk, tt.store.Resource().GroupVersionKind())
			}
			f.wantNotFound(t, tt.store, "a")
		})
	}
}

// A dry-run delete answers what a delete would and writes nothing.
func TestDeleteDryRun(t *testing.T) {
	f := newFixture(t)
	orphan := metav1.DeletePropagationOrphan
	tests := []struct {
		name        string
		store       *registry.Store
		obj         runtime.Object
		opts        metav1.DeleteOptions
		wantDeleted bool
		check       func(t *testing.T, answered runtime.Object)
	}{
		{name: "configmap", store: f.configMaps(t), obj: configMap("a", nil), wantDeleted: true,
			check: func(t *testing.T, out runtime.Object) {
				if ts := metaOf(out).GetDeletionTimestamp(); ts != nil {
					t.Errorf("deletionTimestamp %v", ts)
				}
			}},
		{name: "finalizers", store: f.configMaps(t), obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b", Finalizers: []string{holdFinalizer}}},
			check: func(t *testing.T, out runtime.Object) { wantMarked(t, out, nowSec, 0) }},
		{name: "orphan", store: f.configMaps(t), obj: configMap("c", nil), opts: metav1.DeleteOptions{PropagationPolicy: &orphan},
			check: func(t *testing.T, out runtime.Object) {
				if got := metaOf(out).GetFinalizers(); !slices.Equal(got, []string{"orphan"}) {
					t.Errorf("finalizers %v, want [orphan]", got)
				}
			}},
		{name: "pod on a node", store: f.pods(t), obj: pod("d", "node-1"),
			check: func(t *testing.T, out runtime.Object) {
				wantMarked(t, out, metav1.NewTime(nowSec.Add(30*time.Second)), 30)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := create(t, tt.store, tt.obj)
			name := metaOf(created).GetName()
			key := "/" + tt.store.Resource().EtcdPrefix() + "/test/" + name
			rev := f.etcdRev(t, key)
			out, deleted, err := tt.store.Delete(t.Context(), testNS, name, registry.DeleteOptions{DeleteOptions: tt.opts, DryRun: true})
			if err != nil || deleted != tt.wantDeleted {
				t.Fatalf("deleted %v, err %v; want deleted %v", deleted, err, tt.wantDeleted)
			}
			tt.check(t, out)
			stored := metaOf(getObj(t, tt.store, name))
			if stored.GetDeletionTimestamp() != nil || !slices.Equal(stored.GetFinalizers(), metaOf(created).GetFinalizers()) {
				t.Errorf("stored deletionTimestamp %v, finalizers %v after a dry run", stored.GetDeletionTimestamp(), stored.GetFinalizers())
			}
			if now := f.etcdRev(t, key); now != rev {
				t.Errorf("etcd key written by a dry run: revision %d, was %d", now, rev)
			}
		})
	}
}

// wantMarked fails the test unless obj is marked for deletion at ts with
// the grace period, and returns its metadata.
func wantMarked(t *testing.T, obj runtime.Object, ts metav1.Time, grace int64) metav1.Object {
	t.Helper()
	m := metaOf(obj)
	if d := m.GetDeletionTimestamp(); d == nil || !d.Equal(&ts) {
		t.Errorf("deletionTimestamp %v, want %v", d, ts)
	}
	if g := m.GetDeletionGracePeriodSeconds(); g == nil || *g != grace {
		t.Errorf("deletionGracePeriodSeconds %v, want %d", g, grace)
	}
	return m
}

// getObj reads an object of testNS and fails the test on an error.
func getObj(t *testing.T, s *registry.Store, name string) runtime.Object {
	t.Helper()
	return get[runtime.Object](t, s, name)
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", s, err)
	}
	return n
}
