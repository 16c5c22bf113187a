package registry

import (
	"fmt"
	"path"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// specialPrefixes are the built-in resources whose etcd prefix is not their
// name (kubernetes/pkg/kubeapiserver/default_storage_factory_builder.go,
// SpecialDefaultResourcePrefixes).
var specialPrefixes = map[schema.GroupResource]string{
	{Group: "", Resource: "replicationcontrollers"}:     "controllers",
	{Group: "", Resource: "endpoints"}:                  "services/endpoints",
	{Group: "", Resource: "nodes"}:                      "minions",
	{Group: "", Resource: "services"}:                   "services/specs",
	{Group: "extensions", Resource: "ingresses"}:        "ingress",
	{Group: "networking.k8s.io", Resource: "ingresses"}: "ingress",
}

// builtinGroups are the API groups kube-apiserver serves itself, from its own
// storage factory. apiextensions.k8s.io and apiregistration.k8s.io are not
// among them: the embedded apiextensions and aggregator servers store CRDs and
// APIServices the way custom resources are stored.
var builtinGroups = map[string]bool{
	"":                             true,
	"admissionregistration.k8s.io": true,
	"apps":                         true,
	"authentication.k8s.io":        true,
	"authorization.k8s.io":         true,
	"autoscaling":                  true,
	"batch":                        true,
	"certificates.k8s.io":          true,
	"coordination.k8s.io":          true,
	"discovery.k8s.io":             true,
	"events.k8s.io":                true,
	"extensions":                   true,
	"flowcontrol.apiserver.k8s.io": true,
	"internal.apiserver.k8s.io":    true,
	"lifecycle.k8s.io":             true,
	"networking.k8s.io":            true,
	"node.k8s.io":                  true,
	"policy":                       true,
	"rbac.authorization.k8s.io":    true,
	"resource.k8s.io":              true,
	"scheduling.k8s.io":            true,
	"storage.k8s.io":               true,
	"storagemigration.k8s.io":      true,
}

// IsBuiltinGroup reports whether group is one of kube-apiserver's own API
// groups, whose resources are stored without the group in the key. It is
// false for apiextensions.k8s.io, apiregistration.k8s.io and custom groups.
func IsBuiltinGroup(group string) bool { return builtinGroups[group] }

// ResourcePrefix returns the etcd prefix of a resource, without slashes, as
// kube-apiserver computes it: the special prefixes ("minions",
// "services/specs", "services/endpoints", "controllers", "ingress"), else the
// lower-cased resource name for built-in groups ("deployments", whatever the
// group: cohabiting resources such as extensions deployments or events.k8s.io
// events share the keys of apps and core), else "<group>/<resource>" (CRDs,
// APIServices and custom resources).
func ResourcePrefix(gr schema.GroupResource) string {
	if p, ok := specialPrefixes[gr]; ok {
		return p
	}
	if IsBuiltinGroup(gr.Group) {
		return strings.ToLower(gr.Resource)
	}
	return gr.Group + "/" + gr.Resource
}

// EtcdPathPrefix returns the etcd key prefix for an --etcd-prefix value,
// always rooted and ending in "/": "/registry" and "registry/" give
// "/registry/", "" gives "/". The etcd key of store key k is
// EtcdPathPrefix(p) + k[1:].
func EtcdPathPrefix(etcdPrefix string) string {
	p := path.Join("/", etcdPrefix)
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// RootKey returns the store key under which all objects of the resource with
// the given prefix live ("/pods"): the key of a cluster-wide list or watch.
// prefix is a ResourcePrefix; surrounding slashes are ignored.
func RootKey(prefix string) string { return "/" + strings.Trim(prefix, "/") }

// NamespaceRootKey returns the store key of the objects of one namespace
// ("/pods/default"), or RootKey(prefix) when namespace is empty (all
// namespaces), as upstream's NamespaceKeyRootFunc. An invalid namespace is a
// BadRequest error.
func NamespaceRootKey(prefix, namespace string) (string, error) {
	if namespace == "" {
		return RootKey(prefix), nil
	}
	if err := validateNamespace(namespace); err != nil {
		return "", err
	}
	return RootKey(prefix) + "/" + namespace, nil
}

// NamespaceKey returns the store key of a namespaced object,
// "/<prefix>/<namespace>/<name>". A missing namespace or name, or one that is
// not a safe path segment, is refused with a BadRequest error carrying
// upstream's message (NamespaceKeyFunc in k8s.io/apiserver's generic
// registry), so nothing reaches etcd.
func NamespaceKey(prefix, namespace, name string) (string, error) {
	if namespace == "" {
		return "", apierrors.NewBadRequest("Namespace parameter required.")
	}
	if err := validateName(name); err != nil {
		return "", err
	}
	if err := validateNamespace(namespace); err != nil {
		return "", err
	}
	return RootKey(prefix) + "/" + namespace + "/" + name, nil
}

// ClusterKey returns the store key of a cluster-scoped object,
// "/<prefix>/<name>". The name is checked as NamespaceKey checks it.
func ClusterKey(prefix, name string) (string, error) {
	if err := validateName(name); err != nil {
		return "", err
	}
	return RootKey(prefix) + "/" + name, nil
}

// validateName refuses names that would escape or alias the key space, with
// upstream's messages ("Name parameter invalid: ".": may not be '.'").
func validateName(name string) error {
	if name == "" {
		return apierrors.NewBadRequest("Name parameter required.")
	}
	if msgs := content.IsPathSegmentName(name); len(msgs) > 0 {
		return apierrors.NewBadRequest(fmt.Sprintf("Name parameter invalid: %q: %s", name, strings.Join(msgs, ";")))
	}
	return nil
}

// validateNamespace refuses namespaces that are not safe path segments.
// Upstream relies on request parsing for this; regis checks it here too, in
// the same message format as names.
func validateNamespace(namespace string) error {
	if msgs := content.IsPathSegmentName(namespace); len(msgs) > 0 {
		return apierrors.NewBadRequest(fmt.Sprintf("Namespace parameter invalid: %q: %s", namespace, strings.Join(msgs, ";")))
	}
	return nil
}
