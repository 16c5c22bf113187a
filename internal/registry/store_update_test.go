package registry_test

import (
	"context"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// Upstream's Store.Update: a resourceVersion other than the stored one is
// 409 Conflict with OptimisticLockErrorMsg; an empty one is an
// unconditional update, which every built-in resource allows.
// Leases and PodDisruptionBudgets refuse an update without
// resourceVersion, as their upstream strategies (AllowUnconditionalUpdate
// false), with upstream's error naming the resource as the kind.
func TestUpdateRequiresResourceVersion(t *testing.T) {
	f := newFixture(t)
	leases := f.store(t, "coordination.k8s.io", "leases")
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: testNS}}
	create(t, leases, l)
	next := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: testNS}, Spec: coordinationv1.LeaseSpec{HolderIdentity: new("me")}}
	_, _, err := leases.Update(t.Context(), testNS, "l", replace(next), registry.UpdateOptions{})
	st := wantStatus(t, err, 422, metav1.StatusReasonInvalid)
	want := `leases.coordination.k8s.io "l" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update`
	if st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
}

func TestUpdateResourceVersion(t *testing.T) {
	f := newFixture(t)
	cms := f.configMaps(t)
	tests := []struct {
		name string
		// rv returns the resourceVersion the update sends, from the one
		// create returned.
		rv           func(created string) string
		concurrent   bool // another write lands between create and update
		wantConflict bool
		upstreamOnly string // a reason to skip: regis differs from upstream
	}{
		{name: "current", rv: func(c string) string { return c }},
		// Upstream's Store.Update sets the stored resourceVersion on the
		// object before validating it (AllowUnconditionalUpdate).
		{name: "unconditional", rv: func(string) string { return "" }, concurrent: true},
		{name: "stale", rv: func(c string) string { return c }, concurrent: true, wantConflict: true},
		{name: "future", rv: func(c string) string { n, _ := strconv.Atoi(c); return strconv.Itoa(n + 1000) }, wantConflict: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := create(t, cms, configMap(tt.name, map[string]string{"v": "1"}))
			if tt.concurrent {
				update[*corev1.ConfigMap](t, cms, tt.name, edit(func(cm *corev1.ConfigMap) { cm.Data["v"] = "other" }), registry.UpdateOptions{})
			}
			before := get[*corev1.ConfigMap](t, cms, tt.name)
			next := configMap(tt.name, map[string]string{"v": "2"})
			next.ResourceVersion = tt.rv(created.ResourceVersion)
			out, _, err := cms.Update(t.Context(), testNS, tt.name, replace(next), registry.UpdateOptions{})
			if tt.wantConflict {
				st := wantStatus(t, err, 409, metav1.StatusReasonConflict)
				want := `Operation cannot be fulfilled on configmaps "` + tt.name + `": ` + registry.OptimisticLockErrorMsg
				if st.Message != want || st.Details.Kind != "configmaps" || st.Details.Name != tt.name {
					t.Errorf("status %q, details %+v; want %q", st.Message, st.Details, want)
				}
				if got := get[*corev1.ConfigMap](t, cms, tt.name); got.ResourceVersion != before.ResourceVersion {
					t.Errorf("a refused update wrote: resourceVersion %s, was %s", got.ResourceVersion, before.ResourceVersion)
				}
				return
			}
			if err != nil && tt.upstreamOnly != "" {
				t.Skipf("differs from upstream: %s: %v", tt.upstreamOnly, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*corev1.ConfigMap)
			rev := f.etcdRev(t, "/configmaps/test/"+tt.name)
			if got.Data["v"] != "2" || got.ResourceVersion != strconv.FormatInt(rev, 10) || got.ResourceVersion == before.ResourceVersion {
				t.Errorf("update answered %v at %s; etcd at %d, was %s", got.Data, got.ResourceVersion, rev, before.ResourceVersion)
			}
			if got.UID != created.UID || !got.CreationTimestamp.Equal(&created.CreationTimestamp) {
				t.Errorf("uid %s and creationTimestamp %v changed from %s, %v", got.UID, got.CreationTimestamp, created.UID, created.CreationTimestamp)
			}
		})
	}
}

