package controller_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/registry"
)

// nsEnv is a registry with a namespace controller, and the stores the
// tests fill namespaces with.
type nsEnv struct {
	reg                                        *registry.Registry
	nc                                         *controller.NamespaceController
	nss, cms, secrets, pods, deploys, services *registry.Store
}

func newNamespaceEnv(t *testing.T, reg *registry.Registry) *nsEnv {
	t.Helper()
	return &nsEnv{
		reg:      reg,
		nc:       controller.NewNamespaceController(reg, testLog(t)),
		nss:      reg.Namespaces(),
		cms:      storeOf(t, reg, "v1", "configmaps"),
		secrets:  storeOf(t, reg, "v1", "secrets"),
		pods:     storeOf(t, reg, "v1", "pods"),
		deploys:  storeOf(t, reg, "apps/v1", "deployments"),
		services: storeOf(t, reg, "v1", "services"),
	}
}

// fill creates one object of each kind the tests use in ns; the config
// map "held" carries a finalizer.
func (e *nsEnv) fill(t *testing.T, ns string) {
	t.Helper()
	create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c1"}})
	create(t, e.cms, ns, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"regis.test/hold"}}})
	create(t, e.secrets, ns, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s1"}})
	create(t, e.pods, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}})
	labels := map[string]string{"app": "app"}
	create(t, e.deploys, ns, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}})
	create(t, e.services, ns, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}})
}

// contents returns how many objects of each store are in ns.
func (e *nsEnv) contents(t *testing.T, ns string) string {
	t.Helper()
	return fmt.Sprintf("%d configmaps, %d secrets, %d pods, %d deployments, %d services",
		count(t, e.cms, ns), count(t, e.secrets, ns), count(t, e.pods, ns), count(t, e.deploys, ns), count(t, e.services, ns))
}

// terminating checks that namespace name is marked for deletion and
// Terminating, with the spec.finalizers given.
func (e *nsEnv) terminating(t *testing.T, name string, finalizers ...corev1.FinalizerName) {
	t.Helper()
	ns := mustGet[*corev1.Namespace](t, e.nss, "", name)
	if ns.DeletionTimestamp == nil || ns.Status.Phase != corev1.NamespaceTerminating || !slices.Equal(ns.Spec.Finalizers, finalizers) {
		t.Fatalf("namespace %s: deletionTimestamp %v, phase %s, finalizers %v; want marked, Terminating, finalizers %v",
			name, ns.DeletionTimestamp, ns.Status.Phase, ns.Spec.Finalizers, finalizers)
	}
}

// TestNamespaceDeletion deletes a namespace: it becomes Terminating, its
// content is deleted, then the controller removes the "kubernetes"
// finalizer and the namespace goes. Other namespaces are left alone.
func TestNamespaceDeletion(t *testing.T) {
	e := newNamespaceEnv(t, newRegistry(t))
	start(t, e.nc)
	doomed := createNamespace(t, e.reg, "doomed")
	if !slices.Equal(doomed.Spec.Finalizers, []corev1.FinalizerName{corev1.FinalizerKubernetes}) || doomed.Status.Phase != corev1.NamespaceActive {
		t.Fatalf("new namespace: finalizers %v, phase %s; want [kubernetes], Active", doomed.Spec.Finalizers, doomed.Status.Phase)
	}
	createNamespace(t, e.reg, "bystander")
	e.fill(t, "doomed")
	e.fill(t, "bystander")
	events := record(t, "", doomed.ResourceVersion, e.nss)

	obj, deleted := del(t, e.nss, "", "doomed", metav1.DeleteOptions{})
	if ns := obj.(*corev1.Namespace); deleted || ns.DeletionTimestamp == nil || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("Delete: deleted %v, deletionTimestamp %v, phase %s; want marked and Terminating", deleted, ns.DeletionTimestamp, ns.Status.Phase)
	}
	// Nothing new gets in.
	_, err := e.cms.Create(t.Context(), "doomed", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, registry.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("create in a terminating namespace: %v, want Forbidden", err)
	}
	// A second delete is refused as upstream.
	if _, _, err := e.nss.Delete(t.Context(), "", "doomed", registry.DeleteOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("second delete: %v, want Conflict", err)
	}

	// The content goes, but for the config map a finalizer holds, which
	// holds the namespace.
	want := "1 configmaps, 0 secrets, 0 pods, 0 deployments, 0 services"
	waitFor(t, func() bool { return e.contents(t, "doomed") == want },
		func() string { return "doomed holds " + e.contents(t, "doomed") + ", want " + want })
	if held := mustGet[*corev1.ConfigMap](t, e.cms, "doomed", "held"); held.DeletionTimestamp == nil {
		t.Error("the held config map is not marked for deletion")
	}
	e.terminating(t, "doomed", corev1.FinalizerKubernetes)

	dropFinalizers(t, e.cms, "doomed", "held")
	waitGone(t, e.nss, "", "doomed")
	if got := e.contents(t, "doomed"); got != "0 configmaps, 0 secrets, 0 pods, 0 deployments, 0 services" {
		t.Errorf("left in the deleted namespace: %s", got)
	}
	if got, want := e.contents(t, "bystander"), "2 configmaps, 1 secrets, 1 pods, 1 deployments, 1 services"; got != want {
		t.Errorf("bystander holds %s, want %s", got, want)
	}

	// The last two changes: the finalizer removed, then the namespace gone.
	events.waitDeleted(t, "namespaces/doomed")
	seen := events.of("namespaces/doomed")
	if len(seen) < 2 {
		t.Fatalf("%d events of the namespace, want its finalization and deletion", len(seen))
	}
	last, final := seen[len(seen)-2], seen[len(seen)-1]
	if ns, ok := last.obj.(*corev1.Namespace); last.typ != watch.Modified || !ok || len(ns.Spec.Finalizers) != 0 || ns.DeletionTimestamp == nil {
		t.Errorf("before the deletion: %s %+v, want the namespace modified with no finalizers left", last.typ, last.obj)
	}
	if final.typ != watch.Deleted {
		t.Errorf("last event %s, want DELETED", final.typ)
	}

	t.Run("conditions as upstream", func(t *testing.T) {
		checkDeletionConditions(t, seen)
	})
}

