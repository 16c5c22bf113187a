// Package resolve turns a Service reference of a webhook (admission or
// CRD conversion) into an address to dial. kube-apiserver dials the
// service's cluster IP (its ClusterIPServiceResolver) and lets kube-proxy
// route it; regis has no kube-proxy and no cluster DNS, so it dials a
// ready endpoint of the service's EndpointSlices (as upstream's
// --enable-aggregator-routing resolver), and the cluster IP only when the
// service has none. An ExternalName service is its external name. The
// TLS server name stays upstream's NAME.NAMESPACE.svc.
package resolve

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

var (
	servicesGVR       = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointSlicesGVR = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// Service returns the host:port to dial for port of the service
// namespace/name, read through reg (the watch cache first).
func Service(ctx context.Context, reg *registry.Registry, namespace, name string, port int32) (string, error) {
	services, ok := reg.Lookup(servicesGVR)
	if !ok {
		return "", fmt.Errorf("service %s/%s: services are not served", namespace, name)
	}
	obj, err := services.Get(ctx, namespace, name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) { // not in the cache yet: a consistent read
		obj, err = services.Get(ctx, namespace, name, &metav1.GetOptions{})
	}
	if apierrors.IsNotFound(err) {
		return "", apierrors.NewNotFound(schema.GroupResource{Resource: "service"}, name)
	}
	if err != nil {
		return "", err
	}
	svc, ok := cacheable.Unwrap(obj).(*corev1.Service)
	if !ok {
		return "", fmt.Errorf("service %s/%s: unexpected type %T", namespace, name, obj)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port))), nil
	}
	var svcPort *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			svcPort = &svc.Spec.Ports[i]
		}
	}
	if svcPort == nil {
		return "", fmt.Errorf("no service port %d found for service %q", port, name)
	}
	if addr, ok := readyEndpoint(ctx, reg, namespace, name, svcPort.Name); ok {
		return addr, nil
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return "", fmt.Errorf("no endpoints available for service %q", name)
	}
	return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(port))), nil
}

// readyEndpoint returns the address and port of the first ready endpoint
// of a service's EndpointSlices serving the port named portName.
func readyEndpoint(ctx context.Context, reg *registry.Registry, namespace, service, portName string) (string, bool) {
	slices, ok := reg.Lookup(endpointSlicesGVR)
	if !ok {
		return "", false
	}
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: service})
	list, err := slices.List(ctx, namespace, &metainternalversion.ListOptions{LabelSelector: sel, ResourceVersion: "0"})
	if err != nil {
		return "", false
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", false
	}
	for _, it := range items {
		es, ok := cacheable.Unwrap(it).(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		var target int32
		for _, p := range es.Ports {
			if p.Port != nil && (p.Name == nil && portName == "" || p.Name != nil && *p.Name == portName) {
				target = *p.Port
			}
		}
		if target == 0 {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
				continue
			}
			return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(target))), true
		}
	}
	return "", false
}
