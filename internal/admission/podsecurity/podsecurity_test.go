package podsecurity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/regis-dev/regis/internal/admission/podsecurity"
	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
	"github.com/regis-dev/regis/internal/server"
)

// cachedRegistry is a registry over a real etcd with watch caches, as the
// server's.
func cachedRegistry(tb testing.TB) *registry.Registry {
	ctx, cancel := context.WithCancel(context.Background())
	etcd := etcdtest.New(tb)
	factory := server.EtcdStorage(server.EtcdConfig{Client: etcd.Client(tb), Prefix: "/registry"})
	factory, caches := server.CachedStorage(factory, server.CacheConfig{Cached: func(schema.GroupResource) bool { return true }})
	reg, err := registry.New(registry.Config{Resources: builtin.Resources(), Internal: builtin.Internal(), Storage: factory})
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = caches.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	return reg
}

func namespace(tb testing.TB, reg *registry.Registry, name string, labels map[string]string) {
	tb.Helper()
	if _, err := reg.Namespaces().Create(tb.Context(), "", &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, registry.CreateOptions{}); err != nil {
		tb.Fatal(err)
	}
}

func podCreate(ns string, user string) *registry.Attributes {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
		Spec: corev1.PodSpec{HostPID: true, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	a := &registry.Attributes{Operation: registry.OpCreate, Object: pod, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Namespace: ns, Name: "p"}
	if user != "" {
		a.User = &authz.User{Name: user}
	}
	return a
}

// TestValidate: the plugin over a registry reads the namespace's labels,
// refuses with upstream's status, exempts the configured users, records
// warnings and audit annotations.
func TestValidate(t *testing.T) {
	reg := cachedRegistry(t)
	namespace(t, reg, "enforced", map[string]string{"pod-security.kubernetes.io/enforce": "baseline"})
	namespace(t, reg, "audited", map[string]string{"pod-security.kubernetes.io/audit": "baseline", "pod-security.kubernetes.io/warn": "baseline"})
	dir := t.TempDir()
	file := filepath.Join(dir, "admission.yaml")
	if err := os.WriteFile(file, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n"+
		"- name: PodSecurity\n  configuration:\n    apiVersion: pod-security.admission.config.k8s.io/v1\n"+
		"    kind: PodSecurityConfiguration\n    exemptions: {usernames: [ci]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var audit []string
	m := podsecurity.NewMetrics(1, 37)
	p, err := podsecurity.New(podsecurity.Config{Registry: reg, ConfigFile: file, Metrics: m,
		AuditAnnotations: func(_ context.Context, kv ...string) { audit = append(audit, kv...) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	err = p.Validate(ctx, podCreate("enforced", "bob"))
	want := `pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostPID=true)`
	if s, ok := err.(*apierrors.StatusError); !ok || err.Error() != want || s.ErrStatus.Code != 403 || s.ErrStatus.Reason != metav1.StatusReasonForbidden ||
		s.ErrStatus.Status != metav1.StatusFailure || s.ErrStatus.Details == nil || s.ErrStatus.Details.Kind != "pods" || s.ErrStatus.Details.Name != "p" {
		t.Errorf("enforced: %#v\nwant %s", err, want)
	}
	if len(audit) != 2 || audit[0] != "pod-security.kubernetes.io/enforce-policy" || audit[1] != "baseline:latest" {
		t.Errorf("audit annotations of a refusal: %q", audit)
	}
	audit = nil
	if err := p.Validate(ctx, podCreate("enforced", "ci")); err != nil {
		t.Errorf("exempt user: %v", err)
	}
	if fmt.Sprint(audit) != "[pod-security.kubernetes.io/exempt user]" {
		t.Errorf("audit annotations of an exemption: %q", audit)
	}

	var warnings []string
	wctx := registry.WithWarnings(ctx, func(m string) { warnings = append(warnings, m) })
	audit = nil
	if err := p.Validate(wctx, podCreate("audited", "")); err != nil {
		t.Errorf("audited: %v", err)
	}
	if fmt.Sprint(warnings) != `[would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)]` {
		t.Errorf("warnings: %q", warnings)
	}
	got := map[string]string{}
	for i := 0; i+1 < len(audit); i += 2 {
		got[audit[i]] = audit[i+1]
	}
	if got["pod-security.kubernetes.io/audit-violations"] != `would violate PodSecurity "baseline:latest": host namespaces (hostPID=true)` {
		t.Errorf("audit annotations: %q", audit)
	}

	promReg := prometheus.NewRegistry()
	promReg.MustRegister(m.Collectors()...)
	wantMetrics := `
# HELP pod_security_evaluations_total Number of policy evaluations that occurred, not counting ignored or exempt requests.
# TYPE pod_security_evaluations_total counter
pod_security_evaluations_total{decision="allow",mode="enforce",policy_level="privileged",policy_version="latest",request_operation="create",resource="pod",subresource=""} 1
pod_security_evaluations_total{decision="deny",mode="audit",policy_level="baseline",policy_version="latest",request_operation="create",resource="pod",subresource=""} 1
pod_security_evaluations_total{decision="deny",mode="enforce",policy_level="baseline",policy_version="latest",request_operation="create",resource="pod",subresource=""} 1
pod_security_evaluations_total{decision="deny",mode="warn",policy_level="baseline",policy_version="latest",request_operation="create",resource="pod",subresource=""} 1
# HELP pod_security_exemptions_total Number of exempt requests, not counting ignored or out of scope requests.
# TYPE pod_security_exemptions_total counter
pod_security_exemptions_total{request_operation="create",resource="pod",subresource=""} 1
`
	if err := testutil.GatherAndCompare(promReg, strings.NewReader(wantMetrics)); err != nil {
		t.Error(err)
	}

	// Deletes and other resources are not looked at.
	del := podCreate("enforced", "")
	del.Operation, del.Object, del.OldObject = registry.OpDelete, nil, del.Object
	if err := p.Validate(ctx, del); err != nil {
		t.Errorf("delete: %v", err)
	}
	cm := podCreate("enforced", "")
	cm.Resource, cm.Object = corev1.SchemeGroupVersion.WithResource("configmaps"), &corev1.ConfigMap{}
	if err := p.Validate(ctx, cm); err != nil {
		t.Errorf("configmap: %v", err)
	}
}

// BenchmarkValidatePod is what PodSecurity costs a pod create: a
// namespace read from the watch cache, then the checks of a level, in a
// privileged namespace (the short cut) and a restricted one.
func BenchmarkValidatePod(b *testing.B) {
	reg := cachedRegistry(b)
	namespace(b, reg, "privileged", nil)
	namespace(b, reg, "restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	p, err := podsecurity.New(podsecurity.Config{Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	ok := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers: []corev1.Container{{Name: "c", Image: "busybox", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}}}}
	for _, ns := range []string{"privileged", "restricted"} {
		a := podCreate(ns, "bob")
		a.Object = ok
		if err := p.Validate(b.Context(), a); err != nil { // and the cache has the namespace
			b.Fatal(err)
		}
		b.Run(ns, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Validate(b.Context(), a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestNamespaceCheckBounded: a new enforce level is checked against at
// most upstream's 3000 existing pods, which the warnings say.
func TestNamespaceCheckBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 3001 pods")
	}
	reg := cachedRegistry(t)
	ctx := t.Context()
	namespace(t, reg, "crowded", nil)
	pods, _ := reg.Lookup(corev1.SchemeGroupVersion.WithResource("pods"))
	const n = 3001
	for i := range n {
		spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}
		spec.HostNetwork = i == n-1 // the last one (by name) breaks baseline
		if _, err := pods.Create(ctx, "crowded", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%04d", i)}, Spec: spec},
			registry.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The watch cache has them all.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		list, err := pods.List(ctx, "crowded", &metainternalversion.ListOptions{ResourceVersion: "0"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.(*corev1.PodList).Items) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watch cache lags")
		}
	}
	p, err := podsecurity.New(podsecurity.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "crowded"}}
	labeled := old.DeepCopy()
	labeled.Labels = map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}
	var warnings []string
	wctx := registry.WithWarnings(ctx, func(m string) { warnings = append(warnings, m) })
	start := time.Now()
	if err := p.Validate(wctx, &registry.Attributes{Operation: registry.OpUpdate, Object: labeled, OldObject: old,
		Kind: corev1.SchemeGroupVersion.WithKind("Namespace"), Resource: corev1.SchemeGroupVersion.WithResource("namespaces"),
		Namespace: "crowded", Name: "crowded"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("a new enforce level checked against %d pods in %v", n, time.Since(start))
	// One warning: the violating pod, last by name, was left out.
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "new PodSecurity enforce level only checked against the first ") ||
		!strings.HasSuffix(warnings[0], " of 3001 existing pods") {
		t.Errorf("warnings: %q", warnings)
	}
}
