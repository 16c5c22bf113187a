package registry

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Get returns one object. resourceVersion "" reads etcd; "0" or N may be
// served by a watch cache (not older than N).
func (s *Store) Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	rv := ""
	if opts != nil {
		rv = opts.ResourceVersion
	}
	return s.get(ctx, namespace, name, storage.GetOptions{ResourceVersion: rv})
}

func (s *Store) get(ctx context.Context, namespace, name string, opts storage.GetOptions) (runtime.Object, error) {
	key, err := s.key(namespace, name)
	if err != nil {
		return nil, err
	}
	out := s.newStored()
	if err := s.storage.Get(ctx, key, opts, out); err != nil {
		return nil, interpretError(err, opGet, s.gr(), name)
	}
	obj, err := s.fromStored(out)
	if err != nil {
		return nil, conversionError(err)
	}
	s.setTypeMeta(obj)
	return obj, nil
}

// attrs returns the labels and selectable fields of a stored object (or a
// watch cache's wrapper of one), for selection predicates.
func (s *Store) attrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	obj, err := s.fromStored(cacheable.Unwrap(obj))
	if err != nil {
		return nil, nil, err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(m.GetLabels()), s.r.SelectableFields(obj, m.GetName(), m.GetNamespace()), nil
}

// Predicate builds the selection predicate of list options, refusing
// field selectors the resource does not support with upstream's 400.
func (s *Store) Predicate(opts *metainternalversion.ListOptions) (storage.SelectionPredicate, error) {
	p := storage.SelectionPredicate{Label: labels.Everything(), Field: fields.Everything(), GetAttrs: s.attrs}
	if opts == nil {
		return p, nil
	}
	if opts.LabelSelector != nil {
		p.Label = opts.LabelSelector
	}
	if opts.FieldSelector != nil {
		for _, req := range opts.FieldSelector.Requirements() {
			if !s.fieldNames[req.Field] {
				return p, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
		p.Field = opts.FieldSelector
	}
	p.Limit = opts.Limit
	p.Continue = opts.Continue
	p.AllowWatchBookmarks = opts.AllowWatchBookmarks
	return p, nil
}

// listKey returns the key a list or watch reads and whether it is
// recursive: the namespace's objects, narrowed by a metadata.namespace
// field selector on an all-namespaces request, or a single object when a
// metadata.name selector names it (as upstream's generic store).
func (s *Store) listKey(namespace string, p storage.SelectionPredicate) (string, bool, error) {
	prefix := s.r.EtcdPrefix()
	if s.r.Namespaced && namespace == "" {
		if ns, ok := p.MatchesSingleNamespace(); ok && len(validation.IsDNS1123Label(ns)) == 0 {
			namespace = ns
		}
	}
	if name, ok := p.MatchesSingle(); ok && (namespace != "" || !s.r.Namespaced) {
		if key, err := s.key(namespace, name); err == nil {
			return key, false, nil
		}
	}
	if !s.r.Namespaced {
		return RootKey(prefix), true, nil
	}
	key, err := NamespaceRootKey(prefix, namespace)
	return key, true, err
}

// List returns the objects of a namespace ("" for all) that match opts,
// one page of them when opts.Limit is set.
func (s *Store) List(ctx context.Context, namespace string, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	if opts == nil {
		opts = &metainternalversion.ListOptions{}
	}
	p, err := s.Predicate(opts)
	if err != nil {
		return nil, err
	}
	key, recursive, err := s.listKey(namespace, p)
	if err != nil {
		return nil, err
	}
	list := s.newStoredList()
	err = s.storage.GetList(ctx, key, storage.ListOptions{
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Predicate:            p,
		Recursive:            recursive,
	}, list)
	if err != nil {
		return nil, interpretError(err, opList, s.gr(), "")
	}
	if s.r.Convert != nil {
		if list, err = s.convertList(list); err != nil {
			return nil, conversionError(err)
		}
	}
	clearItemKinds(list)
	list.GetObjectKind().SetGroupVersionKind(s.r.GroupVersion().WithKind(s.r.Kind + "List"))
	return list, nil
}

// clearItemKinds removes the kind and apiVersion of a typed list's items,
// as upstream's lists hold them. The items are copies: the watch cache's
// objects keep theirs. The items of custom resources keep them, as
// upstream's (and share their maps with the watch cache's objects).
func clearItemKinds(list runtime.Object) {
	if _, custom := list.(*unstructured.UnstructuredList); custom {
		return
	}
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
		return nil
	})
}

// convertList converts a stored list to the served list type.
func (s *Store) convertList(stored runtime.Object) (runtime.Object, error) {
	items, err := meta.ExtractList(stored)
	if err != nil {
		return nil, err
	}
	out := s.r.NewList()
	served := make([]runtime.Object, 0, len(items))
	if many := s.r.Convert.FromStorageList; many != nil {
		if served, err = many(items); err != nil {
			return nil, err
		}
	}
	for _, it := range items[len(served):] {
		o, err := s.fromStored(it)
		if err != nil {
			return nil, err
		}
		served = append(served, o)
	}
	if err := meta.SetList(out, served); err != nil {
		return nil, err
	}
	src, _ := meta.ListAccessor(stored)
	dst, _ := meta.ListAccessor(out)
	dst.SetResourceVersion(src.GetResourceVersion())
	dst.SetContinue(src.GetContinue())
	dst.SetRemainingItemCount(src.GetRemainingItemCount())
	return out, nil
}

// Watch streams the changes of the objects of a namespace ("" for all)
// that match opts. Event objects may be runtime.CacheableObject wrappers
// (from a watch cache): unwrap them before looking inside.
func (s *Store) Watch(ctx context.Context, namespace string, opts *metainternalversion.ListOptions) (watch.Interface, error) {
	if opts == nil {
		opts = &metainternalversion.ListOptions{}
	}
	p, err := s.Predicate(opts)
	if err != nil {
		return nil, err
	}
	p.Limit, p.Continue = 0, ""
	key, recursive, err := s.listKey(namespace, p)
	if err != nil {
		return nil, err
	}
	w, err := s.storage.Watch(ctx, key, storage.ListOptions{
		ResourceVersion:   opts.ResourceVersion,
		Predicate:         p,
		Recursive:         recursive,
		SendInitialEvents: opts.SendInitialEvents,
	})
	if err != nil {
		return nil, interpretError(err, opList, s.gr(), "")
	}
	if s.r.Convert == nil {
		return w, nil
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		if e.Type == watch.Error {
			return e, true
		}
		o, err := s.fromStored(e.Object)
		if err != nil {
			return watch.Event{Type: watch.Error, Object: &apierrors.NewInternalError(err).ErrStatus}, true
		}
		s.setTypeMeta(o)
		e.Object = o
		return e, true
	}), nil
}
