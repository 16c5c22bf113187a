package admission

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

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

var (
	servicesGVR       = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointSlicesGVR = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// resolveService returns the address of a ready endpoint of a service's
// port: upstream calls <service>.<namespace>.svc:<port>, which cluster
// DNS and kube-proxy resolve; regis has neither, so it reads the
// service's EndpointSlices (label kubernetes.io/service-name), as
// kube-proxy would, and picks the first ready address of the port.
func (c *Chain) resolveService(ctx context.Context, namespace, name string, port int32) (string, error) {
	svcs, ok := c.reg.Lookup(servicesGVR)
	if !ok {
		return "", fmt.Errorf("service %s/%s: services are not served", namespace, name)
	}
	obj, err := svcs.Get(ctx, namespace, name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = svcs.Get(ctx, namespace, name, &metav1.GetOptions{})
	}
	if err != nil {
		return "", err
	}
	svc, ok := cacheable.Unwrap(obj).(*corev1.Service)
	if !ok {
		return "", fmt.Errorf("service %s/%s: unexpected %T", namespace, name, obj)
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return "", fmt.Errorf("no service port %d found for service %q", port, name)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port))), nil
	}
	slices, ok := c.reg.Lookup(endpointSlicesGVR)
	if !ok {
		return "", fmt.Errorf("no endpoints available for service %q", name)
	}
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
	list, err := slices.List(ctx, namespace, &metainternalversion.ListOptions{LabelSelector: sel, ResourceVersion: "0"})
	if err != nil {
		return "", err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", err
	}
	for _, it := range items {
		es, ok := cacheable.Unwrap(it).(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		var target int32
		for _, p := range es.Ports {
			if p.Port != nil && (p.Name == nil && sp.Name == "" || p.Name != nil && *p.Name == sp.Name) {
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
			return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(target))), nil
		}
	}
	return "", fmt.Errorf("no endpoints available for service %q", name)
}
