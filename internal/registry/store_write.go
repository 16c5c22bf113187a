package registry

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/storage"
)

// maxGeneratedNameLength is the longest generateName prefix kept: a name
// is at most 63 characters and 5 random ones are appended.
const maxGeneratedNameLength = 63 - 5

// Subresource names the part of an object an update writes.
type Subresource string

// The subresources the generic store knows.
const (
	// Main is the object itself: its status is kept as stored.
	Main Subresource = ""
	// StatusSubresource writes the status only.
	StatusSubresource Subresource = "status"
	// FinalizeSubresource writes a namespace's metadata and spec (its
	// finalizers), not its status.
	FinalizeSubresource Subresource = "finalize"
)

// CreateOptions are the options of Create.
type CreateOptions struct {
	// DryRun validates and returns the object without storing it.
	DryRun bool
}

// Create stores a new object in namespace (ignored for cluster-scoped
// resources) and returns it as stored. obj is modified.
func (s *Store) Create(ctx context.Context, namespace string, obj runtime.Object, opts CreateOptions) (runtime.Object, error) {
	if err := s.beforeCreate(ctx, namespace, obj, opts.DryRun); err != nil {
		return nil, err
	}
	if s.r.Allocate != nil {
		done, err := s.r.Allocate(ctx, s, obj, opts.DryRun)
		if err != nil {
			return nil, err
		}
		if opts.DryRun {
			done(false)
			return s.dryRunCreate(ctx, obj)
		}
		res, err := s.create(ctx, obj)
		done(err == nil)
		return res, err
	}
	if opts.DryRun {
		return s.dryRunCreate(ctx, obj)
	}
	return s.create(ctx, obj)
}

