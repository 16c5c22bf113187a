package controller_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/registry"
)

// gcEnv is a registry with a garbage collector, and the stores the tests
// use.
type gcEnv struct {
	reg                                             *registry.Registry
	gc                                              *controller.GarbageCollector
	deploys, rss, pods, cms, secrets, nodes, events *registry.Store
}

// newGC returns a registry and its collector, not started yet.
func newGC(t *testing.T) *gcEnv {
	t.Helper()
	reg := newRegistry(t)
	return gcEnvOf(t, reg)
}

func gcEnvOf(t *testing.T, reg *registry.Registry) *gcEnv {
	t.Helper()
	return &gcEnv{
		reg:     reg,
		gc:      controller.NewGarbageCollector(reg, testLog(t)),
		deploys: storeOf(t, reg, "apps/v1", "deployments"),
		rss:     storeOf(t, reg, "apps/v1", "replicasets"),
		pods:    storeOf(t, reg, "v1", "pods"),
		cms:     storeOf(t, reg, "v1", "configmaps"),
		secrets: storeOf(t, reg, "v1", "secrets"),
		nodes:   storeOf(t, reg, "v1", "nodes"),
		events:  storeOf(t, reg, "v1", "events"),
	}
}

// startGC returns a registry with its collector running.
func startGC(t *testing.T) *gcEnv {
	t.Helper()
	e := newGC(t)
	start(t, e.gc)
	return e
}

// gcTree is a deployment with a replica set and pods, owned as the
// deployment and replica set controllers own them.
type gcTree struct {
	deploy *appsv1.Deployment
	rs     *appsv1.ReplicaSet
	pods   []*corev1.Pod
	// rv is the revision after the tree was created.
	rv string
}

func ownerRef(kind, apiVersion, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
}

// makeTree creates deployment name in ns (and ns) with a replica set and
// n pods; the first pod carries the extra finalizers.
func (e *gcEnv) makeTree(t *testing.T, ns, name string, n int, podFinalizers ...string) gcTree {
	t.Helper()
	e.ensureNamespace(t, ns)
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	replicas := int32(n)
	d := create(t, e.deploys, ns, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}})
	rs := create(t, e.rss, ns, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-rs", Labels: labels,
		OwnerReferences: []metav1.OwnerReference{ownerRef("Deployment", "apps/v1", d.Name, d.UID)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}})
	tree := gcTree{deploy: d, rs: rs, rv: rs.ResourceVersion}
	for i := range n {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-rs-%d", name, i), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{ownerRef("ReplicaSet", "apps/v1", rs.Name, rs.UID)}},
			Spec: tmpl.Spec}
		if i == 0 {
			p.Finalizers = podFinalizers
		}
		p = create(t, e.pods, ns, p)
		tree.pods = append(tree.pods, p)
		tree.rv = p.ResourceVersion
	}
	return tree
}

