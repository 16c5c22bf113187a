package builtin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/regis-dev/regis/internal/registry"
)

// serviceProxy is services/proxy: the request forwarded to one ready
// endpoint of the service (upstream's service ResourceLocation over its
// EndpointSlices).
var serviceProxy = registry.SubresourceRule{Name: "proxy", Verbs: proxyVerbs,
	Kind: corev1.SchemeGroupVersion.WithKind("ServiceProxyOptions"), Connect: connectServiceProxy}

var (
	endpointSlicesGVR = discoveryv1.SchemeGroupVersion.WithResource("endpointslices")
	podsGVR           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

func connectServiceProxy(ctx context.Context, st *registry.Store, namespace, id string, req registry.ConnectRequest) (*registry.ConnectTarget, error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid service request %q", id))
	}
	if n, err := strconv.ParseInt(port, 10, 64); err == nil {
		obj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		found := false
		for _, p := range obj.(*corev1.Service).Spec.Ports {
			if int64(p.Port) == n {
				port, found = p.Name, true
				break
			}
		}
		if !found {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %d found for service %q", n, name))
		}
	}
	noEndpoints := apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", name))
	slices, ok := st.Registry().Lookup(endpointSlicesGVR)
	if !ok {
		return nil, noEndpoints
	}
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})
	list, err := slices.List(ctx, namespace, &metainternalversion.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var hosts []string
	for _, s := range list.(*discoveryv1.EndpointSliceList).Items {
		hosts = append(hosts, sliceHosts(ctx, st.Registry(), namespace, &s, port)...)
	}
	if len(hosts) == 0 {
		return nil, noEndpoints
	}
	return proxyTarget(scheme, hosts[rand.IntN(len(hosts))], req.Path), nil
}

// sliceHosts returns host:port of the ready endpoints of a slice on the
// port named port whose address is their pod's (upstream's
// isValidAddress).
func sliceHosts(ctx context.Context, reg *registry.Registry, namespace string, s *discoveryv1.EndpointSlice, port string) []string {
	var portNum int32
	found := false
	for _, p := range s.Ports {
		if p.Port != nil && (p.Name == nil && port == "" || p.Name != nil && *p.Name == port) {
			portNum, found = *p.Port, true
			break
		}
	}
	if !found {
		return nil
	}
	pods, _ := reg.Lookup(podsGVR)
	var out []string
	for _, ep := range s.Endpoints {
		if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 || ep.TargetRef == nil ||
			ep.TargetRef.Namespace != namespace || pods == nil {
			continue
		}
		obj, err := pods.Get(ctx, namespace, ep.TargetRef.Name, &metav1.GetOptions{})
		if err != nil {
			continue
		}
		for _, ip := range obj.(*corev1.Pod).Status.PodIPs {
			if ip.IP == ep.Addresses[0] {
				out = append(out, net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(portNum))))
				break
			}
		}
	}
	return out
}

// nodeProxy is nodes/proxy: the request forwarded to the node's kubelet,
// or to another port of the node.
var nodeProxy = registry.SubresourceRule{Name: "proxy", Verbs: proxyVerbs,
	Kind: corev1.SchemeGroupVersion.WithKind("NodeProxyOptions"), Connect: connectNodeProxy}

func connectNodeProxy(ctx context.Context, st *registry.Store, _, id string, req registry.ConnectRequest) (*registry.ConnectTarget, error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	obj, err := st.Get(ctx, "", name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	node := obj.(*corev1.Node)
	host, err := preferredAddress(node)
	if err != nil {
		return nil, err
	}
	if err := proxyableHost(ctx, host); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	kubelet := kubeletPort(node)
	if port == "" || port == kubelet {
		t := proxyTarget("https", net.JoinHostPort(host, kubelet), req.Path)
		t.InsecureSkipVerify = true
		return t, nil
	}
	return proxyTarget(scheme, net.JoinHostPort(host, port), req.Path), nil
}

// proxyableHost is upstream's isProxyableHostname: every address of the
// host must be global unicast.
func proxyableHost(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("no addresses for hostname")
	}
	for _, a := range addrs {
		if !a.IP.IsGlobalUnicast() {
			return fmt.Errorf("address not allowed")
		}
	}
	return nil
}
