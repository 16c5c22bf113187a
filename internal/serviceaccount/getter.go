package serviceaccount

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// InvalidSinceLabel marks a legacy token secret whose token is refused
// (upstream's legacy token cleaner sets it).
const InvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since"

// RegistryGetter reads the objects tokens name through a registry: from
// the watch cache (resourceVersion "0"), or fresh.
type RegistryGetter struct {
	Registry *registry.Registry
}

// Get implements Getter.
func (g RegistryGetter) Get(ctx context.Context, resource, namespace, name string, fresh bool) (Object, error) {
	st, ok := g.Registry.Lookup(corev1.SchemeGroupVersion.WithResource(resource))
	if !ok {
		return Object{}, apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
	}
	opts := &metav1.GetOptions{ResourceVersion: "0"}
	if fresh {
		opts.ResourceVersion = ""
	}
	obj, err := st.Get(ctx, namespace, name, opts)
	if err != nil {
		return Object{}, err
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return Object{}, err
	}
	o := Object{UID: string(m.GetUID())}
	if d := m.GetDeletionTimestamp(); d != nil {
		o.Deleted = d.Time
	}
	if s, ok := obj.(*corev1.Secret); ok {
		o.Token = string(s.Data[corev1.ServiceAccountTokenKey])
		o.InvalidSince = s.Labels[InvalidSinceLabel]
	}
	return o, nil
}