// Upstream's Store.Update on a missing object: 404 NotFound unless the
// strategy's AllowCreateOnUpdate, in which case it creates (rest.BeforeCreate).
func TestUpdateMissingObject(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		store       *registry.Store
		obj         runtime.Object
		subresource registry.Subresource
		wantCreated bool
	}{
		{name: "configmap", store: f.configMaps(t), obj: configMap("x", nil)},
		{name: "deployment", store: f.deployments(t), obj: deployment("x", 1)},
		{name: "deployment status", store: f.deployments(t), obj: deployment("x", 1), subresource: registry.StatusSubresource},
		{name: "serviceaccount", store: f.store(t, "", "serviceaccounts"),
			obj: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, wantCreated: true},
		{name: "lease", store: f.store(t, "coordination.k8s.io", "leases"),
			obj: &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, wantCreated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "/" + tt.store.Resource().EtcdPrefix() + "/test/x"
			out, created, err := tt.store.Update(t.Context(), testNS, "x", replace(tt.obj), registry.UpdateOptions{Subresource: tt.subresource})
			if !tt.wantCreated {
				st := wantStatus(t, err, 404, metav1.StatusReasonNotFound)
				if want := tt.store.Resource().GroupResource().String() + ` "x" not found`; st.Message != want {
					t.Errorf("message %q, want %q", st.Message, want)
				}
				if rev := f.etcdRev(t, key); rev != 0 {
					t.Errorf("%s written at %d", key, rev)
				}
				return
			}
			if err != nil || !created {
				t.Fatalf("created %v, err %v", created, err)
			}
			m := metaOf(out)
			if m.GetUID() == "" || !m.GetCreationTimestamp().Time.Equal(nowSec.Time) || m.GetResourceVersion() != strconv.FormatInt(f.etcdRev(t, key), 10) {
				t.Errorf("created uid %q, creationTimestamp %v, resourceVersion %s", m.GetUID(), m.GetCreationTimestamp(), m.GetResourceVersion())
			}
			// A second update updates.
			second := func(_ context.Context, existing runtime.Object) (runtime.Object, error) { return existing, nil }
			if _, created, err := tt.store.Update(t.Context(), testNS, "x", second, registry.UpdateOptions{}); err != nil || created {
				t.Errorf("second update: created %v, err %v", created, err)
			}
		})
	}
}

// The body must name the object of the request, and updates are
// validated (upstream's BeforeUpdate and the strategies' ValidateUpdate).
func TestUpdateRefusesBadBody(t *testing.T) {
	f := newFixture(t)
	create(t, f.deployments(t), deployment("web", 1))
	tests := []struct {
		name       string
		change     func(d *appsv1.Deployment)
		wantCode   int32
		wantReason metav1.StatusReason
	}{
		{name: "other name", change: func(d *appsv1.Deployment) { d.Name = "other" }, wantCode: 400, wantReason: metav1.StatusReasonBadRequest},
		{name: "other namespace", change: func(d *appsv1.Deployment) { d.Namespace = "other" }, wantCode: 400, wantReason: metav1.StatusReasonBadRequest},
		{name: "immutable selector", change: func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
			d.Spec.Template.Labels = map[string]string{"app": "other"}
		}, wantCode: 422, wantReason: metav1.StatusReasonInvalid},
		{name: "negative replicas", change: func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(-1)) }, wantCode: 422, wantReason: metav1.StatusReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := get[*appsv1.Deployment](t, f.deployments(t), "web")
			_, _, err := f.deployments(t).Update(t.Context(), testNS, "web", edit(tt.change), registry.UpdateOptions{})
			wantStatus(t, err, tt.wantCode, tt.wantReason)
			if after := get[*appsv1.Deployment](t, f.deployments(t), "web"); after.ResourceVersion != before.ResourceVersion {
				t.Errorf("a refused update wrote: %s, was %s", after.ResourceVersion, before.ResourceVersion)
			}
		})
	}
}

