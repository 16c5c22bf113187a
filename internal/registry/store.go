package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Store serves one resource of the table over a storage.Interface: it is
// the generic strategy. It sets what the server owns (uid,
// creationTimestamp, generation, deletionTimestamp), applies the row's
// defaulting, preparation and validation, keeps status and spec apart,
// handles finalizers, and maps storage errors to API errors. It knows
// nothing about HTTP.
type Store struct {
	r       *Resource
	storage storage.Interface
	// namespaces checks that the namespace of a new object exists and is
	// not terminating; nil for cluster-scoped resources.
	namespaces *Store
	now        func() time.Time
	// fieldNames are the field selector labels the resource supports.
	fieldNames map[string]bool

	// reg is the registry the store belongs to.
	reg *Registry
	// gcKick, when set, wakes the garbage collector after a deletion.
	gcKick chan struct{}

	// allocMu serializes the allocations of Resource.Allocate (service IPs
	// and node ports); it is held from allocation to the end of the create.
	allocMu sync.Mutex

	// memo holds what the layers above build once per row (Memo).
	memo sync.Map
}

// Resource returns the row the store serves.
func (s *Store) Resource() *Resource { return s.r }

// Memo returns the value kept under key for this row, building it on
// the first use: what the handlers derive from a row (its field
// managers) lives as long as the row is served, and goes with it when a
// row is replaced or removed (a CRD changed or deleted).
func (s *Store) Memo(key any, build func() (any, error)) (any, error) {
	if v, ok := s.memo.Load(key); ok {
		return v, nil
	}
	v, err := build()
	if err != nil {
		return nil, err
	}
	actual, _ := s.memo.LoadOrStore(key, v)
	return actual, nil
}

// Storage returns the storage the store writes to.
func (s *Store) Storage() storage.Interface { return s.storage }

// Registry returns the registry of the store (nil for a store made
// outside one).
func (s *Store) Registry() *Registry { return s.reg }

// New returns a new empty object of the served type.
func (s *Store) New() runtime.Object { return s.r.New() }

// NewList returns a new empty list of the served type.
func (s *Store) NewList() runtime.Object { return s.r.NewList() }

func (s *Store) gr() schema.GroupResource { return s.r.GroupResource() }

// key returns the storage key of one object.
func (s *Store) key(namespace, name string) (string, error) {
	if s.r.Namespaced {
		return NamespaceKey(s.r.EtcdPrefix(), namespace, name)
	}
	return ClusterKey(s.r.EtcdPrefix(), name)
}

// newStored returns an empty object of the stored type.
func (s *Store) newStored() runtime.Object {
	if c := s.r.Convert; c != nil {
		return c.NewStored()
	}
	return s.r.New()
}

func (s *Store) newStoredList() runtime.Object {
	if c := s.r.Convert; c != nil {
		return c.NewStoredList()
	}
	return s.r.NewList()
}

// toStored converts a served object to the stored type (the object itself
// when they are the same).
func (s *Store) toStored(obj runtime.Object) (runtime.Object, error) {
	if c := s.r.Convert; c != nil {
		return c.ToStorage(obj)
	}
	return obj, nil
}

// fromStored converts a stored object to the served type, unwrapping a
// watch cache's runtime.CacheableObject first (a copy) unless the
// conversion takes it as it is.
func (s *Store) fromStored(obj runtime.Object) (runtime.Object, error) {
	c := s.r.Convert
	if c == nil {
		return obj, nil
	}
	if !c.Cacheable {
		obj = cacheable.Unwrap(obj)
	}
	out, err := c.FromStorage(obj)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// conversionError is the error of a failed conversion: the converter's
// own status (a conversion webhook's 500), else an internal error.
func conversionError(err error) error {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return err
	}
	return apierrors.NewInternalError(err)
}

// setTypeMeta sets apiVersion and kind of a served object, which the
// serializers need to encode it and clients to decode it.
func (s *Store) setTypeMeta(obj runtime.Object) {
	obj.GetObjectKind().SetGroupVersionKind(s.r.GroupVersionKind())
}

// ttl returns the time to live for a write, nil when the resource keeps
// objects forever.
func (s *Store) ttl() *uint64 {
	if s.r.TTL == 0 {
		return nil
	}
	t := s.r.TTL
	return &t
}

// metaOf returns an object's metadata accessor; every served type has one.
func metaOf(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(fmt.Sprintf("registry: %T has no metadata: %v", obj, err))
	}
	return m
}

// field returns the named top-level struct field of obj (a pointer to a
// k8s.io/api struct), or an invalid Value when it has none.
func structField(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// unstructuredKeys are the keys of a custom resource's object that hold
// what a struct field holds in a built-in type.
var unstructuredKeys = map[string][]string{
	"TypeMeta":   {"apiVersion", "kind"},
	"ObjectMeta": {"metadata"},
	"Spec":       {"spec"},
	"Status":     {"status"},
}

// copyField sets field name of dst to that of src.
func copyField(dst, src runtime.Object, name string) {
	if d, ok := dst.(*unstructured.Unstructured); ok {
		var from map[string]any
		if u, ok := src.(*unstructured.Unstructured); ok {
			from = u.Object
		}
		for _, k := range unstructuredKeys[name] {
			if v, ok := from[k]; ok {
				d.Object[k] = runtime.DeepCopyJSONValue(v)
			} else {
				delete(d.Object, k)
			}
		}
		return
	}
	d, s := structField(dst, name), structField(src, name)
	if d.IsValid() && s.IsValid() && d.CanSet() {
		d.Set(s)
	}
}

// clearField sets field name of obj to its zero value.
func clearField(obj runtime.Object, name string) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		for _, k := range unstructuredKeys[name] {
			delete(u.Object, k)
		}
		return
	}
	if f := structField(obj, name); f.IsValid() && f.CanSet() {
		f.Set(reflect.Zero(f.Type()))
	}
}

// specChanged reports a change outside metadata and status: what bumps
// metadata.generation. A custom resource without a status subresource
// counts its status too, as upstream's custom resource strategy.
func specChanged(obj, old runtime.Object, statusSubresource bool) bool {
	a, b := obj.DeepCopyObject(), old.DeepCopyObject()
	for _, o := range []runtime.Object{a, b} {
		clearField(o, "TypeMeta")
		clearField(o, "ObjectMeta")
		if _, custom := o.(*unstructured.Unstructured); !custom || statusSubresource {
			clearField(o, "Status")
		}
	}
	return !equalJSON(a, b)
}

// checkNamespace refuses a new object in a namespace that does not exist
// or is being deleted, as upstream's NamespaceLifecycle admission plugin.
func (s *Store) checkNamespace(ctx context.Context, namespace, name string) error {
	if s.namespaces == nil || !s.r.Namespaced {
		return nil
	}
	obj, err := s.namespaces.get(ctx, "", namespace, storage.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) { // the cache may be behind: read etcd
		obj, err = s.namespaces.get(ctx, "", namespace, storage.GetOptions{})
	}
	if err != nil {
		return err
	}
	if metaOf(obj).GetDeletionTimestamp() != nil {
		e := apierrors.NewForbidden(s.gr(), name, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", namespace))
		e.ErrStatus.Details.Causes = []metav1.StatusCause{{
			Type:    "NamespaceTerminating",
			Field:   "metadata.namespace",
			Message: fmt.Sprintf("namespace %s is being terminated", namespace),
		}}
		return e
	}
	return nil
}

// equalJSON compares two values by their JSON encoding, so that nil and
// empty collections are equal.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