func (e *gcEnv) ensureNamespace(t *testing.T, ns string) {
	t.Helper()
	_, err := e.reg.Namespaces().Create(t.Context(), "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, registry.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// waitCounts waits until ns holds d deployments, rs replica sets and
// pods pods.
func (e *gcEnv) waitCounts(t *testing.T, ns string, d, rs, pods int) {
	t.Helper()
	counts := func() (int, int, int) {
		return count(t, e.deploys, ns), count(t, e.rss, ns), count(t, e.pods, ns)
	}
	waitFor(t, func() bool {
		a, b, c := counts()
		return a == d && b == rs && c == pods
	}, func() string {
		a, b, c := counts()
		return fmt.Sprintf("%s: %d deployments, %d replica sets, %d pods; want %d, %d, %d", ns, a, b, c, d, rs, pods)
	})
}

// deletedBefore checks that the deletions happened in the order given.
func deletedBefore(t *testing.T, r *recorder, first, then string) {
	t.Helper()
	if a, b := r.deleted(first), r.deleted(then); a == 0 || b == 0 || a >= b {
		t.Errorf("%s deleted at revision %d, %s at %d: want %s first", first, a, then, b, first)
	}
}

func policy(p metav1.DeletionPropagation) metav1.DeleteOptions {
	return metav1.DeleteOptions{PropagationPolicy: &p}
}

// TestGarbageCollection deletes a deployment with each propagation policy
// and checks what happens to its replica set and pods.
func TestGarbageCollection(t *testing.T) {
	e := startGC(t)

	t.Run("background", func(t *testing.T) {
		tree := e.makeTree(t, "bg", "web", 3)
		d := record(t, "bg", tree.rv, e.deploys, e.rss, e.pods)
		if _, deleted := del(t, e.deploys, "bg", "web", policy(metav1.DeletePropagationBackground)); !deleted {
			t.Fatal("the owner is deleted first in the background: Delete only marked it")
		}
		if get(t, e.deploys, "bg", "web") != nil {
			t.Fatal("the owner is deleted first in the background: it is still there")
		}
		e.waitCounts(t, "bg", 0, 0, 0)
		d.waitDeleted(t, "deployments/web", "replicasets/web-rs", "pods/web-rs-0", "pods/web-rs-1", "pods/web-rs-2")
		deletedBefore(t, d, "deployments/web", "replicasets/web-rs")
		for _, p := range tree.pods {
			deletedBefore(t, d, "replicasets/web-rs", "pods/"+p.Name)
		}
	})

	t.Run("default is background", func(t *testing.T) {
		e.makeTree(t, "dflt", "web", 2)
		if _, deleted := del(t, e.deploys, "dflt", "web", metav1.DeleteOptions{}); !deleted {
			t.Fatal("Delete without a policy only marked the owner")
		}
		e.waitCounts(t, "dflt", 0, 0, 0)
	})

	t.Run("foreground", func(t *testing.T) {
		// A pod held by a finalizer keeps its replica set, which keeps the
		// deployment: both are marked with foregroundDeletion meanwhile.
		tree := e.makeTree(t, "fg", "web", 3, "regis.test/hold")
		dels := record(t, "fg", tree.rv, e.deploys, e.rss, e.pods)
		obj, deleted := del(t, e.deploys, "fg", "web", policy(metav1.DeletePropagationForeground))
		if m := metaOf(t, obj); deleted || m.GetDeletionTimestamp() == nil || !slices.Contains(m.GetFinalizers(), metav1.FinalizerDeleteDependents) {
			t.Fatalf("Delete: deleted %v, deletionTimestamp %v, finalizers %v; want marked with foregroundDeletion", deleted, m.GetDeletionTimestamp(), m.GetFinalizers())
		}
		e.waitCounts(t, "fg", 1, 1, 1)
		d := mustGet[*appsv1.Deployment](t, e.deploys, "fg", "web")
		if d.DeletionTimestamp == nil || !slices.Contains(d.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("deployment: deletionTimestamp %v finalizers %v, want marked with foregroundDeletion", d.DeletionTimestamp, d.Finalizers)
		}
		rs := mustGet[*appsv1.ReplicaSet](t, e.rss, "fg", tree.rs.Name)
		if rs.DeletionTimestamp == nil || !slices.Contains(rs.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("replica set: deletionTimestamp %v finalizers %v, want marked with foregroundDeletion (it has dependents)", rs.DeletionTimestamp, rs.Finalizers)
		}
		p := mustGet[*corev1.Pod](t, e.pods, "fg", tree.pods[0].Name)
		if p.DeletionTimestamp == nil {
			t.Fatalf("the held pod is not marked for deletion")
		}
		dropFinalizers(t, e.pods, "fg", tree.pods[0].Name)
		e.waitCounts(t, "fg", 0, 0, 0)
		// The dependents went first, then their owners.
		dels.waitDeleted(t, "deployments/web", "replicasets/web-rs", "pods/web-rs-0", "pods/web-rs-1", "pods/web-rs-2")
		for _, p := range tree.pods {
			deletedBefore(t, dels, "pods/"+p.Name, "replicasets/web-rs")
		}
		deletedBefore(t, dels, "replicasets/web-rs", "deployments/web")
	})

	t.Run("orphan", func(t *testing.T) {
		tree := e.makeTree(t, "orph", "web", 2)
		obj, deleted := del(t, e.deploys, "orph", "web", policy(metav1.DeletePropagationOrphan))
		if m := metaOf(t, obj); deleted || !slices.Contains(m.GetFinalizers(), metav1.FinalizerOrphanDependents) {
			t.Fatalf("Delete: deleted %v, finalizers %v; want marked with orphan", deleted, m.GetFinalizers())
		}
		e.waitCounts(t, "orph", 0, 1, 2)
		rs := mustGet[*appsv1.ReplicaSet](t, e.rss, "orph", tree.rs.Name)
		if len(rs.OwnerReferences) != 0 {
			t.Errorf("orphaned replica set still has owners %v", rs.OwnerReferences)
		}
		for _, p := range tree.pods {
			p := mustGet[*corev1.Pod](t, e.pods, "orph", p.Name)
			if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != rs.UID {
				t.Errorf("pod %s: owners %v, want its replica set only", p.Name, p.OwnerReferences)
			}
		}
		// Deleting the orphaned replica set now takes its pods.
		del(t, e.rss, "orph", rs.Name, metav1.DeleteOptions{})
		e.waitCounts(t, "orph", 0, 0, 0)
	})

	t.Run("deprecated orphanDependents", func(t *testing.T) {
		e.makeTree(t, "orphdep", "web", 1)
		del(t, e.deploys, "orphdep", "web", metav1.DeleteOptions{OrphanDependents: ptr(true)})
		e.waitCounts(t, "orphdep", 0, 1, 1)
	})

	t.Run("a solid owner keeps the dependent", func(t *testing.T) {
		ns := "multi"
		e.ensureNamespace(t, ns)
		cm1 := create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner1"}})
		cm2 := create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner2"}})
		dep := create(t, e.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dep", OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "v1", Kind: "ConfigMap", Name: cm1.Name, UID: cm1.UID},
			{APIVersion: "v1", Kind: "ConfigMap", Name: cm2.Name, UID: cm2.UID},
		}}})
		del(t, e.cms, ns, cm1.Name, metav1.DeleteOptions{})
		waitFor(t, func() bool {
			got, ok := get(t, e.secrets, ns, dep.Name).(*corev1.Secret)
			return ok && len(got.OwnerReferences) == 1 && got.OwnerReferences[0].UID == cm2.UID
		}, func() string { return "the dangling reference to owner1 is still there" })
		del(t, e.cms, ns, cm2.Name, metav1.DeleteOptions{})
		waitGone(t, e.secrets, ns, dep.Name)
	})

	t.Run("cluster-scoped owner", func(t *testing.T) {
		e.ensureNamespace(t, "default")
		node := create(t, e.nodes, "", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gc-node"}})
		create(t, e.cms, "default", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "of-node",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}}})
		del(t, e.nodes, "", node.Name, metav1.DeleteOptions{})
		waitGone(t, e.cms, "default", "of-node")
	})
}

