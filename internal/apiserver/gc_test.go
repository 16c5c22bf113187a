package apiserver_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// gcTree is a deployment with a replica set and pods, owned as the
// deployment and replica set controllers own them.
type gcTree struct {
	deploy *appsv1.Deployment
	rs     *appsv1.ReplicaSet
	pods   []*corev1.Pod
}

func ownerRef(kind, apiVersion, name string, uid types.UID) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: &t, BlockOwnerDeletion: &t}
}

// makeTree creates deployment name in ns with a replica set and n pods;
// the first pod carries the extra finalizers.
func makeTree(t *testing.T, cs kubernetes.Interface, ns, name string, n int, podFinalizers ...string) gcTree {
	t.Helper()
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app": name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	one := int32(n)
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-rs", Labels: labels,
		OwnerReferences: []metav1.OwnerReference{ownerRef("Deployment", "apps/v1", d.Name, d.UID)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tree := gcTree{deploy: d, rs: rs}
	for i := range n {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-rs-%d", name, i), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{ownerRef("ReplicaSet", "apps/v1", rs.Name, rs.UID)}},
			Spec: tmpl.Spec}
		if i == 0 {
			p.Finalizers = podFinalizers
		}
		p, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tree.pods = append(tree.pods, p)
	}
	return tree
}

// counts returns how many deployments, replica sets and pods are in ns.
func counts(ctx context.Context, cs kubernetes.Interface, ns string) (d, rs, pods int) {
	dl, _ := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	rl, _ := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	pl, _ := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if dl != nil {
		d = len(dl.Items)
	}
	if rl != nil {
		rs = len(rl.Items)
	}
	if pl != nil {
		pods = len(pl.Items)
	}
	return
}

func waitCounts(t *testing.T, cs kubernetes.Interface, ns string, d, rs, pods int) {
	t.Helper()
	waitFor(t, 10*time.Second, func() bool {
		a, b, c := counts(t.Context(), cs, ns)
		return a == d && b == rs && c == pods
	}, func() string {
		a, b, c := counts(t.Context(), cs, ns)
		return fmt.Sprintf("%s: %d deployments, %d replica sets, %d pods; want %d, %d, %d", ns, a, b, c, d, rs, pods)
	})
}