// metadata.generation of a Generation row (apps/v1 deployments) is bumped
// by a change of spec, not by one of labels or status; a resource without
// generations keeps 0. An update that changes nothing writes nothing
// (upstream's etcd3 GuaranteedUpdate).
func TestUpdateGeneration(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name           string
		change         func(d *appsv1.Deployment)
		wantGeneration int64
		upstreamOnly   string // a reason to skip: regis differs from upstream
	}{
		{name: "replicas", change: func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(2)) }, wantGeneration: 2},
		{name: "template", change: func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "nginx:2" }, wantGeneration: 2},
		{name: "labels", change: func(d *appsv1.Deployment) { d.Labels = map[string]string{"tier": "web"} }, wantGeneration: 1},
		{name: "status is ignored", change: func(d *appsv1.Deployment) { d.Status.Replicas = 4 }, wantGeneration: 1},
		{name: "generation sent is ignored", change: func(d *appsv1.Deployment) { d.Generation = 9 }, wantGeneration: 1},
		{name: "nothing", change: func(d *appsv1.Deployment) {}, wantGeneration: 1},
		// Upstream's deploymentStrategy.PrepareForUpdate also bumps on an
		// annotation change: annotations are copied to the replica sets.
		{name: "annotations", change: func(d *appsv1.Deployment) { d.Annotations = map[string]string{"note": "x"} }, wantGeneration: 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "d" + strconv.Itoa(i)
			created := create(t, f.deployments(t), deployment(name, 1))
			got := update[*appsv1.Deployment](t, f.deployments(t), name, edit(tt.change), registry.UpdateOptions{})
			if got.Generation != tt.wantGeneration && tt.upstreamOnly != "" {
				t.Skipf("differs from upstream: %s (generation %d, want %d)", tt.upstreamOnly, got.Generation, tt.wantGeneration)
			}
			if got.Generation != tt.wantGeneration {
				t.Errorf("generation %d, want %d", got.Generation, tt.wantGeneration)
			}
			if stored := get[*appsv1.Deployment](t, f.deployments(t), name); stored.Generation != got.Generation || stored.Status.Replicas != 0 {
				t.Errorf("stored generation %d, status.replicas %d", stored.Generation, stored.Status.Replicas)
			}
			if tt.name == "nothing" && got.ResourceVersion != created.ResourceVersion {
				t.Errorf("a no-op update wrote: resourceVersion %s, was %s", got.ResourceVersion, created.ResourceVersion)
			}
		})
	}

	t.Run("no generations", func(t *testing.T) {
		create(t, f.configMaps(t), configMap("cm", map[string]string{"v": "1"}))
		got := update[*corev1.ConfigMap](t, f.configMaps(t), "cm", edit(func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" }), registry.UpdateOptions{})
		if got.Generation != 0 {
			t.Errorf("configmap generation %d, want 0", got.Generation)
		}
	})
}

// A resource with a status subresource: a write of the main resource keeps
// the stored status; a write of /status changes the status only (upstream's
// deploymentStatusStrategy resets spec and labels) and bumps no generation.
func TestUpdateStatusSubresource(t *testing.T) {
	f := newFixture(t)
	ds := f.deployments(t)
	tests := []struct {
		name           string
		subresource    registry.Subresource
		change         func(d *appsv1.Deployment)
		want           func(t *testing.T, d *appsv1.Deployment)
		wantGeneration int64
		upstreamOnly   string
	}{
		{name: "main keeps status", change: func(d *appsv1.Deployment) {
			d.Spec.Replicas = new(int32(4))
			d.Status.Replicas = 4
		}, want: func(t *testing.T, d *appsv1.Deployment) {
			if *d.Spec.Replicas != 4 || d.Status.Replicas != 0 {
				t.Errorf("spec.replicas %d, status.replicas %d; want 4, 0", *d.Spec.Replicas, d.Status.Replicas)
			}
		}, wantGeneration: 2},
		{name: "status changes status only", subresource: registry.StatusSubresource, change: func(d *appsv1.Deployment) {
			d.Spec.Replicas = new(int32(4))
			d.Labels = map[string]string{"tier": "web"}
			d.Status.Replicas = 3
			d.Status.ObservedGeneration = 1
		}, want: func(t *testing.T, d *appsv1.Deployment) {
			if *d.Spec.Replicas != 1 || d.Labels != nil || d.Status.Replicas != 3 || d.Status.ObservedGeneration != 1 {
				t.Errorf("spec.replicas %d, labels %v, status %+v; want 1, none, replicas 3", *d.Spec.Replicas, d.Labels, d.Status)
			}
		}, wantGeneration: 1},
		// Upstream's status strategy resets spec and labels only: other
		// metadata written through /status is kept.
		{name: "status keeps annotations", subresource: registry.StatusSubresource, change: func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{"note": "x"}
			d.Status.Replicas = 2
		}, want: func(t *testing.T, d *appsv1.Deployment) {
			if d.Annotations["note"] != "x" {
				t.Errorf("a /status write dropped the annotations (%v); upstream keeps all but labels", d.Annotations)
			}
		}, wantGeneration: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "d" + strconv.Itoa(i)
			create(t, ds, deployment(name, 1))
			got := update[*appsv1.Deployment](t, ds, name, edit(tt.change), registry.UpdateOptions{Subresource: tt.subresource})
			stored := get[*appsv1.Deployment](t, ds, name)
			if stored.ResourceVersion != got.ResourceVersion {
				t.Errorf("answered resourceVersion %s, stored %s", got.ResourceVersion, stored.ResourceVersion)
			}
			tt.want(t, stored)
			if stored.Generation != tt.wantGeneration {
				t.Errorf("generation %d, want %d", stored.Generation, tt.wantGeneration)
			}
		})
	}

	t.Run("stale status write", func(t *testing.T) {
		created := create(t, ds, deployment("stale", 1))
		update[*appsv1.Deployment](t, ds, "stale", edit(func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(2)) }), registry.UpdateOptions{})
		stale := created.DeepCopy()
		stale.Status.Replicas = 5
		_, _, err := ds.Update(t.Context(), testNS, "stale", replace(stale), registry.UpdateOptions{Subresource: registry.StatusSubresource})
		wantStatus(t, err, 409, metav1.StatusReasonConflict)
	})
}

