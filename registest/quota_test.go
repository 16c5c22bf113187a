package registest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

func startQuota(t testing.TB) (context.Context, *kubernetes.Clientset) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return t.Context(), kubernetes.NewForConfigOrDie(srv.Config())
}

func quotaNamespace(t testing.TB, ctx context.Context, cs kubernetes.Interface, name string) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitQuota waits until the controller has written the quota's status
// (hard as the spec, used for each) and ok accepts it.
func waitQuota(t testing.TB, ctx context.Context, cs kubernetes.Interface, ns, name string, ok func(*corev1.ResourceQuota) bool) *corev1.ResourceQuota {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		synced := len(q.Status.Hard) == len(q.Spec.Hard) && len(q.Status.Used) == len(q.Spec.Hard)
		if synced && (ok == nil || ok(q)) {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("quota %s/%s: status %+v", ns, name, q.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func used(q *corev1.ResourceQuota, n corev1.ResourceName) int64 {
	v := q.Status.Used[n]
	return v.Value()
}

// TestQuotaEnforcedConcurrently: 20 concurrent config map creates against
// a quota with room for N: exactly N succeed, the others are 403 with
// upstream's message, and the quota is never exceeded; deletes bring the
// usage back down.
func TestQuotaEnforcedConcurrently(t *testing.T) {
	ctx, cs := startQuota(t)
	quotaNamespace(t, ctx, cs, "q")
	const hard = 8
	if _, err := cs.CoreV1().ResourceQuotas("q").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "cm"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceConfigMaps: resource.MustParse(fmt.Sprint(hard)), "count/secrets": resource.MustParse("3")}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// kube-root-ca.crt may be there already, or come later.
	q := waitQuota(t, ctx, cs, "q", "cm", func(q *corev1.ResourceQuota) bool {
		cms, err := cs.CoreV1().ConfigMaps("q").List(ctx, metav1.ListOptions{})
		return err == nil && int64(len(cms.Items)) == used(q, corev1.ResourceConfigMaps) && len(cms.Items) == 1
	})
	if h := q.Status.Hard[corev1.ResourceConfigMaps]; h.Value() != hard {
		t.Fatalf("status.hard %v", q.Status.Hard)
	}
	room := hard - int(used(q, corev1.ResourceConfigMaps))

	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = cs.CoreV1().ConfigMaps("q").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i)}}, metav1.CreateOptions{})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case apierrors.IsForbidden(err):
			want := fmt.Sprintf(`configmaps "c%d" is forbidden: exceeded quota: cm, requested: configmaps=1, used: configmaps=%d, limited: configmaps=%d`, i, hard, hard)
			if err.Error() != want {
				t.Errorf("create %d: %v\nwant %s", i, err, want)
			}
		default:
			t.Errorf("create %d: %v", i, err)
		}
	}
	if ok != room {
		t.Errorf("%d creates succeeded, want %d", ok, room)
	}
	cms, err := cs.CoreV1().ConfigMaps("q").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cms.Items) != hard {
		t.Errorf("%d config maps, want %d", len(cms.Items), hard)
	}
	q, err = cs.CoreV1().ResourceQuotas("q").Get(ctx, "cm", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if used(q, corev1.ResourceConfigMaps) != hard {
		t.Errorf("used %v, want configmaps=%d", q.Status.Used, hard)
	}

	// A dry run is checked, never charged.
	_, err = cs.CoreV1().Secrets("q").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatal(err)
	}
	if q, _ = cs.CoreV1().ResourceQuotas("q").Get(ctx, "cm", metav1.GetOptions{}); used(q, "count/secrets") != 0 {
		t.Errorf("dry run charged: %v", q.Status.Used)
	}

	// Deletes: the usage goes down soon after.
	for i := range errs {
		if errs[i] == nil {
			if err := cs.CoreV1().ConfigMaps("q").Delete(ctx, fmt.Sprintf("c%d", i), metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	waitQuota(t, ctx, cs, "q", "cm", func(q *corev1.ResourceQuota) bool {
		return used(q, corev1.ResourceConfigMaps) == int64(hard-room)
	})
	t.Logf("used back to %d %v after the deletes", hard-room, time.Since(start).Round(time.Millisecond))
	if _, err := cs.CoreV1().ConfigMaps("q").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "again"}}, metav1.CreateOptions{}); err != nil {
		t.Errorf("create after the deletes: %v", err)
	}
	// A create charged, then refused by storage (AlreadyExists): the
	// charge is taken back by the next count, within seconds.
	_, err = cs.CoreV1().ConfigMaps("q").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "again"}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create again: %v", err)
	}
	start = time.Now()
	waitQuota(t, ctx, cs, "q", "cm", func(q *corev1.ResourceQuota) bool {
		return used(q, corev1.ResourceConfigMaps) == int64(hard-room+1)
	})
	t.Logf("the refused create's charge taken back after %v", time.Since(start).Round(time.Millisecond))
}

