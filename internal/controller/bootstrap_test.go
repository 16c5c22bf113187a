package controller_test

import (
	"slices"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// bootstrap runs Bootstrap with the secure port given.
func bootstrap(t *testing.T, reg *registry.Registry, port int32) {
	t.Helper()
	if err := controller.Bootstrap(t.Context(), reg, port, builtin.DefaultServiceNetwork()); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
}

// revision returns etcd's revision: it moves on every write.
func revision(t *testing.T) int64 {
	t.Helper()
	resp, err := shared.Client(t).Get(t.Context(), prefixOf(t)+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}

// TestBootstrap checks what Bootstrap creates, as kube-apiserver does at
// start, and that a second call writes nothing.
func TestBootstrap(t *testing.T) {
	reg := newRegistry(t)
	bootstrap(t, reg, 6443)

	for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		ns := mustGet[*corev1.Namespace](t, reg.Namespaces(), "", name)
		if ns.Status.Phase != corev1.NamespaceActive || !slices.Equal(ns.Spec.Finalizers, []corev1.FinalizerName{corev1.FinalizerKubernetes}) {
			t.Errorf("namespace %s: phase %s, finalizers %v; want Active, [kubernetes]", name, ns.Status.Phase, ns.Spec.Finalizers)
		}
	}
	if n := count(t, reg.Namespaces(), ""); n != 4 {
		t.Errorf("%d namespaces, want the 4 system ones", n)
	}

	// kube-apiserver's two system priority classes.
	pcs := storeOf(t, reg, "scheduling.k8s.io/v1", "priorityclasses")
	for name, value := range map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000} {
		if pc := mustGet[*schedulingv1.PriorityClass](t, pcs, "", name); pc.Value != value || pc.GlobalDefault {
			t.Errorf("priority class %s: value %d, globalDefault %v", name, pc.Value, pc.GlobalDefault)
		}
	}

	svcs := storeOf(t, reg, "v1", "services")
	svc := mustGet[*corev1.Service](t, svcs, "default", "kubernetes")
	wantPorts := []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(6443)}}
	if svc.Spec.ClusterIP != "10.0.0.1" || !slices.Equal(svc.Spec.ClusterIPs, []string{"10.0.0.1"}) {
		t.Errorf("kubernetes service: cluster IP %s %v, want 10.0.0.1", svc.Spec.ClusterIP, svc.Spec.ClusterIPs)
	}
	if !slices.Equal(svc.Spec.Ports, wantPorts) {
		t.Errorf("kubernetes service: ports %+v, want %+v", svc.Spec.Ports, wantPorts)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.SessionAffinity != corev1.ServiceAffinityNone ||
		svc.Labels["component"] != "apiserver" || svc.Labels["provider"] != "kubernetes" || len(svc.Labels) != 2 {
		t.Errorf("kubernetes service: type %s, session affinity %s, labels %v", svc.Spec.Type, svc.Spec.SessionAffinity, svc.Labels)
	}

	// Its address, the default ServiceCIDR and the node port bitmap.
	ip := mustGet[*networkingv1.IPAddress](t, storeOf(t, reg, "networking.k8s.io/v1", "ipaddresses"), "", "10.0.0.1")
	if ref := ip.Spec.ParentRef; ref == nil || ref.Resource != "services" || ref.Namespace != "default" || ref.Name != "kubernetes" {
		t.Errorf("IPAddress 10.0.0.1: parent %+v, want services default/kubernetes", ip.Spec.ParentRef)
	}
	sc := mustGet[*networkingv1.ServiceCIDR](t, storeOf(t, reg, "networking.k8s.io/v1", "servicecidrs"), "", builtin.DefaultServiceCIDRName)
	if !slices.Equal(sc.Spec.CIDRs, []string{"10.0.0.0/24"}) || len(sc.Status.Conditions) != 1 ||
		sc.Status.Conditions[0].Type != networkingv1.ServiceCIDRConditionReady || sc.Status.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("ServiceCIDR: cidrs %v, conditions %+v; want 10.0.0.0/24, Ready", sc.Spec.CIDRs, sc.Status.Conditions)
	}
	resp, err := shared.Client(t).Get(t.Context(), prefixOf(t)+builtin.NodePortRangeKey)
	if err != nil || len(resp.Kvs) != 1 {
		t.Errorf("node port bitmap %s: %v %v", builtin.NodePortRangeKey, resp, err)
	}

	// Idempotent: existing objects are left alone, even the service of
	// another port.
	before := revision(t)
	bootstrap(t, reg, 7443)
	if after := revision(t); after != before {
		t.Errorf("a second Bootstrap wrote: revision %d, then %d", before, after)
	}
	if got := mustGet[*corev1.Service](t, svcs, "default", "kubernetes"); got.ResourceVersion != svc.ResourceVersion {
		t.Errorf("a second Bootstrap rewrote the kubernetes service: ports %+v", got.Spec.Ports)
	}
}

// Bootstrap recreates what is missing: a deleted kubernetes service, with
// the same address, and the IPAddress of an existing service (a data
// directory of an older regis has none).
func TestBootstrapRepairs(t *testing.T) {
	reg := newRegistry(t)
	bootstrap(t, reg, 6443)
	svcs := storeOf(t, reg, "v1", "services")
	ips := storeOf(t, reg, "networking.k8s.io/v1", "ipaddresses")

	del(t, svcs, "default", "kubernetes", metav1.DeleteOptions{})
	if get(t, ips, "", "10.0.0.1") != nil {
		t.Fatal("the address of the deleted kubernetes service is still allocated")
	}
	bootstrap(t, reg, 6443)
	if svc := mustGet[*corev1.Service](t, svcs, "default", "kubernetes"); svc.Spec.ClusterIP != "10.0.0.1" {
		t.Errorf("recreated kubernetes service: cluster IP %s, want 10.0.0.1", svc.Spec.ClusterIP)
	}

	web := create(t, svcs, "default", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
	del(t, ips, "", web.Spec.ClusterIP, metav1.DeleteOptions{})
	bootstrap(t, reg, 6443)
	ip := mustGet[*networkingv1.IPAddress](t, ips, "", web.Spec.ClusterIP)
	if ref := ip.Spec.ParentRef; ref == nil || ref.Namespace != "default" || ref.Name != "web" {
		t.Errorf("repaired IPAddress %s: parent %+v, want services default/web", web.Spec.ClusterIP, ip.Spec.ParentRef)
	}
}

// Over a table without namespaces, Bootstrap has nothing to do.
func TestBootstrapWithoutNamespaces(t *testing.T) {
	reg := newRegistry(t, func(cfg *registry.Config) {
		cfg.Resources = slices.DeleteFunc(cfg.Resources, func(r *registry.Resource) bool { return r.Resource == "namespaces" })
	})
	bootstrap(t, reg, 6443)
	if _, ok := reg.Lookup(corev1.SchemeGroupVersion.WithResource("services")); !ok {
		t.Fatal("no services in the table")
	}
	if n := count(t, storeOf(t, reg, "v1", "services"), ""); n != 0 {
		t.Errorf("%d services created without namespaces", n)
	}
}