// checkDeletionConditions checks the status.conditions upstream's
// namespace controller writes while it empties a namespace (see
// k8s.io/kubernetes pkg/controller/namespace/deletion
// status_condition_utils.go): with the held config map left, then, before
// the finalizer goes, all content removed.
func checkDeletionConditions(t *testing.T, seen []recorded) {
	var held, done []corev1.NamespaceCondition
	for _, e := range seen {
		ns, ok := e.obj.(*corev1.Namespace)
		if !ok || e.typ != watch.Modified || len(ns.Status.Conditions) == 0 {
			continue
		}
		if held == nil {
			held = ns.Status.Conditions
		}
		done = ns.Status.Conditions
	}
	if held == nil {
		t.Skip("known gap (reported): regis's namespace controller writes no status.conditions")
	}
	type cond struct{ typ, status, reason, message string }
	summary := func(cs []corev1.NamespaceCondition) []cond {
		var out []cond
		for _, c := range cs {
			out = append(out, cond{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
		return out
	}
	ok := []cond{
		{"NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"},
		{"NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"},
		{"NamespaceDeletionContentFailure", "False", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
		{"NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed"},
		{"NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
	}
	remaining := slices.Clone(ok)
	remaining[3] = cond{"NamespaceContentRemaining", "True", "SomeResourcesRemain", "Some resources are remaining: configmaps. has 1 resource instances"}
	remaining[4] = cond{"NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: regis.test/hold in 1 resource instances"}
	if got := summary(held); !slices.Equal(got, remaining) {
		t.Errorf("conditions while content is held:\n got %v\nwant %v", got, remaining)
	}
	if got := summary(done); !slices.Equal(got, ok) {
		t.Errorf("conditions once the content is gone:\n got %v\nwant %v", got, ok)
	}
}

// A namespace waits for its pods' grace periods: the reaper deletes them,
// then the namespace goes.
func TestNamespaceDeletionWaitsForGracefulPods(t *testing.T) {
	clock := newFakeClock()
	e := newNamespaceEnv(t, newRegistry(t, withClock(clock)))
	reaper := controller.NewGracefulReaper(e.reg, testLog(t))
	reaper.Resync = 20 * time.Millisecond
	start(t, e.nc)
	start(t, reaper)
	createNamespace(t, e.reg, "graceful")
	create(t, e.pods, "graceful", scheduledPod("running", ptr(int64(30))))
	del(t, e.nss, "", "graceful", metav1.DeleteOptions{})
	waitFor(t, func() bool {
		p := mustGet[*corev1.Pod](t, e.pods, "graceful", "running")
		return p.DeletionTimestamp != nil
	}, func() string { return "the namespace controller did not delete the pod" })
	e.terminating(t, "graceful", corev1.FinalizerKubernetes)
	clock.Add(30 * time.Second)
	waitGone(t, e.pods, "graceful", "running")
	waitGone(t, e.nss, "", "graceful")
}

// A namespace marked for deletion while no controller ran is finished
// when one starts.
func TestNamespaceControllerFinishesEarlierDeletions(t *testing.T) {
	e := newNamespaceEnv(t, newRegistry(t))
	createNamespace(t, e.reg, "earlier")
	create(t, e.cms, "earlier", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c1"}})
	del(t, e.nss, "", "earlier", metav1.DeleteOptions{})
	e.terminating(t, "earlier", corev1.FinalizerKubernetes)
	start(t, e.nc)
	waitGone(t, e.nss, "", "earlier")
	if n := count(t, e.cms, "earlier"); n != 0 {
		t.Errorf("%d config maps left in the deleted namespace", n)
	}
}

// The controller removes its own finalizer only: a namespace with another
// stays Terminating until that one goes too.
func TestNamespaceDeletionKeepsOtherFinalizers(t *testing.T) {
	e := newNamespaceEnv(t, newRegistry(t))
	start(t, e.nc)
	other := corev1.FinalizerName("example.com/other")
	create(t, e.nss, "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shared"},
		Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes, other}}})
	create(t, e.secrets, "shared", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s1"}})
	del(t, e.nss, "", "shared", metav1.DeleteOptions{})
	waitFor(t, func() bool {
		ns := mustGet[*corev1.Namespace](t, e.nss, "", "shared")
		return !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}, func() string { return "the kubernetes finalizer is still there" })
	e.terminating(t, "shared", other)
	if n := count(t, e.secrets, "shared"); n != 0 {
		t.Errorf("the finalizer went with %d secrets left", n)
	}
	_, _, err := e.nss.Update(t.Context(), "", "shared", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		ns := existing.(*corev1.Namespace)
		ns.Spec.Finalizers = nil
		return ns, nil
	}, registry.UpdateOptions{Subresource: registry.FinalizeSubresource})
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, e.nss, "", "shared")
}
