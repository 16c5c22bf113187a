package builtin

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The connection subresources of pods, services and nodes: log, exec,
// attach, portforward and proxy. regis runs no kubelet; it finds where
// kube-apiserver would connect, with its answers when there is nowhere
// (a pod no node runs, a missing node, an address a proxy may not reach),
// and the API layer connects there as kube-apiserver does.

// connectVerbs are the verbs discovery lists for exec, attach and
// portforward (GET and POST), and for proxy (every method).
var (
	streamVerbs = []string{"create", "get"}
	proxyVerbs  = []string{"create", "delete", "get", "patch", "update"}
)

// defaultKubeletPort is the kubelet's port when a node reports none.
const defaultKubeletPort = 10250

// preferredAddressTypes is kube-apiserver's default
// --kubelet-preferred-address-types.
var preferredAddressTypes = []corev1.NodeAddressType{corev1.NodeHostName, corev1.NodeInternalDNS,
	corev1.NodeInternalIP, corev1.NodeExternalDNS, corev1.NodeExternalIP}

var nodesGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}

// getPod returns the pod namespace/name of st.
func getPod(ctx context.Context, st *registry.Store, namespace, name string) (*corev1.Pod, error) {
	obj, err := st.Get(ctx, namespace, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// kubeletLocation is where the kubelet of a node listens, as upstream's
// NodeConnectionInfoGetter finds it. A missing node is reported as
// upstream's getter does, as a pod of the node's name.
func kubeletLocation(ctx context.Context, reg *registry.Registry, nodeName string) (*url.URL, error) {
	nodes, ok := reg.Lookup(nodesGVR)
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, nodeName)
	}
	obj, err := nodes.Get(ctx, "", nodeName, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, nodeName)
	}
	if err != nil {
		return nil, err
	}
	node := obj.(*corev1.Node)
	host, err := preferredAddress(node)
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, kubeletPort(node))}, nil
}

// kubeletPort is the port the node's kubelet reports, or the default.
func kubeletPort(node *corev1.Node) string {
	if p := node.Status.DaemonEndpoints.KubeletEndpoint.Port; p > 0 {
		return strconv.Itoa(int(p))
	}
	return strconv.Itoa(defaultKubeletPort)
}

// preferredAddress is upstream's nodeutil.GetPreferredNodeAddress.
func preferredAddress(node *corev1.Node) (string, error) {
	for _, t := range preferredAddressTypes {
		for _, a := range node.Status.Addresses {
			if a.Type == t {
				return a.Address, nil
			}
		}
		if t == corev1.NodeHostName && node.Labels[corev1.LabelHostname] != "" {
			return node.Labels[corev1.LabelHostname], nil
		}
	}
	return "", fmt.Errorf("no preferred addresses found; known addresses: %v", node.Status.Addresses)
}

// podLog is pods/log: a GET of the kubelet's containerLogs.
var podLog = registry.SubresourceRule{Name: "log", Verbs: []string{"get"}, Connect: connectLog}

func connectLog(ctx context.Context, st *registry.Store, namespace, name string, req registry.ConnectRequest) (*registry.ConnectTarget, error) {
	opts := &corev1.PodLogOptions{}
	if err := decodeQuery(req.Query, opts); err != nil {
		return nil, err
	}
	if errs := validatePodLogOptions(opts); len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, name, errs)
	}
	pod, err := getPod(ctx, st, namespace, name)
	if err != nil {
		return nil, err
	}
	container, err := logContainer(opts.Container, pod)
	if err != nil {
		return nil, err
	}
	if pod.Spec.NodeName == "" {
		return nil, nil
	}
	loc, err := kubeletLocation(ctx, st.Registry(), pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	for _, p := range []struct {
		key string
		set bool
		val string
	}{
		{"follow", opts.Follow, "true"},
		{"previous", opts.Previous, "true"},
		{"timestamps", opts.Timestamps, "true"},
	} {
		if p.set {
			params.Add(p.key, p.val)
		}
	}
	if opts.SinceSeconds != nil {
		params.Add("sinceSeconds", strconv.FormatInt(*opts.SinceSeconds, 10))
	}
	if opts.SinceTime != nil {
		params.Add("sinceTime", opts.SinceTime.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
	if opts.TailLines != nil {
		params.Add("tailLines", strconv.FormatInt(*opts.TailLines, 10))
	}
	if opts.LimitBytes != nil {
		params.Add("limitBytes", strconv.FormatInt(*opts.LimitBytes, 10))
	}
	loc.Path = fmt.Sprintf("/containerLogs/%s/%s/%s", pod.Namespace, pod.Name, container)
	loc.RawQuery = params.Encode()
	return &registry.ConnectTarget{URL: loc, Mode: registry.ConnectStream, InsecureSkipVerify: true}, nil
}

// validatePodLogOptions is upstream's ValidatePodLogOptions with its
// PodLogsQuerySplitStreams gate off (1.37's default).
func validatePodLogOptions(o *corev1.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if o.TailLines != nil && *o.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *o.TailLines, "must be greater than or equal to 0"))
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *o.LimitBytes, "must be greater than 0"))
	}
	switch {
	case o.SinceSeconds != nil && o.SinceTime != nil:
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *o.SinceSeconds, "must be greater than 0"))
	}
	if o.Stream != nil {
		errs = append(errs, field.Forbidden(field.NewPath("stream"), "may not be specified"))
	}
	return errs
}