// dryRunCreate answers a dry-run create as upstream's DryRunnableStorage:
// the object as it would be stored, or AlreadyExists for a taken key.
func (s *Store) dryRunCreate(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	m := metaOf(obj)
	key, err := s.key(m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.storage.Get(ctx, key, storage.GetOptions{}, s.newStored()); err == nil {
		return nil, s.inTheWay(ctx, key, interpretError(storage.NewKeyExistsError(key, 0), opCreate, s.gr(), m.GetName()))
	} else if !storage.IsNotFound(err) {
		return nil, interpretError(err, opGet, s.gr(), m.GetName())
	}
	return obj, nil
}

// inTheWay prefixes an AlreadyExists error with "object is being deleted: "
// when the object in the way has a deletionTimestamp, as upstream's
// Store.Create does, so that a client knows to retry.
func (s *Store) inTheWay(ctx context.Context, key string, err error) error {
	var st *apierrors.StatusError
	if !apierrors.IsAlreadyExists(err) || !errors.As(err, &st) {
		return err
	}
	existing := s.newStored()
	if s.storage.Get(ctx, key, storage.GetOptions{}, existing) != nil || metaOf(existing).GetDeletionTimestamp() == nil {
		return err
	}
	st.ErrStatus.Message = "object is being deleted: " + st.ErrStatus.Message
	return st
}

// create writes a prepared new object.
func (s *Store) create(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	m := metaOf(obj)
	key, err := s.key(m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	stored, err := s.toStored(obj)
	if err != nil {
		return nil, conversionError(err)
	}
	out := s.newStored()
	ttl := uint64(0)
	if t := s.ttl(); t != nil {
		ttl = *t
	}
	if err := s.storage.Create(ctx, key, stored, out, ttl); err != nil {
		if errors.Is(err, storage.ErrResourceVersionSetOnCreate) {
			return nil, apierrors.NewInternalError(err)
		}
		err = interpretError(err, opCreate, s.gr(), m.GetName())
		if apierrors.IsAlreadyExists(err) && m.GetGenerateName() != "" && m.GetName() != "" {
			// The generated name was taken (upstream's CheckGeneratedNameError).
			err = apierrors.NewGenerateNameConflict(s.gr(), m.GetName(), 1)
		}
		return nil, s.inTheWay(ctx, key, err)
	}
	res, err := s.fromStored(out)
	if err != nil {
		return nil, conversionError(err)
	}
	s.setTypeMeta(res)
	return res, nil
}

// beforeCreate does upstream's rest.BeforeCreate: namespace, name
// generation, system fields, defaulting, preparation and validation.
// Dynamic admission runs around it (see admission.go).
func (s *Store) beforeCreate(ctx context.Context, namespace string, obj runtime.Object, dryRun bool) error {
	m := metaOf(obj)
	if s.r.Namespaced {
		switch {
		case m.GetNamespace() == "":
			m.SetNamespace(namespace)
		case namespace != "" && m.GetNamespace() != namespace:
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		if err := s.checkNamespace(ctx, m.GetNamespace(), m.GetName()); err != nil {
			return err
		}
	} else {
		m.SetNamespace("")
	}
	if s.r.AdmitCreate != nil {
		if err := s.r.AdmitCreate(m.GetName()); err != nil {
			return err
		}
	}
	if s.r.Default != nil {
		s.r.Default(obj)
	}
	if err := s.admitCreate(ctx, obj, dryRun); err != nil {
		return err
	}
	if s.r.CheckWrite != nil {
		if err := s.r.CheckWrite(ctx, obj, nil); err != nil {
			return err
		}
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		base := m.GetGenerateName()
		if len(base) > maxGeneratedNameLength {
			base = base[:maxGeneratedNameLength]
		}
		m.SetName(base + utilrand.String(5))
	}
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(metav1.NewTime(s.now().Truncate(1e9)))
	m.SetSelfLink("")
	m.SetGeneration(0)
	if s.r.Generation {
		m.SetGeneration(1)
	}
	if s.r.Status && !s.r.StatusOnCreate {
		clearField(obj, "Status")
	}
	addWarnings(ctx, s.r.PrepareCreate(obj))
	errs := s.validateMeta(m)
	if s.r.Validate != nil {
		errs = append(errs, s.r.Validate(obj)...)
	}
	if s.r.ValidateCreate != nil {
		errs = append(errs, s.r.ValidateCreate(obj)...)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(s.r.GroupVersionKind().GroupKind(), m.GetName(), errs)
	}
	if s.r.WarningsOnCreate != nil {
		addWarnings(ctx, s.r.WarningsOnCreate(obj))
	}
	return s.validateCreate(ctx, obj, dryRun)
}

// validateMeta checks an object's metadata with the resource's name rule.
func (s *Store) validateMeta(m metav1.Object) field.ErrorList {
	nameFn := s.r.NameValidation
	if metaValid(m, s.r.Namespaced, nameFn) {
		return nil
	}
	if nameFn == nil {
		nameFn = apivalidation.NameIsDNSSubdomain
	}
	return apivalidation.ValidateObjectMetaAccessor(m, s.r.Namespaced, nameFn, field.NewPath("metadata"))
}

// UpdateFunc returns the new object from the stored one, or from nil when
// nothing is stored (then the update creates, if the resource allows).
// It must not modify existing.
type UpdateFunc func(ctx context.Context, existing runtime.Object) (runtime.Object, error)

// UpdateOptions are the options of Update.
type UpdateOptions struct {
	// DryRun computes and validates the new object without storing it.
	DryRun bool
	// Subresource is the part of the object written.
	Subresource Subresource
	// Direct stores what the update function returns past the row's
	// defaulting, preparation, generation and validation, server-owned
	// metadata kept (pods/binding, which upstream writes straight to
	// storage). The object must exist.
	Direct bool
	// ForceAllowCreate lets the update create a missing object even if the
	// resource does not allow it (server-side apply); unused for now.
	ForceAllowCreate bool
	// AdmissionView, when set, is what dynamic admission sees of an update
	// made through a subresource showing another kind (/scale).
	AdmissionView *AdmissionView
}

// Update replaces an object with what upd returns, retrying upd on
// conflicts with concurrent writers. It returns the stored object and
// whether it was created. An object whose finalizers are all removed after
// its deletion was requested is deleted.
func (s *Store) Update(ctx context.Context, namespace, name string, upd UpdateFunc, opts UpdateOptions) (runtime.Object, bool, error) {
	key, err := s.key(namespace, name)
	if err != nil {
		return nil, false, err
	}
	var (
		created bool
		dryOut  runtime.Object
	)
	out := s.newStored()
	err = s.storage.GuaranteedUpdate(ctx, key, out, true, nil, func(input runtime.Object, res storage.ResponseMeta) (runtime.Object, *uint64, error) {
		created = false
		var existing runtime.Object
		if metaOf(input).GetUID() != "" || res.ResourceVersion != 0 {
			var err error
			if existing, err = s.fromStored(input); err != nil {
				return nil, nil, err
			}
			s.setTypeMeta(existing)
		}
		obj, err := s.tryUpdate(ctx, namespace, name, existing, upd, opts)
		if err != nil {
			return nil, nil, err
		}
		created = existing == nil
		if opts.DryRun {
			dryOut = obj
			return nil, nil, errDryRun
		}
		stored, err := s.toStored(obj)
		if err != nil {
			return nil, nil, err
		}
		return stored, s.ttl(), nil
	}, nil)
	if errors.Is(err, errDryRun) {
		return dryOut, created, nil
	}
	if err != nil {
		o := opUpdate
		if created {
			o = opCreate
		}
		return nil, false, interpretError(err, o, s.gr(), name)
	}
	obj, err := s.fromStored(out)
	if err != nil {
		return nil, false, conversionError(err)
	}
	s.setTypeMeta(obj)
	m := metaOf(obj)
	if !created && m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0 && s.finalizersDone(obj) && !inGracePeriod(m) {
		// The last finalizer is gone: the deletion can complete (a
		// graceful one when its period is over: the reaper's).
		uid, rv := m.GetUID(), m.GetResourceVersion()
		deleted := s.newStored()
		err := s.storage.Delete(ctx, key, deleted, &storage.Preconditions{UID: &uid, ResourceVersion: &rv},
			storage.ValidateAllObjectFunc, nil, storage.DeleteOptions{})
		switch {
		case err == nil:
			if obj, err = s.fromStored(deleted); err != nil {
				return nil, false, apierrors.NewInternalError(err)
			}
			s.setTypeMeta(obj)
			s.afterDelete(ctx, obj)
		case storage.IsNotFound(err) || storage.IsInvalidObj(err):
			// Deleted or changed by someone else meanwhile.
		default:
			return nil, false, interpretError(err, opDelete, s.gr(), name)
		}
	}
	return obj, created, nil
}

// inGracePeriod reports an object deleted gracefully whose period is not
// over: an update does not complete its deletion (upstream's
// ShouldDeleteDuringUpdate: only a period of 0, or none).
func inGracePeriod(m metav1.Object) bool {
	p := m.GetDeletionGracePeriodSeconds()
	return p != nil && *p > 0
}

// errDryRun stops a dry-run update before it writes.
var errDryRun = errors.New("dry run")

// tryUpdate computes and validates the new object from the stored one.
func (s *Store) tryUpdate(ctx context.Context, namespace, name string, existing runtime.Object, upd UpdateFunc, opts UpdateOptions) (runtime.Object, error) {
	if existing == nil {
		if !s.r.AllowCreateOnUpdate && !opts.ForceAllowCreate || opts.Subresource != Main || opts.Direct {
			return nil, apierrors.NewNotFound(s.gr(), name)
		}
		obj, err := upd(ctx, nil)
		if err != nil {
			return nil, err
		}
		if err := checkName(obj, namespace, name, s.r.Namespaced); err != nil {
			return nil, err
		}
		if metaOf(obj).GetResourceVersion() != "" {
			return nil, apierrors.NewNotFound(s.gr(), name)
		}
		if err := s.beforeCreate(ctx, namespace, obj, opts.DryRun); err != nil {
			return nil, err
		}
		return obj, nil
	}
	obj, err := upd(ctx, existing.DeepCopyObject())
	if err != nil {
		return nil, err
	}
	if err := checkName(obj, namespace, name, s.r.Namespaced); err != nil {
		return nil, err
	}
	m, old := metaOf(obj), metaOf(existing)
	switch rv := m.GetResourceVersion(); {
	case rv == "" && s.r.RequireResourceVersion:
		// Upstream names the resource where the kind goes (#18526).
		gk := schema.GroupKind{Group: s.r.Group, Kind: s.r.Resource}
		return nil, apierrors.NewInvalid(gk, name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "resourceVersion"), uint64(0), "must be specified for an update")})
	case rv == "":
		// An unconditional update: it applies to the stored version.
		m.SetResourceVersion(old.GetResourceVersion())
	case rv != old.GetResourceVersion():
		return nil, apierrors.NewConflict(s.gr(), name, errors.New(OptimisticLockErrorMsg))
	}
	if s.r.Namespaced {
		m.SetNamespace(old.GetNamespace())
	}
	if opts.Direct {
		return obj, nil
	}
	if s.r.Default != nil {
		s.r.Default(obj)
	}
	if err := s.admitUpdate(ctx, obj, existing, opts); err != nil {
		return nil, err
	}
	if s.r.CheckWrite != nil && opts.Subresource == Main {
		if err := s.r.CheckWrite(ctx, obj, existing); err != nil {
			return nil, err
		}
	}
	switch opts.Subresource {
	case StatusSubresource:
		// The status and the metadata change (see PrepareForStatusUpdate
		// below): start again from the stored object.
		next := existing.DeepCopyObject()
		copyField(next, obj, "Status")
		copyField(next, obj, "ObjectMeta")
		obj, m = next, metaOf(next)
	case FinalizeSubresource:
		// namespaceFinalizeStrategy: the metadata and the spec sent, the
		// status stored.
		copyField(obj, existing, "Status")
	case Main:
		if s.r.Status {
			copyField(obj, existing, "Status")
		}
	default:
		// A view (pods/ephemeralcontainers): the stored object with the
		// sent metadata and what the view writes.
		rule := s.r.SubresourceRule(string(opts.Subresource))
		if rule == nil || !rule.IsView() {
			return nil, apierrors.NewNotFound(s.gr(), name)
		}
		next := existing.DeepCopyObject()
		copyField(next, obj, "ObjectMeta")
		rule.Apply(next, obj)
		obj, m = next, metaOf(next)
	}
	// What the server owns stays as stored.
	m.SetUID(old.GetUID())
	m.SetCreationTimestamp(old.GetCreationTimestamp())
	m.SetSelfLink("")
	if old.GetDeletionTimestamp() != nil {
		m.SetDeletionTimestamp(old.GetDeletionTimestamp())
		m.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
	} else {
		m.SetDeletionTimestamp(nil)
		m.SetDeletionGracePeriodSeconds(nil)
	}
	m.SetGeneration(old.GetGeneration())
	view := opts.Subresource != Main && opts.Subresource != StatusSubresource && opts.Subresource != FinalizeSubresource
	if s.r.Generation && (opts.Subresource == Main || view) && specChanged(obj, existing, s.r.Status) {
		m.SetGeneration(old.GetGeneration() + 1)
	}
	if s.r.PrepareForUpdate != nil && opts.Subresource == Main {
		s.r.PrepareForUpdate(obj, existing)
	}
	if s.r.PrepareForStatusUpdate != nil && opts.Subresource == StatusSubresource {
		s.r.PrepareForStatusUpdate(obj, existing)
	}
	errs := s.validateMeta(m)
	errs = append(errs, apivalidation.ValidateObjectMetaAccessorUpdate(m, old, field.NewPath("metadata"))...)
	var updateErrs field.ErrorList
	if s.r.ValidateUpdate != nil && opts.Subresource == Main {
		updateErrs = s.r.ValidateUpdate(obj, existing)
	}
	if view {
		// A view's validation replaces the row's.
		if v := s.r.SubresourceRule(string(opts.Subresource)).ValidateUpdate; v != nil {
			errs = append(errs, v(obj, existing)...)
		}
		if len(errs) > 0 {
			return nil, apierrors.NewInvalid(s.r.GroupVersionKind().GroupKind(), name, errs)
		}
		return obj, s.validateUpdate(ctx, obj, existing, opts)
	}
	if s.r.ValidateUpdateFirst {
		errs = append(errs, updateErrs...)
	}
	if s.r.Validate != nil {
		errs = append(errs, s.r.Validate(obj)...)
	}
	if !s.r.ValidateUpdateFirst {
		errs = append(errs, updateErrs...)
	}
	if s.r.ValidateStatusUpdate != nil && opts.Subresource == StatusSubresource {
		errs = append(errs, s.r.ValidateStatusUpdate(obj, existing)...)
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(s.r.GroupVersionKind().GroupKind(), name, errs)
	}
	switch {
	case s.r.WarningsOnUpdate != nil && opts.Subresource == Main:
		addWarnings(ctx, s.r.WarningsOnUpdate(obj, existing))
	case s.r.WarningsOnStatusUpdate != nil && opts.Subresource == StatusSubresource:
		addWarnings(ctx, s.r.WarningsOnStatusUpdate(obj, existing))
	}
	return obj, s.validateUpdate(ctx, obj, existing, opts)
}