// TestQuotaPods: compute resources are charged from the containers'
// requests; a quota of requests.cpu refuses a pod without one, as
// upstream; a spec change of the quota reaches its status.
func TestQuotaPods(t *testing.T) {
	ctx, cs := startQuota(t)
	quotaNamespace(t, ctx, cs, "p")
	eventually(t, "default service account", func() error {
		_, err := cs.CoreV1().ServiceAccounts("p").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "compute"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		corev1.ResourcePods: resource.MustParse("5"), corev1.ResourceRequestsCPU: resource.MustParse("1"),
		corev1.ResourceLimitsMemory: resource.MustParse("1Gi")}}}
	if _, err := cs.CoreV1().ResourceQuotas("p").Create(ctx, rq, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "p", "compute", nil)
	pod := func(name, cpu, mem string) *corev1.Pod {
		c := corev1.Container{Name: "c", Image: "busybox"}
		if cpu != "" {
			c.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}}
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	}
	pods := cs.CoreV1().Pods("p")
	_, err := pods.Create(ctx, pod("bare", "", ""), metav1.CreateOptions{})
	expectForbidden(t, "pod without requests", err, `pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: c; requests.cpu for: c`)
	if _, err := pods.Create(ctx, pod("a", "600m", "512Mi"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = pods.Create(ctx, pod("b", "600m", "256Mi"), metav1.CreateOptions{})
	expectForbidden(t, "pod over requests.cpu", err, `pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1`)
	q, err := cs.CoreV1().ResourceQuotas("p").Get(ctx, "compute", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c, m := q.Status.Used[corev1.ResourceRequestsCPU], q.Status.Used[corev1.ResourceLimitsMemory]; c.String() != "600m" || m.String() != "512Mi" || used(q, corev1.ResourcePods) != 1 {
		t.Errorf("used %v", q.Status.Used)
	}
	q.Spec.Hard[corev1.ResourceRequestsCPU] = resource.MustParse("2")
	if _, err := cs.CoreV1().ResourceQuotas("p").Update(ctx, q, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "p", "compute", func(q *corev1.ResourceQuota) bool {
		h := q.Status.Hard[corev1.ResourceRequestsCPU]
		return h.String() == "2"
	})
	if _, err := pods.Create(ctx, pod("b", "600m", "256Mi"), metav1.CreateOptions{}); err != nil {
		t.Errorf("after raising the quota: %v", err)
	}
	// A BestEffort-scoped quota does not see pods with requests.
	if _, err := cs.CoreV1().ResourceQuotas("p").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "besteffort"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")},
			Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "p", "besteffort", nil)
	if _, err := pods.Create(ctx, pod("c", "100m", "64Mi"), metav1.CreateOptions{}); err != nil {
		t.Errorf("burstable pod under a BestEffort quota: %v", err)
	}
	if !strings.Contains(fmt.Sprint(waitQuota(t, ctx, cs, "p", "besteffort", nil).Status.Used), "pods:{") {
		t.Errorf("besteffort quota used not set")
	}
	// A pod that ends no longer uses compute resources (replenishment).
	a, err := pods.Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Status.Phase = corev1.PodSucceeded
	if _, err := pods.UpdateStatus(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "p", "compute", func(q *corev1.ResourceQuota) bool {
		c := q.Status.Used[corev1.ResourceRequestsCPU]
		return c.String() == "700m" && used(q, corev1.ResourcePods) == 2
	})
}

// BenchmarkCreateWithQuota is the cost of ResourceQuota on a create: a
// config map created in a namespace with a quota on config maps (checked
// and charged) and in one without, in alternating rounds.
//
//	go test ./registest -run '^$' -bench CreateWithQuota -benchtime 500x -count 1
func BenchmarkCreateWithQuota(b *testing.B) {
	ctx, cs := startQuota(b)
	quotaNamespace(b, ctx, cs, "with")
	quotaNamespace(b, ctx, cs, "without")
	if _, err := cs.CoreV1().ResourceQuotas("with").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "cm"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceConfigMaps: resource.MustParse("1000000")}}},
		metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	waitQuota(b, ctx, cs, "with", "cm", nil)
	n := 0
	for range 5 {
		for _, ns := range []string{"without", "with"} {
			b.Run(ns, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					n++
					if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b%d", n)}},
						metav1.CreateOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestQuotaPluginDisabled: with --disable-admission-plugins ResourceQuota
// nothing is refused, and the controller still keeps the status current.
func TestQuotaPluginDisabled(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{DisableAdmissionPlugins: []string{"ResourceQuota"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx, cs := t.Context(), kubernetes.NewForConfigOrDie(srv.Config())
	quotaNamespace(t, ctx, cs, "off")
	if _, err := cs.CoreV1().ResourceQuotas("off").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/secrets": resource.MustParse("1")}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "off", "s", nil)
	for i := range 3 {
		if _, err := cs.CoreV1().Secrets("off").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("s", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.CoreV1().Secrets("off").Delete(ctx, "s0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "off", "s", func(q *corev1.ResourceQuota) bool { return used(q, "count/secrets") == 2 })
}

// TestQuotaCustomResources: count/widgets.example.com counts the objects
// of a custom resource, charged on create and given back on delete.
func TestQuotaCustomResources(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{CRDs: []string{"testdata"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx, cs := t.Context(), kubernetes.NewForConfigOrDie(srv.Config())
	quotaNamespace(t, ctx, cs, "cr")
	if _, err := cs.CoreV1().ResourceQuotas("cr").Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "w"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"count/widgets.example.com": resource.MustParse("1")}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "cr", "w", nil)
	widgets := dynamic.NewForConfigOrDie(srv.Config()).Resource(schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}).Namespace("cr")
	widget := func(name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": name}, "spec": map[string]any{"color": "blue"}}}
	}
	if _, err := widgets.Create(ctx, widget("a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = widgets.Create(ctx, widget("b"), metav1.CreateOptions{})
	expectForbidden(t, "second widget", err, `widgets.example.com "b" is forbidden: exceeded quota: w, requested: count/widgets.example.com=1, used: count/widgets.example.com=1, limited: count/widgets.example.com=1`)
	if err := widgets.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitQuota(t, ctx, cs, "cr", "w", func(q *corev1.ResourceQuota) bool { return used(q, "count/widgets.example.com") == 0 })
	if _, err := widgets.Create(ctx, widget("b"), metav1.CreateOptions{}); err != nil {
		t.Errorf("after the delete: %v", err)
	}
}