// logContainer is upstream's validateContainer: the named container, or
// the pod's only one.
func logContainer(container string, pod *corev1.Pod) (string, error) {
	if container == "" {
		switch len(pod.Spec.Containers) {
		case 1:
			return pod.Spec.Containers[0].Name, nil
		case 0:
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
		}
		var names []string
		for _, c := range pod.Spec.InitContainers {
			names = append(names, c.Name)
		}
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
		}
		for _, c := range pod.Spec.EphemeralContainers {
			names = append(names, c.Name)
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, names))
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == container {
			return container, nil
		}
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == container {
			return container, nil
		}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		if c.Name == container {
			return container, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, pod.Name))
}

// podStream makes the rule of exec, attach or portforward: an upgraded
// connection to the kubelet of the pod's node.
func podStream(name string) registry.SubresourceRule {
	kinds := map[string]string{"exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions"}
	return registry.SubresourceRule{Name: name, Verbs: streamVerbs, Kind: corev1.SchemeGroupVersion.WithKind(kinds[name]),
		Connect: func(ctx context.Context, st *registry.Store, namespace, pod string, req registry.ConnectRequest) (*registry.ConnectTarget, error) {
			p, err := getPod(ctx, st, namespace, pod)
			if err != nil {
				return nil, err
			}
			if p.Spec.NodeName == "" {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", p.Name))
			}
			loc, err := kubeletLocation(ctx, st.Registry(), p.Spec.NodeName)
			if err != nil {
				return nil, err
			}
			loc.Path = fmt.Sprintf("/%s/%s/%s", name, p.Namespace, p.Name)
			if name == "exec" || name == "attach" {
				container := req.Query.Get("container")
				if container, err = logContainer(container, p); err != nil {
					return nil, err
				}
				loc.Path += "/" + container
			}
			loc.RawQuery = url.Values(req.Query).Encode()
			return &registry.ConnectTarget{URL: loc, Mode: registry.ConnectUpgrade, InsecureSkipVerify: true}, nil
		}}
}

// podProxy is pods/proxy: the request forwarded to the pod's IP.
var podProxy = registry.SubresourceRule{Name: "proxy", Verbs: proxyVerbs, Kind: corev1.SchemeGroupVersion.WithKind("PodProxyOptions"),
	Connect: connectPodProxy}

func connectPodProxy(ctx context.Context, st *registry.Store, namespace, id string, req registry.ConnectRequest) (*registry.ConnectTarget, error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid pod request %q", id))
	}
	pod, err := getPod(ctx, st, namespace, name)
	if err != nil {
		return nil, err
	}
	if port == "" {
		for _, c := range pod.Spec.Containers {
			if len(c.Ports) > 0 {
				port = strconv.Itoa(int(c.Ports[0].ContainerPort))
				break
			}
		}
	}
	ip := pod.Status.PodIP
	if len(pod.Status.PodIPs) > 0 {
		ip = pod.Status.PodIPs[0].IP
	}
	if !globalUnicast(ip) {
		return nil, apierrors.NewBadRequest("address not allowed")
	}
	host := ip
	if port != "" {
		host = net.JoinHostPort(ip, port)
	} else if strings.Contains(ip, ":") {
		host = "[" + ip + "]"
	}
	return proxyTarget(scheme, host, req.Path), nil
}

// globalUnicast reports an address a proxy may reach (upstream's
// IsGlobalUnicast check).
func globalUnicast(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && net.IP(a.AsSlice()).IsGlobalUnicast()
}

func proxyTarget(scheme, host, p string) *registry.ConnectTarget {
	if scheme == "" {
		scheme = "http"
	}
	u := &url.URL{Scheme: scheme, Host: host, Path: joinPreservingSlash("/", p)}
	return &registry.ConnectTarget{URL: u, Mode: registry.ConnectProxy}
}

// joinPreservingSlash joins paths keeping a trailing slash, as upstream's
// net.JoinPreservingTrailingSlash.
func joinPreservingSlash(elem ...string) string {
	result := path.Join(elem...)
	if last := elem[len(elem)-1]; strings.HasSuffix(last, "/") && !strings.HasSuffix(result, "/") {
		result += "/"
	}
	return result
}