// Foreground deletion waits for the dependents with blockOwnerDeletion
// only, then removes its own finalizer and leaves the others.
func TestGCForegroundWaitsForBlockingDependents(t *testing.T) {
	e := startGC(t)
	ns := "fgblock"
	e.ensureNamespace(t, ns)
	owner := create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner", Finalizers: []string{"regis.test/keep"}}})
	ref := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}
	blocking := ref
	blocking.BlockOwnerDeletion = ptr(true)
	hold := []string{"regis.test/hold"}
	create(t, e.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "blocking", Finalizers: hold, OwnerReferences: []metav1.OwnerReference{blocking}}})
	create(t, e.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "free", Finalizers: hold, OwnerReferences: []metav1.OwnerReference{ref}}})

	del(t, e.cms, ns, owner.Name, policy(metav1.DeletePropagationForeground))
	marked := func(name string) bool {
		s, ok := get(t, e.secrets, ns, name).(*corev1.Secret)
		return ok && s.DeletionTimestamp != nil
	}
	waitFor(t, func() bool { return marked("blocking") && marked("free") },
		func() string { return "the dependents are not both marked for deletion" })
	cm := mustGet[*corev1.ConfigMap](t, e.cms, ns, owner.Name)
	if !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("owner finalizers %v while a blocking dependent is left, want foregroundDeletion kept", cm.Finalizers)
	}

	dropFinalizers(t, e.secrets, ns, "blocking")
	waitFor(t, func() bool {
		cm, ok := get(t, e.cms, ns, owner.Name).(*corev1.ConfigMap)
		return ok && !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents)
	}, func() string { return "the owner still waits for its dependents" })
	cm = mustGet[*corev1.ConfigMap](t, e.cms, ns, owner.Name)
	if cm.DeletionTimestamp == nil || !slices.Equal(cm.Finalizers, []string{"regis.test/keep"}) {
		t.Errorf("owner: deletionTimestamp %v finalizers %v, want marked with its own finalizer left", cm.DeletionTimestamp, cm.Finalizers)
	}
	if !marked("free") {
		t.Errorf("the dependent without blockOwnerDeletion is gone, want it held by its finalizer")
	}
	dropFinalizers(t, e.cms, ns, owner.Name)
	waitGone(t, e.cms, ns, owner.Name)
	dropFinalizers(t, e.secrets, ns, "free")
	waitGone(t, e.secrets, ns, "free")
}

