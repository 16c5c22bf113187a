package builtin

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// The annotations upstream's DefaultStorageClass and DefaultIngressClass
// admission plugins read.
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	defaultIngressClassAnnotation     = "ingressclass.kubernetes.io/is-default-class"
	ingressClassAnnotation            = "kubernetes.io/ingress.class"
)

// DefaultClasses makes the creation of a PersistentVolumeClaim and of an
// Ingress do what upstream's DefaultStorageClass and DefaultIngressClass
// admission plugins do: one that names no class (neither the field nor
// the legacy annotation) gets the default class, the newest of those
// annotated as default (by name on a tie), or stays without one. reg
// returns the registry the classes are read from (their watch cache);
// storage and ingress turn each plugin on.
func DefaultClasses(rs []*registry.Resource, reg func() *registry.Registry, storage, ingress bool) {
	for _, r := range rs {
		var admit func(context.Context, *registry.Registry, runtime.Object) error
		switch {
		case storage && r.Group == "" && r.Resource == "persistentvolumeclaims":
			admit = admitDefaultStorageClass
		case ingress && r.Group == "networking.k8s.io" && r.Resource == "ingresses":
			admit = admitDefaultIngressClass
		default:
			continue
		}
		prev := r.CheckWrite
		r.CheckWrite = func(ctx context.Context, obj, old runtime.Object) error {
			if prev != nil {
				if err := prev(ctx, obj, old); err != nil {
					return err
				}
			}
			if old != nil || reg() == nil {
				return nil
			}
			return admit(ctx, reg(), obj)
		}
	}
}

func admitDefaultStorageClass(ctx context.Context, reg *registry.Registry, obj runtime.Object) error {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	if _, ok := pvc.Annotations[betaStorageClassAnnotation]; ok || pvc.Spec.StorageClassName != nil {
		return nil
	}
	name, err := defaultClass(ctx, reg, schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
		defaultStorageClassAnnotation, betaDefaultStorageClassAnnotation)
	if err != nil || name == "" {
		return err
	}
	pvc.Spec.StorageClassName = &name
	return nil
}

func admitDefaultIngressClass(ctx context.Context, reg *registry.Registry, obj runtime.Object) error {
	ing := obj.(*networkingv1.Ingress)
	if _, ok := ing.Annotations[ingressClassAnnotation]; ok || ing.Spec.IngressClassName != nil {
		return nil
	}
	name, err := defaultClass(ctx, reg, networkingv1.SchemeGroupVersion.WithResource("ingressclasses"), defaultIngressClassAnnotation)
	if err != nil || name == "" {
		return err
	}
	ing.Spec.IngressClassName = &name
	return nil
}

// defaultClass is the name of the newest object of gvr annotated "true"
// with one of annotations (by name on a tie), or "" (upstream's
// GetDefaultClass of both plugins).
func defaultClass(ctx context.Context, reg *registry.Registry, gvr schema.GroupVersionResource, annotations ...string) (string, error) {
	st, ok := reg.Lookup(gvr)
	if !ok {
		return "", nil
	}
	list, err := st.List(ctx, "", &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return "", err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", err
	}
	var defaults []metav1.Object
	for _, it := range items {
		m, err := meta.Accessor(cacheable.Unwrap(it))
		if err != nil {
			continue
		}
		for _, a := range annotations {
			if m.GetAnnotations()[a] == "true" {
				defaults = append(defaults, m)
				break
			}
		}
	}
	if len(defaults) == 0 {
		return "", nil
	}
	sort.Slice(defaults, func(i, j int) bool {
		ti, tj := defaults[i].GetCreationTimestamp().UnixNano(), defaults[j].GetCreationTimestamp().UnixNano()
		if ti == tj {
			return defaults[i].GetName() < defaults[j].GetName()
		}
		return ti > tj
	})
	return defaults[0].GetName(), nil
}