// TestGarbageCollection deletes a deployment with each propagation policy.
func TestGarbageCollection(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	policy := func(p metav1.DeletionPropagation) metav1.DeleteOptions {
		return metav1.DeleteOptions{PropagationPolicy: &p}
	}

	t.Run("background", func(t *testing.T) {
		makeTree(t, cs, "bg", "web", 3)
		if err := cs.AppsV1().Deployments("bg").Delete(ctx, "web", policy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.AppsV1().Deployments("bg").Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("the owner is deleted first in the background: got %v", err)
		}
		waitCounts(t, cs, "bg", 0, 0, 0)
	})

	t.Run("default is background", func(t *testing.T) {
		makeTree(t, cs, "dflt", "web", 2)
		if err := cs.AppsV1().Deployments("dflt").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, cs, "dflt", 0, 0, 0)
	})

	t.Run("foreground", func(t *testing.T) {
		// A pod held by a finalizer keeps its replica set, which keeps the
		// deployment: both are marked with foregroundDeletion meanwhile.
		tree := makeTree(t, cs, "fg", "web", 3, "regis.test/hold")
		if err := cs.AppsV1().Deployments("fg").Delete(ctx, "web", policy(metav1.DeletePropagationForeground)); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, cs, "fg", 1, 1, 1)
		d, err := cs.AppsV1().Deployments("fg").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.DeletionTimestamp == nil || !slices.Contains(d.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("deployment: deletionTimestamp %v finalizers %v, want marked with foregroundDeletion", d.DeletionTimestamp, d.Finalizers)
		}
		rs, err := cs.AppsV1().ReplicaSets("fg").Get(ctx, tree.rs.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rs.DeletionTimestamp == nil || !slices.Contains(rs.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("replica set: deletionTimestamp %v finalizers %v, want marked with foregroundDeletion (it has dependents)", rs.DeletionTimestamp, rs.Finalizers)
		}
		p, err := cs.CoreV1().Pods("fg").Get(ctx, tree.pods[0].Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Finalizers = nil
		if _, err := cs.CoreV1().Pods("fg").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, cs, "fg", 0, 0, 0)
	})

	t.Run("orphan", func(t *testing.T) {
		tree := makeTree(t, cs, "orph", "web", 2)
		if err := cs.AppsV1().Deployments("orph").Delete(ctx, "web", policy(metav1.DeletePropagationOrphan)); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, cs, "orph", 0, 1, 2)
		rs, err := cs.AppsV1().ReplicaSets("orph").Get(ctx, tree.rs.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs.OwnerReferences) != 0 {
			t.Errorf("orphaned replica set still has owners %v", rs.OwnerReferences)
		}
		pods, err := cs.CoreV1().Pods("orph").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != rs.UID {
				t.Errorf("pod %s: owners %v, want its replica set only", p.Name, p.OwnerReferences)
			}
		}
		// Deleting the orphaned replica set now takes its pods.
		if err := cs.AppsV1().ReplicaSets("orph").Delete(ctx, rs.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, cs, "orph", 0, 0, 0)
	})

	t.Run("deprecated orphanDependents", func(t *testing.T) {
		makeTree(t, cs, "orphdep", "web", 1)
		yes := true
		if err := cs.AppsV1().Deployments("orphdep").Delete(ctx, "web", metav1.DeleteOptions{OrphanDependents: &yes}); err != nil {
			t.Fatal(err)
		}
		waitCounts(t, cs, "orphdep", 0, 1, 1)
	})

	t.Run("a solid owner keeps the dependent", func(t *testing.T) {
		ns := "multi"
		makeTree(t, cs, ns, "web", 0)
		cm1, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner1"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm2, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner2"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dep, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dep", OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "v1", Kind: "ConfigMap", Name: cm1.Name, UID: cm1.UID},
			{APIVersion: "v1", Kind: "ConfigMap", Name: cm2.Name, UID: cm2.UID},
		}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, cm1.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool {
			got, err := cs.CoreV1().Secrets(ns).Get(ctx, dep.Name, metav1.GetOptions{})
			return err == nil && len(got.OwnerReferences) == 1 && got.OwnerReferences[0].UID == cm2.UID
		}, func() string { return "the dangling reference to owner1 is still there" })
		if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, cm2.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool {
			_, err := cs.CoreV1().Secrets(ns).Get(ctx, dep.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, func() string { return "the secret outlived its last owner" })
	})

	t.Run("cluster-scoped owner", func(t *testing.T) {
		node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gc-node"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "of-node",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := cs.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, func() bool {
			_, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "of-node", metav1.GetOptions{})
			return apierrors.IsNotFound(err)
		}, func() string { return "the config map outlived its node" })
	})
}

// TestKubectlDeleteCascade deletes deployments with kubectl's --cascade.
func TestKubectlDeleteCascade(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	k := newKubectl(t, s)

	makeTree(t, cs, "kc", "bg", 2)
	out := k.ok("", "delete", "deployment", "bg", "-n", "kc")
	expectLines(t, "delete", out, `deployment.apps "bg" deleted`)
	waitFor(t, 10*time.Second, func() bool {
		_, rs, pods := counts(t.Context(), cs, "kc")
		return rs == 0 && pods == 0
	}, func() string { return "dependents of bg remain" })

	makeTree(t, cs, "kc", "orph", 2)
	out = k.ok("", "delete", "deployment", "orph", "-n", "kc", "--cascade=orphan")
	expectLines(t, "delete --cascade=orphan", out, `deployment.apps "orph" deleted`)
	if _, err := cs.AppsV1().Deployments("kc").Get(t.Context(), "orph", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("kubectl waits for the deletion: got %v", err)
	}
	out = k.ok("", "get", "replicasets,pods", "-n", "kc", "-o", "name")
	expectLines(t, "get after --cascade=orphan", out, "replicaset.apps/orph-rs", "pod/orph-rs-0", "pod/orph-rs-1")

	makeTree(t, cs, "kc", "fg", 2)
	out = k.ok("", "delete", "deployment", "fg", "-n", "kc", "--cascade=foreground")
	expectLines(t, "delete --cascade=foreground", out, `deployment.apps "fg" deleted`)
	// Foreground: the deployment went last, so its dependents are gone.
	out = k.ok("", "get", "replicasets,pods", "-n", "kc", "-o", "name")
	if strings.Contains(out, "fg-rs") {
		t.Errorf("dependents of fg remain after a foreground deletion:\n%s", out)
	}
}
