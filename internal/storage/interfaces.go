// Package storage defines the storage interface that the etcd3 store and the
// watch cache implement, with kube-apiserver's semantics: resourceVersion is
// the etcd revision, writes are compare-and-swap on the key's mod revision,
// and lists page with continue tokens that upstream clients understand.
package storage

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Interface is the set of operations the registry performs on stored objects.
// Keys are relative to the etcd prefix and start with "/" (e.g. "/pods/ns/name").
type Interface interface {
	Versioner() Versioner

	// Create adds obj under key unless the key exists; out (optional) receives
	// the stored object with its new resourceVersion. ttl is in seconds, 0 = forever.
	Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error

	// Delete removes key after checking preconditions and validateDeletion,
	// retrying on conflict, and returns the deleted object in out.
	Delete(ctx context.Context, key string, out runtime.Object, preconditions *Preconditions,
		validateDeletion ValidateObjectFunc, cachedExistingObject runtime.Object, opts DeleteOptions) error

	// Watch streams changes of key (or of every key under it when opts.Recursive).
	Watch(ctx context.Context, key string, opts ListOptions) (watch.Interface, error)

	// Get reads one object into objPtr.
	Get(ctx context.Context, key string, opts GetOptions, objPtr runtime.Object) error

	// GetList reads the objects under key (or the single key when not
	// recursive) that match opts.Predicate into listObj.
	GetList(ctx context.Context, key string, opts ListOptions, listObj runtime.Object) error

	// GuaranteedUpdate applies tryUpdate to the current object until the
	// compare-and-swap succeeds; it does not write when nothing changed.
	GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
		preconditions *Preconditions, tryUpdate UpdateFunc, cachedExistingObject runtime.Object) error

	// Stats reports the number of objects (and, when estimation is enabled,
	// their average stored size).
	Stats(ctx context.Context) (Stats, error)

	// ReadinessCheck returns nil once the storage can serve requests.
	ReadinessCheck() error

	// RequestWatchProgress asks etcd to send progress notifications to the
	// watches opened with ProgressNotify.
	RequestWatchProgress(ctx context.Context) error

	// GetCurrentResourceVersion returns etcd's current revision.
	GetCurrentResourceVersion(ctx context.Context) (uint64, error)

	// EnableResourceSizeEstimation makes Stats count keys with keys and
	// average the sizes seen by lists and watches.
	EnableResourceSizeEstimation(keys KeysFunc) error

	// CompactRevision is the newest compaction revision observed, 0 if none.
	CompactRevision() int64
}

// KeysFunc lists the keys of the stored objects.
type KeysFunc func(context.Context) ([]string, error)

// Stats describes the stored objects of one resource.
type Stats struct {
	ObjectCount                     int64
	EstimatedAverageObjectSizeBytes int64
}

// GetOptions are the options of Get.
type GetOptions struct {
	// IgnoreNotFound makes a missing key set the zero object instead of failing.
	IgnoreNotFound bool
	// ResourceVersion is a lower bound: "" or "0" mean any, N means not older than N.
	ResourceVersion string
}

// ListOptions are the options of GetList and Watch.
type ListOptions struct {
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	Predicate            SelectionPredicate
	Recursive            bool
	// ProgressNotify asks etcd for progress notifications, surfaced as
	// bookmarks (internal: the watch cache uses it).
	ProgressNotify bool
	// SendInitialEvents asks a watch to start with the current state.
	SendInitialEvents *bool
}

// DeleteOptions are the options of Delete.
type DeleteOptions struct {
	// ExpectTransformOrDecodeError deletes an object that can no longer be
	// decrypted or decoded (upstream's unsafe deletion of corrupt objects).
	ExpectTransformOrDecodeError bool
}

// ResponseMeta is passed to an UpdateFunc.
type ResponseMeta struct {
	// TTL is never filled by the etcd store (always 0), as upstream.
	TTL int64
	// ResourceVersion is the revision of the object passed in.
	ResourceVersion uint64
}

// UpdateFunc computes the new object from the current one. A nil ttl writes
// without a lease.
type UpdateFunc func(input runtime.Object, res ResponseMeta) (output runtime.Object, ttl *uint64, err error)

// ValidateObjectFunc checks an object before a destructive operation.
type ValidateObjectFunc func(ctx context.Context, obj runtime.Object) error

// ValidateAllObjectFunc accepts every object.
func ValidateAllObjectFunc(context.Context, runtime.Object) error { return nil }

// Preconditions must hold for a Delete or GuaranteedUpdate to proceed.
type Preconditions struct {
	UID             *types.UID `json:"uid,omitempty"`
	ResourceVersion *string    `json:"resourceVersion,omitempty"`
}

// NewUIDPreconditions returns preconditions on uid.
func NewUIDPreconditions(uid string) *Preconditions {
	u := types.UID(uid)
	return &Preconditions{UID: &u}
}

// Check returns an InvalidObj error when obj does not satisfy p. nil passes.
func (p *Preconditions) Check(key string, obj runtime.Object) error {
	if p == nil {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return NewInternalError(fmt.Errorf("can't enforce preconditions %v on un-introspectable object %T: %w", *p, obj, err))
	}
	if p.UID != nil && *p.UID != m.GetUID() {
		return NewInvalidObjError(key, fmt.Sprintf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return NewInvalidObjError(key, fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}
