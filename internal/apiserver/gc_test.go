package apiserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// TestDeletePropagationOverHTTP checks that the propagation policy of a
// DELETE, in a DeleteOptions body or in the query, reaches the registry:
// the answer is the owner marked with the policy's finalizer (or a
// Status, when it is deleted at once), and its dependents go or stay. What
// the garbage collector does with each policy is tested in
// internal/controller.
func TestDeletePropagationOverHTTP(t *testing.T) {
	s := startServer(t)
	cs := s.clientset(t)
	ctx := t.Context()
	policy := func(p metav1.DeletionPropagation) *metav1.DeleteOptions {
		return &metav1.DeleteOptions{PropagationPolicy: &p}
	}
	yes := true
	for _, c := range []struct {
		name  string
		body  *metav1.DeleteOptions
		query map[string]string
		// finalizer is the one the owner is marked with, "" when it is
		// deleted at once.
		finalizer string
		rs, pods  int
	}{
		{name: "no options"},
		{name: "body background", body: policy(metav1.DeletePropagationBackground)},
		{name: "body foreground", body: policy(metav1.DeletePropagationForeground), finalizer: metav1.FinalizerDeleteDependents},
		{name: "body orphan", body: policy(metav1.DeletePropagationOrphan), finalizer: metav1.FinalizerOrphanDependents, rs: 1, pods: 2},
		{name: "body orphanDependents", body: &metav1.DeleteOptions{OrphanDependents: &yes}, finalizer: metav1.FinalizerOrphanDependents, rs: 1, pods: 2},
		{name: "query foreground", query: map[string]string{"propagationPolicy": "Foreground"}, finalizer: metav1.FinalizerDeleteDependents},
		{name: "query orphanDependents", query: map[string]string{"orphanDependents": "true"}, finalizer: metav1.FinalizerOrphanDependents, rs: 1, pods: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := strings.ToLower(strings.ReplaceAll(c.name, " ", "-"))
			makeTree(t, cs, ns, "web", 2)
			req := cs.AppsV1().RESTClient().Delete().Namespace(ns).Resource("deployments").Name("web")
			if c.body != nil {
				req = req.Body(c.body)
			}
			for k, v := range c.query {
				req = req.Param(k, v)
			}
			var code int
			raw, err := req.Do(ctx).StatusCode(&code).Raw()
			if err != nil || code != http.StatusOK {
				t.Fatalf("DELETE: %d %v\n%s", code, err, raw)
			}
			var got struct {
				Kind   string          `json:"kind"`
				Status json.RawMessage `json:"status"` // a Status's, or the deployment's

				Metadata struct {
					DeletionTimestamp *metav1.Time `json:"deletionTimestamp"`
					Finalizers        []string     `json:"finalizers"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("DELETE answered %v: %s", err, raw)
			}
			switch {
			case c.finalizer == "" && (got.Kind != "Status" || string(got.Status) != `"`+metav1.StatusSuccess+`"`):
				t.Errorf("DELETE answered %s, want a Status Success: the owner deleted at once", raw)
			case c.finalizer != "" && (got.Kind != "Deployment" || got.Metadata.DeletionTimestamp == nil || !slices.Contains(got.Metadata.Finalizers, c.finalizer)):
				t.Errorf("DELETE answered %s, want the deployment marked with %s", raw, c.finalizer)
			}
			waitCounts(t, cs, ns, 0, c.rs, c.pods)
		})
	}

	t.Run("invalid", func(t *testing.T) {
		makeTree(t, cs, "invalid", "web", 0)
		bogus := metav1.DeletionPropagation("Bogus")
		for _, opts := range []metav1.DeleteOptions{
			{PropagationPolicy: &bogus},
			{PropagationPolicy: policy(metav1.DeletePropagationOrphan).PropagationPolicy, OrphanDependents: &yes},
		} {
			if err := cs.AppsV1().Deployments("invalid").Delete(ctx, "web", opts); !apierrors.IsInvalid(err) {
				t.Errorf("DELETE with %+v: %v, want 422 Invalid", opts, err)
			}
		}
		if _, err := cs.AppsV1().Deployments("invalid").Get(ctx, "web", metav1.GetOptions{}); err != nil {
			t.Errorf("after the refused deletes: %v", err)
		}
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
