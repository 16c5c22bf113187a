package registry

import (
	"context"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Resource is one row of the resource table: everything regis needs to
// serve, store and print one kind of object. Rows are data (DESIGN decision
// 4); behaviour common to every resource lives in the generic Store, and
// the few functions a row carries (defaulting, validation, extra fields,
// printer cells) are the only per-kind code.
type Resource struct {
	// Group, Version and Resource (plural, lower case) name the resource
	// as clients address it.
	Group, Version, Resource string
	// Kind is the object kind; the list kind is Kind + "List".
	Kind string
	// Singular is the singular name (lower-cased Kind when empty).
	Singular string
	// Namespaced is false for cluster-scoped resources.
	Namespaced bool
	// ShortNames and Categories are advertised in discovery ("po", "all").
	ShortNames, Categories []string

	// Prefix is the etcd resource prefix without slashes; empty means
	// ResourcePrefix(GroupResource()).
	Prefix string
	// StorageVersion is the group-version objects are stored at; empty
	// means the served version. Only a resource whose Convert is set may
	// differ (events.k8s.io events are stored as core v1 Events).
	StorageVersion schema.GroupVersion

	// New and NewList make empty objects of the served version.
	New, NewList func() runtime.Object

	// Fields returns the selectable fields beyond metadata.name and
	// metadata.namespace (pods' spec.nodeName, secrets' type). Nil means
	// none.
	Fields func(obj runtime.Object) fields.Set
	// NoNamespaceFieldLabel: a field selector naming metadata.namespace
	// is refused, as by upstream's field label conversion function of
	// pod certificate requests (the store still selects on it).
	NoNamespaceFieldLabel bool

	// Status is true when the resource has a /status subresource: writes to
	// the main resource keep the stored status and writes to /status change
	// only the status.
	Status bool
	// Scale, when set, serves a /scale subresource.
	Scale *ScaleRule
	// Subresources are the row's further subresources, in the order
	// discovery lists them after status and scale.
	Subresources []SubresourceRule
	// Generation is true when metadata.generation starts at 1 and is bumped
	// on every change outside metadata and status.
	Generation bool
	// AllowCreateOnUpdate lets a PUT of a missing object create it.
	AllowCreateOnUpdate bool
	// RequireResourceVersion refuses an update without
	// metadata.resourceVersion (422), as the upstream strategies whose
	// AllowUnconditionalUpdate is false (leases, PodDisruptionBudgets);
	// otherwise such an update applies to the stored object, whatever its
	// version.
	RequireResourceVersion bool
	// ReturnDeletedObject makes DELETE answer with the deleted object
	// rather than a Status.
	ReturnDeletedObject bool
	// NoDeleteCollection is true when the resource does not serve
	// deletecollection (namespaces, whose upstream storage is no
	// CollectionDeleter): discovery leaves the verb out and a DELETE of the
	// collection is answered 405 MethodNotAllowed.
	NoDeleteCollection bool
	// DefaultPropagation is the propagation policy of a delete that names
	// none (upstream's DefaultGarbageCollectionPolicy): Orphan for the
	// kinds that kept their dependents before garbage collection (core/v1
	// replication controllers, batch/v1 jobs); empty means Background.
	DefaultPropagation metav1.DeletionPropagation
	// DeleteWarning, when set, is sent as a Warning header with a delete
	// or deletecollection that names no propagation policy (jobs, whose
	// pods such a delete orphans).
	DeleteWarning string
	// Deprecation, when set, is the warning every request on the
	// resource gets (upstream's deprecated-API warning: core/v1
	// Endpoints).
	Deprecation string
	// AdmitDelete, when set, may refuse the deletion of an object by name
	// before anything else is looked at, as an admission plugin does (the
	// NamespaceLifecycle plugin keeps default, kube-system and
	// kube-public); dry runs are refused alike.
	AdmitDelete func(namespace, name string) error
	// AdmitCreate, when set, may refuse a new object (a create, or an
	// update or apply that creates) after its namespace was checked
	// (custom resources of a CRD being deleted).
	AdmitCreate func(name string) error
	// CheckWrite, when set, may refuse a create (old nil) or an update of
	// the main resource with the request's context (its user), after
	// mutating admission and before validation, where upstream's RBAC
	// storage checks privilege escalation.
	CheckWrite func(ctx context.Context, obj, old runtime.Object) error
	// TTL is the time to live of the objects in seconds (events: 3600);
	// 0 keeps them forever.
	TTL uint64

	// NameValidation checks metadata.name (DNS subdomain when nil).
	NameValidation func(name string, prefix bool) []string
	// Default sets the defaults of a decoded object, as upstream's
	// generated defaulters do for every request body.
	Default func(obj runtime.Object)
	// PrepareForCreate sets what the server decides on create (a pod's
	// status, a job's selector); it runs after Default and before Validate.
	PrepareForCreate func(obj runtime.Object)
	// PrepareForCreateWarnings, when set, runs instead of PrepareForCreate
	// and returns the warnings upstream's strategy adds there: the client
	// gets them even when the object is then refused.
	PrepareForCreateWarnings func(obj runtime.Object) []string
	// PrepareForUpdate does the same on update, with the stored object.
	PrepareForUpdate func(obj, old runtime.Object)
	// PrepareForStatusUpdate, when set, runs on a write to /status after
	// everything but the status and the metadata was taken from the stored
	// object: it puts back the metadata the resource's upstream status
	// strategy does not let /status change (a pod's owner references, a
	// deployment's labels, or all that metav1.ResetObjectMetaForStatus
	// resets). Nil keeps the metadata sent, as the strategies of the older
	// core, apps and batch kinds do.
	PrepareForStatusUpdate func(obj, old runtime.Object)
	// ResetFields are the fields upstream's strategy of a subresource (""
	// for the main resource, "status", "approval", "finalize") resets: a
	// write there does not change them and its field manager does not own
	// them (GetResetFields), as dotted paths ("metadata.labels"). A
	// subresource not listed follows the common rule: the main resource
	// resets the status, /status every top-level field but the metadata
	// and the status.
	ResetFields map[string][]string
	// Validate checks the object, metadata excluded, on create and on every
	// update (status and finalize included). Nil accepts anything.
	Validate func(obj runtime.Object) field.ErrorList
	// ValidateCreate checks what upstream checks on create only (a pod
	// disruption budget's spec, an ingress's class annotation); its errors
	// come after Validate's.
	ValidateCreate func(obj runtime.Object) field.ErrorList
	// ValidateUpdate checks an update beyond Validate (immutable fields).
	ValidateUpdate func(obj, old runtime.Object) field.ErrorList
	// ValidateStatusUpdate checks a write to /status against the stored
	// object (upstream's status strategy's ValidateUpdate), after Validate.
	ValidateStatusUpdate func(obj, old runtime.Object) field.ErrorList
	// ValidateUpdateFirst lists the errors of ValidateUpdate before those
	// of Validate, as upstream's Validate*Update functions that end by
	// validating the new object (config maps, secrets) do; otherwise they
	// come after (an apps/v1 selector's immutability).
	ValidateUpdateFirst bool
	// WarningsOnCreate and WarningsOnUpdate return warnings for a write
	// that validation accepted (upstream's strategy methods of the same
	// names), sent to the client as Warning headers.
	WarningsOnCreate func(obj runtime.Object) []string
	WarningsOnUpdate func(obj, old runtime.Object) []string
	// WarningsOnStatusUpdate does the same for a write to /status that
	// validation accepted (the WarningsOnUpdate of upstream's status
	// strategy: a pod's IPs, a load balancer's ingress IPs).
	WarningsOnStatusUpdate func(obj, old runtime.Object) []string

	// Columns are the printer columns of Table output. NAME is put first
	// unless a column is named "Name"; a table lists AgeColumn where it
	// wants AGE. Nil prints NAME and AGE.
	Columns []Column
	// TableOrder, when set, orders a list's Table rows (upstream's
	// printer sorts flow schemas by matching precedence, then name);
	// otherwise rows follow the list.
	TableOrder func(a, b runtime.Object) int
	// StatusOnCreate keeps the status a client sends on create (nodes);
	// otherwise a resource with Status starts with an empty status.
	StatusOnCreate bool
	// Allocate, when set, reserves what a new object needs before it is
	// created (a service's cluster IP); done is called once the create
	// succeeded or failed. On a dry run it fills in and checks what it
	// would reserve, as upstream's dry-run allocators, and reserves
	// nothing.
	Allocate func(ctx context.Context, s *Store, obj runtime.Object, dryRun bool) (done func(created bool), err error)

	// Convert, for a resource stored at another version, converts between
	// the served object and the stored one.
	Convert *Conversion
	// GracePeriod, when set, returns the grace period in seconds of a
	// delete (pods): above 0, the object is only marked and the
	// GracefulReaper deletes it once the period has passed.
	GracePeriod func(obj runtime.Object, opts *metav1.DeleteOptions) int64
	// AfterDelete, when set, runs once an object is gone from storage (a
	// service's cluster IPs and node ports are released).
	AfterDelete func(ctx context.Context, s *Store, obj runtime.Object)

	// Custom marks the rows of custom resources, made at run time from a
	// CustomResourceDefinition: *unstructured.Unstructured objects, served
	// in JSON, YAML and CBOR but not protobuf, stored as JSON.
	Custom bool
	// Prune, when set, drops from a decoded request body the fields the
	// resource's schema does not know and returns their paths, for
	// fieldValidation (custom resources).
	Prune func(obj runtime.Object) ([]string, error)
	// Table, when set, renders Tables instead of Columns (custom
	// resources: the CRD's additionalPrinterColumns). obj is an object or a
	// list whose items are plain objects.
	Table func(ctx context.Context, obj runtime.Object, opts *metav1.TableOptions) (*metav1.Table, error)
	// ApplyModels, when set, are the OpenAPI definitions of a custom
	// resource's kind (every version of its CRD), which server-side apply
	// reads with the built-in ones; PreserveUnknownFields is its CRD's.
	ApplyModels           func() (map[string]*spec.Schema, error)
	PreserveUnknownFields bool
	// OpenAPIModels, when set, are the OpenAPI definitions of a custom
	// resource's kind and list kind at this version, for /openapi/v2
	// (v2) or /openapi/v3.
	OpenAPIModels func(v2 bool) (map[string]*spec.Schema, error)
	// MarkOnDelete, when set, makes the first delete of an object only
	// mark it: the store sets its deletionTimestamp and calls MarkOnDelete
	// on it, which adds a finalizer (CustomResourceDefinitions: the
	// cleanup of their custom resources, and a Terminating condition);
	// later deletes are the generic ones.
	MarkOnDelete func(obj runtime.Object)
	// Terminating marks a custom resource whose CRD is being deleted
	// (DiscoveryVerbs).
	Terminating bool

	// Internal marks the storage of server bookkeeping that is not served
	// (the node port bitmap): it is never cached.
	Internal bool
}

// Conversion converts objects between a served and a storage version.
type Conversion struct {
	// ToStorage converts a served object into a new stored object.
	ToStorage func(obj runtime.Object) (runtime.Object, error)
	// FromStorage converts a stored object into a new served object.
	// Cacheable passes it a watch cache's runtime.CacheableObject as it
	// is (shared by the watchers of an event), else unwrapped.
	FromStorage func(obj runtime.Object) (runtime.Object, error)
	// FromStorageList, when set, converts the stored items of a list at
	// once (a conversion webhook: one call per list); nil converts each
	// with FromStorage.
	FromStorageList func(items []runtime.Object) ([]runtime.Object, error)
	Cacheable       bool
	// NewStored and NewStoredList make empty stored objects.
	NewStored, NewStoredList func() runtime.Object
}

// ScaleRule tells how a /scale subresource reads and writes replicas.
type ScaleRule struct {
	// Replicas returns spec.replicas, status.replicas and the label
	// selector in its string form.
	Replicas func(obj runtime.Object) (spec, status int32, selector string)
	// SetReplicas sets spec.replicas.
	SetReplicas func(obj runtime.Object, replicas int32)
}

// Verbs returns the verbs the resource serves, sorted (custom resources:
// in upstream's order), as discovery lists them.
func (r *Resource) Verbs() []string {
	if r.Custom {
		// In the order of upstream's discovery of custom resources.
		return []string{"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}
	}
	verbs := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	if r.NoDeleteCollection {
		verbs = slices.DeleteFunc(verbs, func(v string) bool { return v == "deletecollection" })
	}
	return verbs
}

// DiscoveryVerbs returns the verbs discovery lists: Verbs, but those of a
// custom resource whose CRD is terminating are delete, deletecollection,
// get, list and watch, as upstream's (which still serves the others).
func (r *Resource) DiscoveryVerbs() []string {
	if r.Custom && r.Terminating {
		return []string{"delete", "deletecollection", "get", "list", "watch"}
	}
	return r.Verbs()
}

// Serves reports whether the resource serves verb on its main resource.
func (r *Resource) Serves(verb string) bool {
	switch verb { // Verbs, without making the list
	case "create", "delete", "get", "list", "patch", "update", "watch":
		return true
	case "deletecollection":
		return r.Custom || !r.NoDeleteCollection
	}
	return false
}

// GroupResource returns the group and resource.
func (r *Resource) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}
}

