package registry

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/storage"
)

// namespaceDeletionMessage is upstream's answer to deleting a namespace
// that is already being emptied.
const namespaceDeletionMessage = "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system."

// DeleteOptions are the options of Delete: the API's, plus dry run.
type DeleteOptions struct {
	metav1.DeleteOptions
	// DryRun checks everything and deletes nothing.
	DryRun bool
}

// Delete deletes an object. An object with finalizers (and a namespace,
// which has spec.finalizers) is only marked: its deletionTimestamp is set
// and it is returned with deleted false; it goes when its last finalizer
// does. Otherwise the deleted object is returned with deleted true.
//
// The propagation policy decides what happens to the dependents (see
// GarbageCollector): Background deletes the object now and its dependents
// after; Foreground and Orphan add the "foregroundDeletion" or "orphan"
// finalizer, so the object is only marked until the collector has deleted
// or orphaned its dependents.
func (s *Store) Delete(ctx context.Context, namespace, name string, opts DeleteOptions) (runtime.Object, bool, error) {
	if errs := validateDeleteOptions(&opts.DeleteOptions); len(errs) > 0 {
		return nil, false, apierrors.NewInvalid(metav1.SchemeGroupVersion.WithKind("DeleteOptions").GroupKind(), "", errs)
	}
	if s.r.AdmitDelete != nil {
		if err := s.r.AdmitDelete(namespace, name); err != nil {
			return nil, false, err
		}
	}
	key, err := s.key(namespace, name)
	if err != nil {
		return nil, false, err
	}
	existing, err := s.get(ctx, namespace, name, storage.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	m := metaOf(existing)
	var pre *storage.Preconditions
	if p := opts.Preconditions; p != nil {
		pre = &storage.Preconditions{UID: p.UID, ResourceVersion: p.ResourceVersion}
		if err := s.checkDeletePreconditions(p, m); err != nil {
			return nil, false, err
		}
	}
	if err := s.admitDelete(ctx, existing, &opts); err != nil {
		return nil, false, err
	}
	if s.r.MarkOnDelete != nil && m.GetDeletionTimestamp() == nil {
		return s.markOnDelete(ctx, key, name, pre, opts.DryRun, existing)
	}
	gcFinalizer := ""
	if !s.isNamespaces() {
		gcFinalizer = gcFinalizerFor(gcPolicy(&opts.DeleteOptions, s.r.DefaultPropagation))
	}
	if obj, done, err := s.deleteGracefully(ctx, key, name, pre, opts, existing, gcFinalizer); done {
		return obj, false, err
	}
	pending := len(m.GetFinalizers()) > 0 || gcFinalizer != ""
	if s.isNamespaces() {
		ns := existing.(*corev1.Namespace)
		if len(ns.Spec.Finalizers) > 0 {
			if ns.DeletionTimestamp != nil {
				return nil, false, apierrors.NewConflict(s.gr(), name, errors.New(namespaceDeletionMessage))
			}
			pending = true
		}
	}
	if pending {
		obj, deleted, err := s.markDeleting(ctx, key, name, pre, opts.DryRun, existing, gcFinalizer)
		if err == nil && !opts.DryRun {
			s.kickGC()
		}
		return obj, deleted, err
	}
	if opts.DryRun {
		return existing, true, nil
	}
	out := s.newStored()
	err = s.storage.Delete(ctx, key, out, pre, func(ctx context.Context, obj runtime.Object) error {
		if len(metaOf(obj).GetFinalizers()) > 0 {
			return storage.NewInvalidObjError(key, "the object got finalizers while it was being deleted")
		}
		return nil
	}, nil, storage.DeleteOptions{})
	if err != nil {
		return nil, false, interpretError(err, opDelete, s.gr(), name)
	}
	obj, err := s.fromStored(out)
	if err != nil {
		return nil, false, conversionError(err)
	}
	s.setTypeMeta(obj)
	s.afterDelete(ctx, obj)
	return obj, true, nil
}

// markDeleting sets the deletionTimestamp of an object that finalizers
// hold back (upstream's markAsDeleting); a namespace also becomes
// Terminating. A non-empty gcFinalizer is added to the finalizers (and
// the other garbage collection finalizer removed).
func (s *Store) markDeleting(ctx context.Context, key, name string, pre *storage.Preconditions, dryRun bool, existing runtime.Object, gcFinalizer string) (runtime.Object, bool, error) {
	mark := func(obj runtime.Object) {
		m := metaOf(obj)
		if gcFinalizer != "" {
			m.SetFinalizers(withGCFinalizer(m.GetFinalizers(), gcFinalizer))
		}
		if m.GetDeletionTimestamp() == nil {
			if m.GetGeneration() > 0 {
				m.SetGeneration(m.GetGeneration() + 1)
			}
			now := metav1.NewTime(s.now().Truncate(1e9))
			m.SetDeletionTimestamp(&now)
		}
		zero := int64(0)
		m.SetDeletionGracePeriodSeconds(&zero)
		if ns, ok := obj.(*corev1.Namespace); ok {
			ns.Status.Phase = corev1.NamespaceTerminating
		}
	}
	if dryRun {
		obj := existing.DeepCopyObject()
		mark(obj)
		return obj, false, nil
	}
	out := s.newStored()
	err := s.storage.GuaranteedUpdate(ctx, key, out, false, pre, func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		obj := input.DeepCopyObject()
		mark(obj)
		return obj, s.ttl(), nil
	}, nil)
	if err != nil {
		return nil, false, interpretError(err, opDelete, s.gr(), name)
	}
	obj, err := s.fromStored(out)
	if err != nil {
		return nil, false, conversionError(err)
	}
	s.setTypeMeta(obj)
	return obj, false, nil
}

