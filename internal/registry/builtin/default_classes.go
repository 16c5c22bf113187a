package builtin

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// The annotations upstream's DefaultStorageClass and DefaultIngressClass
// admission plugins read.
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	defaultIngressClassAnnotation     = "ingressclass.kubernetes.io/is-default-class"
	ingressClassAnnotation            = "kubernetes.io/ingress.class"
)

// DefaultStorageClassAdmission is upstream's DefaultStorageClass
// admission plugin, a step of the admission chain: a new
// PersistentVolumeClaim that names no class (neither the field nor the
// beta annotation) gets the default StorageClass, the newest of those
// annotated as default (by name on a tie), or stays without one. The
// classes are read from reg's watch cache.
func DefaultStorageClassAdmission(reg *registry.Registry) registry.Admission {
	return defaultClassPlugin(reg, schema.GroupResource{Resource: "persistentvolumeclaims"}, admitDefaultStorageClass)
}

// DefaultIngressClassAdmission is upstream's DefaultIngressClass
// admission plugin, the same for a new Ingress and its IngressClass.
func DefaultIngressClassAdmission(reg *registry.Registry) registry.Admission {
	return defaultClassPlugin(reg, schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, admitDefaultIngressClass)
}

func defaultClassPlugin(reg *registry.Registry, gr schema.GroupResource, admit func(context.Context, *registry.Registry, runtime.Object) error) registry.Admission {
	return registry.Mutating(func(ctx context.Context, a *registry.Attributes) error {
		if a.Operation != registry.OpCreate || a.Subresource != "" || a.Resource.GroupResource() != gr || a.Object == nil {
			return nil
		}
		if err := admit(ctx, reg, a.Object); err != nil {
			return AdmissionForbidden(a, err) // a class list that failed
		}
		return nil
	})
}

func admitDefaultStorageClass(ctx context.Context, reg *registry.Registry, obj runtime.Object) error {
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return nil
	}
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
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return nil
	}
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
	items, err := sharedObjects(ctx, st, "", "0")
	if err != nil {
		return "", err
	}
	var defaults []metav1.Object
	for _, it := range items {
		m, err := meta.Accessor(it)
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