// GroupVersion returns the served group-version.
func (r *Resource) GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}
}

// GroupVersionResource returns the served group, version and resource.
func (r *Resource) GroupVersionResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}
}

// GroupVersionKind returns the served group, version and kind.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GroupVersion().WithKind(r.Kind)
}

// EtcdPrefix returns the resource's etcd prefix without slashes.
func (r *Resource) EtcdPrefix() string {
	if r.Prefix != "" {
		return r.Prefix
	}
	return ResourcePrefix(r.GroupResource())
}

// Storage returns the group-version objects are stored at.
func (r *Resource) Storage() schema.GroupVersion {
	if r.StorageVersion.Version != "" {
		return r.StorageVersion
	}
	return r.GroupVersion()
}

// SingularName returns the singular name.
func (r *Resource) SingularName() string {
	if r.Singular != "" {
		return r.Singular
	}
	return lower(r.Kind)
}

// PrepareCreate runs the row's PrepareForCreate or
// PrepareForCreateWarnings on obj, returning the latter's warnings.
func (r *Resource) PrepareCreate(obj runtime.Object) []string {
	if r.PrepareForCreate != nil {
		r.PrepareForCreate(obj)
	}
	if r.PrepareForCreateWarnings != nil {
		return r.PrepareForCreateWarnings(obj)
	}
	return nil
}

// SelectableFields returns the fields a field selector may name, with
// their values for obj.
func (r *Resource) SelectableFields(obj runtime.Object, name, namespace string) fields.Set {
	set := fields.Set{"metadata.name": name}
	if r.Namespaced {
		set["metadata.namespace"] = namespace
	}
	if r.Fields != nil {
		for k, v := range r.Fields(obj) {
			set[k] = v
		}
	}
	return set
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