// The /scale subresource as the apiserver serves it over the store: read
// with the row's ScaleRule, written as an update of the main resource that
// sets spec.replicas (upstream's scaleUpdatedObjectInfo), so a scale bumps
// the generation and keeps the status.
func TestScaleSubresource(t *testing.T) {
	f := newFixture(t)
	ds := f.deployments(t)
	rule := ds.Resource().Scale
	if rule == nil {
		t.Fatal("deployments have no scale rule")
	}
	create(t, ds, deployment("web", 3))
	update[*appsv1.Deployment](t, ds, "web", edit(func(d *appsv1.Deployment) { d.Status.Replicas = 2 }), registry.UpdateOptions{Subresource: registry.StatusSubresource})

	scale := func(replicas int32, dryRun bool) *appsv1.Deployment {
		t.Helper()
		return update[*appsv1.Deployment](t, ds, "web", func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
			rule.SetReplicas(existing, replicas)
			return existing, nil
		}, registry.UpdateOptions{DryRun: dryRun})
	}
	steps := []struct {
		name           string
		do             func() *appsv1.Deployment
		wantSpec       int32
		wantGeneration int64
	}{
		{name: "read", do: func() *appsv1.Deployment { return get[*appsv1.Deployment](t, ds, "web") }, wantSpec: 3, wantGeneration: 1},
		{name: "scale to 5", do: func() *appsv1.Deployment { return scale(5, false) }, wantSpec: 5, wantGeneration: 2},
		{name: "same scale", do: func() *appsv1.Deployment { return scale(5, false) }, wantSpec: 5, wantGeneration: 2},
		{name: "dry run", do: func() *appsv1.Deployment {
			if d := scale(7, true); *d.Spec.Replicas != 7 {
				t.Errorf("dry run answered %d replicas, want 7", *d.Spec.Replicas)
			}
			return get[*appsv1.Deployment](t, ds, "web")
		}, wantSpec: 5, wantGeneration: 2},
		{name: "scale to 0", do: func() *appsv1.Deployment { return scale(0, false) }, wantSpec: 0, wantGeneration: 3},
	}
	for _, st := range steps {
		d := st.do()
		spec, status, selector := rule.Replicas(d)
		if spec != st.wantSpec || status != 2 || selector != "app=web" {
			t.Errorf("%s: scale spec %d, status %d, selector %q; want %d, 2, app=web", st.name, spec, status, selector, st.wantSpec)
		}
		if d.Generation != st.wantGeneration {
			t.Errorf("%s: generation %d, want %d", st.name, d.Generation, st.wantGeneration)
		}
	}
}

