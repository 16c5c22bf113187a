package controller

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// Bootstrap creates what kube-apiserver creates at start when it is
// missing: the system namespaces, the system priority classes, and the
// default/kubernetes service, whose
// cluster IP is the first address of the network's cluster IP range and whose
// target port is securePort, with the default ServiceCIDR and the node
// port bitmap; the allocations of existing services are repaired (a data
// directory of an older regis has no IPAddresses). Existing objects are
// left alone. The local APIServices are registered (RegisterAPIServices).
func Bootstrap(ctx context.Context, reg *registry.Registry, securePort int32, network builtin.ServiceNetwork) error {
	if err := RegisterAPIServices(ctx, reg); err != nil {
		return err
	}
	// The APF configuration is there from the first request, as
	// kube-apiserver's /readyz waits for its first pass.
	if err := EnsureFlowControl(ctx, reg); err != nil {
		return err
	}
	nss := reg.Namespaces()
	if nss == nil {
		return nil
	}
	for _, name := range builtin.SystemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := nss.Create(ctx, "", ns, registry.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap: namespace %s: %w", name, err)
		}
	}
	if pcs, ok := reg.Lookup(schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"}); ok {
		for _, pc := range builtin.SystemPriorityClasses() {
			if _, err := pcs.Create(ctx, "", pc, registry.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("bootstrap: priority class %s: %w", pc.Name, err)
			}
		}
	}
	if err := builtin.EnsureAllocations(ctx, reg, network); err != nil {
		return err
	}
	svcs, ok := reg.Lookup(schema.GroupVersionResource{Version: "v1", Resource: "services"})
	if !ok {
		return nil
	}
	if _, err := svcs.Get(ctx, metav1.NamespaceDefault, "kubernetes", nil); err == nil {
		return nil
	}
	ip := network.KubernetesServiceIP().String()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: ip,
			Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443,
				TargetPort: intstr.FromInt32(securePort)}},
			SessionAffinity: corev1.ServiceAffinityNone,
			Type:            corev1.ServiceTypeClusterIP,
		},
	}
	if _, err := svcs.Create(ctx, metav1.NamespaceDefault, svc, registry.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		// Several servers starting on one etcd: another one may have taken
		// the first IP for the same service an instant before, and writes
		// the service next.
		for wait := 50 * time.Millisecond; wait < 5*time.Second; wait *= 2 {
			if _, getErr := svcs.Get(ctx, metav1.NamespaceDefault, "kubernetes", nil); getErr == nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		return fmt.Errorf("bootstrap: service default/kubernetes: %w", err)
	}
	return nil
}