// Orphaning removes the references from the dependents first, then the
// orphan finalizer, and leaves the owner's other finalizers.
func TestGCOrphanKeepsOtherFinalizers(t *testing.T) {
	e := startGC(t)
	ns := "orphkeep"
	e.ensureNamespace(t, ns)
	owner := create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner", Finalizers: []string{"regis.test/keep"}}})
	create(t, e.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dep",
		OwnerReferences: []metav1.OwnerReference{ownerRef("ConfigMap", "v1", owner.Name, owner.UID)}}})

	obj, deleted := del(t, e.cms, ns, owner.Name, policy(metav1.DeletePropagationOrphan))
	if m := metaOf(t, obj); deleted || !slices.Equal(m.GetFinalizers(), []string{"regis.test/keep", metav1.FinalizerOrphanDependents}) {
		t.Fatalf("Delete: deleted %v, finalizers %v; want marked with orphan added", deleted, m.GetFinalizers())
	}
	waitFor(t, func() bool {
		cm := mustGet[*corev1.ConfigMap](t, e.cms, ns, owner.Name)
		return !slices.Contains(cm.Finalizers, metav1.FinalizerOrphanDependents)
	}, func() string { return "the orphan finalizer is still there" })
	if dep := mustGet[*corev1.Secret](t, e.secrets, ns, "dep"); len(dep.OwnerReferences) != 0 {
		t.Errorf("the orphan finalizer went before the dependent's reference: owners %v", dep.OwnerReferences)
	}
	cm := mustGet[*corev1.ConfigMap](t, e.cms, ns, owner.Name)
	if cm.DeletionTimestamp == nil || !slices.Equal(cm.Finalizers, []string{"regis.test/keep"}) {
		t.Errorf("owner: deletionTimestamp %v finalizers %v, want marked with its own finalizer left", cm.DeletionTimestamp, cm.Finalizers)
	}
	dropFinalizers(t, e.cms, ns, owner.Name)
	waitGone(t, e.cms, ns, owner.Name)
	if get(t, e.secrets, ns, "dep") == nil {
		t.Error("the orphaned dependent went with its former owner")
	}
}

// Dependents whose owner is missing (never existed, or was replaced by an
// object of another uid) are collected on the first sweep; a reference the
// collector cannot resolve keeps its dependent, and events are not
// collected, as upstream.
func TestGCCollectsDependentsOfMissingOwners(t *testing.T) {
	e := newGC(t)
	e.gc.Interval = 50 * time.Millisecond
	ns := "lost"
	e.ensureNamespace(t, ns)
	alive := create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "real"}})
	secret := func(name string, ref metav1.OwnerReference) {
		create(t, e.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: []metav1.OwnerReference{ref}}})
	}
	secret("never", metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: "ghost-uid"})
	secret("replaced", metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "real", UID: "old-uid"})
	secret("kept", metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "real", UID: alive.UID})
	secret("unknown-kind", metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "w-uid"})
	create(t, e.events, ns, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "ev",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: "ghost-uid"}}},
		InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", Namespace: ns, Name: "ghost"}, Reason: "Test", Type: corev1.EventTypeNormal})

	start(t, e.gc)
	waitGone(t, e.secrets, ns, "never")
	waitGone(t, e.secrets, ns, "replaced")
	// A dependent made dangling now goes on a later sweep: the sweep that
	// collected the first two has judged the others.
	secret("later", metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: "ghost-uid"})
	waitGone(t, e.secrets, ns, "later")
	for _, name := range []string{"kept", "unknown-kind"} {
		if s := mustGet[*corev1.Secret](t, e.secrets, ns, name); len(s.OwnerReferences) != 1 || s.DeletionTimestamp != nil {
			t.Errorf("secret %s: owners %v, deletionTimestamp %v; want left alone", name, s.OwnerReferences, s.DeletionTimestamp)
		}
	}
	if get(t, e.events, ns, "ev") == nil {
		t.Error("the collector deleted an event")
	}
}

// The collector sweeps every Interval: it catches what another server on
// the same etcd deleted, which did not wake it.
func TestGCSweepsWhatOtherServersDelete(t *testing.T) {
	e := newGC(t)
	e.gc.Interval = 100 * time.Millisecond
	other := gcEnvOf(t, registryAt(t, prefixOf(t)))
	start(t, e.gc)
	ns := "elsewhere"
	other.ensureNamespace(t, ns)
	owner := create(t, other.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}})
	create(t, other.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dep",
		OwnerReferences: []metav1.OwnerReference{ownerRef("ConfigMap", "v1", owner.Name, owner.UID)}}})
	del(t, other.cms, ns, owner.Name, metav1.DeleteOptions{})
	waitGone(t, other.secrets, ns, "dep")
}