// markOnDelete is the first delete of a resource with MarkOnDelete (as
// upstream's CustomResourceDefinition REST): a deletionTimestamp, and what
// MarkOnDelete adds.
func (s *Store) markOnDelete(ctx context.Context, key, name string, pre *storage.Preconditions, dryRun bool, existing runtime.Object) (runtime.Object, bool, error) {
	mark := func(obj runtime.Object) {
		now := metav1.NewTime(s.now().Truncate(1e9))
		metaOf(obj).SetDeletionTimestamp(&now)
		s.r.MarkOnDelete(obj)
	}
	if dryRun {
		obj := existing.DeepCopyObject()
		mark(obj)
		return obj, false, nil
	}
	out := s.newStored()
	err := s.storage.GuaranteedUpdate(ctx, key, out, false, pre, func(input runtime.Object, _ storage.ResponseMeta) (runtime.Object, *uint64, error) {
		obj, err := s.fromStored(input.DeepCopyObject())
		if err != nil {
			return nil, nil, err
		}
		if metaOf(obj).GetDeletionTimestamp() == nil {
			mark(obj)
		}
		stored, err := s.toStored(obj)
		return stored, s.ttl(), err
	}, nil)
	if err != nil {
		return nil, false, interpretError(err, opDelete, s.gr(), name)
	}
	obj, err := s.fromStored(out)
	if err != nil {
		return nil, false, conversionError(err)
	}
	s.setTypeMeta(obj)
	return obj, false, nil
}

// validateDeleteOptions checks the options as upstream's
// ValidateDeleteOptions does.
func validateDeleteOptions(o *metav1.DeleteOptions) field.ErrorList {
	var errs field.ErrorList
	if o.OrphanDependents != nil && o.PropagationPolicy != nil {
		errs = append(errs, field.Invalid(field.NewPath("propagationPolicy"), o.PropagationPolicy,
			"orphanDependents and deletionPropagation cannot be both set"))
	}
	if p := o.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			errs = append(errs, field.NotSupported(field.NewPath("propagationPolicy"), p,
				[]string{string(metav1.DeletePropagationForeground), string(metav1.DeletePropagationBackground), string(metav1.DeletePropagationOrphan), "nil"}))
		}
	}
	if g := o.GracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(field.NewPath("gracePeriodSeconds"), *g, "must be greater than or equal to 0"))
	}
	return errs
}

// DeleteCollection deletes every object of a namespace ("" for all) that
// matches listOpts, and returns the list of what it deleted or marked.
// A resource that does not serve deletecollection refuses with
// NewMethodNotAllowed.
func (s *Store) DeleteCollection(ctx context.Context, namespace string, listOpts *metainternalversion.ListOptions, opts DeleteOptions) (runtime.Object, error) {
	if s.r.NoDeleteCollection {
		return nil, NewMethodNotAllowed()
	}
	if listOpts == nil {
		listOpts = &metainternalversion.ListOptions{}
	}
	lo := *listOpts
	lo.Limit, lo.Continue = 0, ""
	list, err := s.List(ctx, namespace, &lo)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	deleted := make([]runtime.Object, 0, len(items))
	for _, it := range items {
		m := metaOf(it)
		o := opts
		if opts.Preconditions == nil {
			uid := m.GetUID()
			o.Preconditions = &metav1.Preconditions{UID: &uid}
		}
		obj, _, err := s.Delete(ctx, m.GetNamespace(), m.GetName(), o)
		switch {
		case err == nil:
			deleted = append(deleted, obj)
		case apierrors.IsNotFound(err), apierrors.IsConflict(err):
			// Gone or replaced meanwhile: not ours to delete.
		default:
			return nil, err
		}
	}
	out := s.NewList()
	if err := meta.SetList(out, deleted); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("building the list of deleted %s: %w", s.gr(), err))
	}
	clearItemKinds(out)
	out.GetObjectKind().SetGroupVersionKind(s.r.GroupVersion().WithKind(s.r.Kind + "List"))
	return out, nil
}

// checkDeletePreconditions checks a delete's preconditions against the
// object read, as upstream's rest.BeforeDelete, with its messages (which
// name the kind where the resource goes). The storage checks them again
// when it deletes.
func (s *Store) checkDeletePreconditions(p *metav1.Preconditions, m metav1.Object) error {
	kind := schema.GroupResource{Group: s.r.Group, Resource: s.r.Kind}
	if p.UID != nil && *p.UID != m.GetUID() {
		return apierrors.NewConflict(kind, m.GetName(), fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(kind, m.GetName(), fmt.Errorf("the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}
