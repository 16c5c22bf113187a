package builtin_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// A dry-run create of a service answers what a real one would get (a
// cluster IP of the range, IP families, node ports) and checks what it
// asks for against what is taken, as upstream's dry-run allocators, but
// reserves nothing.
func TestServiceDryRunAllocation(t *testing.T) {
	reg := newRegistry(t)
	svcs, _ := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "services"})
	ips, _ := reg.Lookup(schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ipaddresses"})
	ctx := t.Context()
	svc := func(name, ip string, nodePort int32) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{Port: 80, NodePort: nodePort}}}}
		if nodePort != 0 {
			s.Spec.Type = corev1.ServiceTypeNodePort
		}
		return s
	}
	countIPs := func() int {
		l, err := ips.List(ctx, "", &metainternalversion.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.(*networkingv1.IPAddressList).Items)
	}
	if _, err := svcs.Create(ctx, "default", svc("taken", "10.0.0.50", 30080), registry.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := countIPs()

	out, err := svcs.Create(ctx, "default", svc("dry", "", 0), registry.CreateOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Service)
	if !strings.HasPrefix(got.Spec.ClusterIP, "10.0.0.") || len(got.Spec.ClusterIPs) != 1 || len(got.Spec.IPFamilies) != 1 ||
		got.Spec.IPFamilyPolicy == nil || *got.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		t.Errorf("dry run answered clusterIP %q %v, families %v, policy %v", got.Spec.ClusterIP, got.Spec.ClusterIPs, got.Spec.IPFamilies, got.Spec.IPFamilyPolicy)
	}
	if _, err := svcs.Get(ctx, "default", "dry", nil); !apierrors.IsNotFound(err) {
		t.Errorf("the dry run stored the service: %v", err)
	}
	if _, err := ips.Get(ctx, "", got.Spec.ClusterIP, nil); !apierrors.IsNotFound(err) {
		t.Errorf("the dry run reserved %s: %v", got.Spec.ClusterIP, err)
	}

	for _, tt := range []struct {
		name, ip string
		port     int32
		want     string
	}{
		{"taken address", "10.0.0.50", 0, "failed to allocate IP 10.0.0.50: provided IP is already allocated"},
		{"taken node port", "", 30080, "provided port is already allocated"},
	} {
		_, err := svcs.Create(ctx, "default", svc("dry2", tt.ip, tt.port), registry.CreateOptions{DryRun: true})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want 422 with %q", tt.name, err, tt.want)
		}
	}
	if _, err := svcs.Create(ctx, "default", svc("dry3", "10.0.0.60", 30090), registry.CreateOptions{DryRun: true}); err != nil {
		t.Errorf("a free address and port: %v", err)
	}
	if after := countIPs(); after != before {
		t.Errorf("%d IPAddresses after the dry runs, %d before", after, before)
	}
	// What the dry run checked is still free.
	if _, err := svcs.Create(ctx, "default", svc("real", "10.0.0.60", 30090), registry.CreateOptions{}); err != nil {
		t.Errorf("the address and port a dry run checked: %v", err)
	}
}
