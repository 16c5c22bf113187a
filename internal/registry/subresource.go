package registry

import (
	"context"
	"net/url"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SubresourceRule is a subresource of a row beyond status, scale and a
// namespace's finalize. It is one of three shapes, by which of its
// functions are set:
//   - a view of the object (pods/ephemeralcontainers, pods/resize): get,
//     update and patch of the whole object, of which an update writes only
//     what Apply takes from the sent object (UpdateView);
//   - an action (pods/binding, pods/eviction): a POST of a request object
//     of Kind, answered by Create;
//   - a connection (pods/log, exec, attach, portforward, proxy): answered
//     by Connect, which regis cannot forward anywhere (no kubelet).
type SubresourceRule struct {
	// Name is the subresource's path segment.
	Name string
	// Kind is the kind discovery names for it; an empty group and version
	// mean the row's own.
	Kind schema.GroupVersionKind
	// Verbs are the verbs discovery lists, sorted.
	Verbs []string

	// Apply copies into next (a copy of the stored object carrying the
	// sent object's metadata) what the view writes of sent.
	Apply func(next, sent runtime.Object)
	// ValidateUpdate checks the new object of a view against the stored
	// one; it replaces the row's validation.
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList

	// New makes an empty request object of Kind for an action; Accepts
	// lists further group-versions it may be sent in (policy/v1beta1
	// Evictions).
	New     func() runtime.Object
	Accepts []schema.GroupVersion
	// Create performs an action on the object namespace/name of st and
	// returns the answer (a Status or an object).
	Create func(ctx context.Context, st *Store, namespace, name string, req runtime.Object, opts CreateOptions) (runtime.Object, error)

	// Connect finds where a connection to the object goes, or returns the
	// error upstream answers; a nil target with no error means there is
	// nothing to connect to (the log of a pod no node runs).
	Connect func(ctx context.Context, st *Store, namespace, name string, req ConnectRequest) (*ConnectTarget, error)
}

// ConnectRequest is what a connection subresource is asked.
type ConnectRequest struct {
	// Method is the HTTP method; Path what follows the subresource.
	Method, Path string
	// Query holds the request's query parameters.
	Query url.Values
}

// ConnectMode says how the API layer forwards a connection.
type ConnectMode int

const (
	// ConnectStream streams the body of a GET of the target (pods/log).
	ConnectStream ConnectMode = iota
	// ConnectUpgrade tunnels an upgraded connection (exec, attach,
	// portforward); the request must ask for an upgrade.
	ConnectUpgrade
	// ConnectProxy forwards the request as it is (proxy).
	ConnectProxy
)

// ConnectTarget is where a connection goes.
type ConnectTarget struct {
	URL  *url.URL
	Mode ConnectMode
	// InsecureSkipVerify skips the verification of the target's serving
	// certificate (kubelets, as kube-apiserver without
	// --kubelet-certificate-authority).
	InsecureSkipVerify bool
}

// IsView reports a view of the object (get, update, patch).
func (r *SubresourceRule) IsView() bool { return r.Apply != nil }

// IsAction reports an action (create).
func (r *SubresourceRule) IsAction() bool { return r.Create != nil }

// IsConnect reports a connection.
func (r *SubresourceRule) IsConnect() bool { return r.Connect != nil }

// SubresourceRule returns the rule of the subresource name, nil when the
// row has none.
func (r *Resource) SubresourceRule(name string) *SubresourceRule {
	for i := range r.Subresources {
		if r.Subresources[i].Name == name {
			return &r.Subresources[i]
		}
	}
	return nil
}
