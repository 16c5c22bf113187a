package openapi

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is one group-version regis serves: upstream's web service
// of "/api/v1" or "/apis/GROUP/VERSION".
type GroupVersion struct {
	schema.GroupVersion
	// Resources are the storages of the group-version, subresources
	// included, in any order.
	Resources []Resource
}

// Prefix is the root path of the group-version ("/api/v1",
// "/apis/apps/v1").
func (gv GroupVersion) Prefix() string {
	if gv.Group == "" {
		return "/api/" + gv.Version
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

// Resource is one storage of a group-version as upstream's installer sees
// it: which interfaces it implements (getter, lister, connecter...)
// decides its routes.
type Resource struct {
	// Path is the resource ("pods") or the subresource ("pods/status").
	Path string
	// Kind is the kind of the storage's objects (upstream's
	// fqKindToRegister): the row's kind, autoscaling/v1 Scale for /scale,
	// policy/v1 Eviction for pods/eviction, the options kind of a
	// connection (v1 PodExecOptions). Routes carry it as their
	// x-kubernetes-group-version-kind.
	Kind schema.GroupVersionKind
	// ParentKind, for a subresource, is the kind of its resource, which
	// names its operations ("readNamespacedPodStatus").
	ParentKind string
	// Namespaced is the scope of the resource (of the parent for a
	// subresource).
	Namespaced bool
	// Object is a value of Kind's Go type, List of its list type (nil
	// when the storage does not list).
	Object, List any
	// Verbs are the verbs the storage implements among get, list, watch,
	// create, update, patch, delete and deletecollection.
	Verbs []string
	// ConnectMethods are the HTTP methods of a connecter (pods/exec: GET
	// and POST); Subpath adds its {path:*} routes (proxies).
	ConnectMethods []string
	Subpath        bool
	// Options is a value of the options type of a getter with options
	// (pods/log: PodLogOptions) or of a connecter: its fields are query
	// parameters.
	Options any
	// Produces are the MIME types a getter answers before the
	// serializer's (pods/log: text/plain); Produced, when set, is what it
	// answers in place of Object (pods/log: a string).
	Produces []string
	Produced any
	// DeleteReturnsObject is true when a DELETE answers the object rather
	// than a Status.
	DeleteReturnsObject bool
}

func (r *Resource) has(verb string) bool { return slices.Contains(r.Verbs, verb) }

// split returns the resource and the subresource of the path.
func (r *Resource) split() (resource, subresource string) {
	for i := range len(r.Path) {
		if r.Path[i] == '/' {
			return r.Path[:i], r.Path[i+1:]
		}
	}
	return r.Path, ""
}