// A dry-run update computes, validates and answers the new object and
// writes nothing, even when it would create.
func TestUpdateDryRun(t *testing.T) {
	f := newFixture(t)
	cms, sas := f.configMaps(t), f.store(t, "", "serviceaccounts")
	created := create(t, cms, configMap("a", map[string]string{"v": "1"}))
	rev := f.etcdRev(t, "/configmaps/test/a")

	t.Run("update", func(t *testing.T) {
		out, createdNow, err := cms.Update(t.Context(), testNS, "a",
			edit(func(cm *corev1.ConfigMap) { cm.Data["v"] = "2" }), registry.UpdateOptions{DryRun: true})
		if err != nil || createdNow {
			t.Fatalf("created %v, err %v", createdNow, err)
		}
		if got := out.(*corev1.ConfigMap); got.Data["v"] != "2" || got.ResourceVersion != created.ResourceVersion || got.UID != created.UID {
			t.Errorf("dry run answered %v at %s (uid %s)", got.Data, got.ResourceVersion, got.UID)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, _, err := cms.Update(t.Context(), testNS, "a",
			edit(func(cm *corev1.ConfigMap) { cm.Labels = map[string]string{"bad key!": "x"} }), registry.UpdateOptions{DryRun: true})
		wantStatus(t, err, 422, metav1.StatusReasonInvalid)
	})
	t.Run("unconditional", func(t *testing.T) {
		out, _, err := cms.Update(t.Context(), testNS, "a", replace(configMap("a", map[string]string{"v": "3"})), registry.UpdateOptions{DryRun: true})
		if err != nil {
			t.Skipf("differs from upstream: an update without resourceVersion is refused; kube-apiserver updates unconditionally: %v", err)
		}
		// Upstream's unconditional update takes the stored resourceVersion
		// (Versioner().UpdateObject), which a dry run answers.
		if rv := metaOf(out).GetResourceVersion(); rv != created.ResourceVersion {
			t.Skipf("differs from upstream: a dry-run unconditional update answers resourceVersion %q; kube-apiserver answers the stored %s", rv, created.ResourceVersion)
		}
	})
	t.Run("create on update", func(t *testing.T) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "new"}}
		out, createdNow, err := sas.Update(t.Context(), testNS, "new", replace(sa), registry.UpdateOptions{DryRun: true})
		if err != nil || !createdNow {
			t.Fatalf("created %v, err %v", createdNow, err)
		}
		if metaOf(out).GetUID() == "" {
			t.Error("dry-run create on update answered no uid")
		}
		f.wantNotFound(t, sas, "new")
	})

	if got := get[*corev1.ConfigMap](t, cms, "a"); got.Data["v"] != "1" || got.ResourceVersion != created.ResourceVersion {
		t.Errorf("stored %v at %s after dry runs, want v=1 at %s", got.Data, got.ResourceVersion, created.ResourceVersion)
	}
	if now := f.etcdRev(t, "/configmaps/test/a"); now != rev {
		t.Errorf("etcd key written by a dry run: revision %d, was %d", now, rev)
	}
}

// A write to a pod's /status keeps the metadata it sends, but for the
// owner references, as upstream's podStatusStrategy (old kubelets corrupt
// them); the spec stays as stored.
func TestPodStatusMetadata(t *testing.T) {
	f := newFixture(t)
	pods := f.pods(t)
	p := pod("p", "")
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u1"}}
	create(t, pods, p)
	update[*corev1.Pod](t, pods, "p", edit(func(p *corev1.Pod) {
		p.Labels = map[string]string{"x": "y"}
		p.OwnerReferences = nil
		p.Spec.NodeName = "n1"
		p.Status.Phase = corev1.PodRunning
	}), registry.UpdateOptions{Subresource: registry.StatusSubresource})
	got := get[*corev1.Pod](t, pods, "p")
	if got.Labels["x"] != "y" || len(got.OwnerReferences) != 1 || got.Spec.NodeName != "" || got.Status.Phase != corev1.PodRunning {
		t.Errorf("labels %v, owner references %v, nodeName %q, phase %s; want x=y, the stored reference, none, Running",
			got.Labels, got.OwnerReferences, got.Spec.NodeName, got.Status.Phase)
	}
}
