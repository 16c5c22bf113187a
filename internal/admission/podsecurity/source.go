package podsecurity

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// namespaceGetter reads a namespace as upstream's plugin does: from the
// informer's cache (here the watch cache, resourceVersion 0), then from
// storage when the cache does not have it yet.
type namespaceGetter struct{ reg *registry.Registry }

func (g namespaceGetter) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	st := g.reg.Namespaces()
	if st == nil {
		return nil, fmt.Errorf("namespaces are not served")
	}
	obj, err := st.Get(ctx, "", name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = st.Get(ctx, "", name, &metav1.GetOptions{})
	}
	if err != nil {
		return nil, err
	}
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return nil, fmt.Errorf("unexpected namespace type %T", obj)
	}
	return ns, nil
}

// podLister lists the pods of a namespace from the watch cache, as
// upstream's informer lister (the library checks at most 3000 of them,
// for at most a second).
type podLister struct{ reg *registry.Registry }

func (l podLister) ListPods(ctx context.Context, namespace string) ([]*corev1.Pod, error) {
	st, ok := l.reg.Lookup(corev1.SchemeGroupVersion.WithResource("pods"))
	if !ok {
		return nil, fmt.Errorf("pods are not served")
	}
	obj, err := st.List(ctx, namespace, &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	list, ok := obj.(*corev1.PodList)
	if !ok {
		return nil, fmt.Errorf("unexpected pod list type %T", obj)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}

// attributes are a request's attributes as the library reads them.
type attributes struct{ a *registry.Attributes }

func (x *attributes) GetName() string                          { return x.a.Name }
func (x *attributes) GetNamespace() string                     { return x.a.Namespace }
func (x *attributes) GetResource() schema.GroupVersionResource { return x.a.Resource }
func (x *attributes) GetKind() schema.GroupVersionKind         { return x.a.Kind }
func (x *attributes) GetSubresource() string                   { return x.a.Subresource }
func (x *attributes) GetOperation() admissionv1.Operation {
	return admissionv1.Operation(x.a.Operation)
}

func (x *attributes) GetUserName() string {
	if x.a.User == nil {
		return ""
	}
	return x.a.User.Name
}

func (x *attributes) GetObject() (runtime.Object, error)    { return typed(x.a.Object) }
func (x *attributes) GetOldObject() (runtime.Object, error) { return typed(x.a.OldObject) }

// typedKinds are the kinds the library reads, by group and kind.
var typedKinds = map[schema.GroupKind]func() runtime.Object{
	{Kind: "Namespace"}:                  func() runtime.Object { return &corev1.Namespace{} },
	{Kind: "Pod"}:                        func() runtime.Object { return &corev1.Pod{} },
	{Kind: "PodTemplate"}:                func() runtime.Object { return &corev1.PodTemplate{} },
	{Kind: "ReplicationController"}:      func() runtime.Object { return &corev1.ReplicationController{} },
	{Group: "apps", Kind: "ReplicaSet"}:  func() runtime.Object { return &appsv1.ReplicaSet{} },
	{Group: "apps", Kind: "Deployment"}:  func() runtime.Object { return &appsv1.Deployment{} },
	{Group: "apps", Kind: "StatefulSet"}: func() runtime.Object { return &appsv1.StatefulSet{} },
	{Group: "apps", Kind: "DaemonSet"}:   func() runtime.Object { return &appsv1.DaemonSet{} },
	{Group: "batch", Kind: "Job"}:        func() runtime.Object { return &batchv1.Job{} },
	{Group: "batch", Kind: "CronJob"}:    func() runtime.Object { return &batchv1.CronJob{} },
}

// typed returns the v1 typed object the library expects: the store's
// objects already are; an unstructured one is converted.
func typed(obj runtime.Object) (runtime.Object, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	newObj := typedKinds[u.GroupVersionKind().GroupKind()]
	if newObj == nil {
		return obj, nil
	}
	out := newObj()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		return nil, err
	}
	return out, nil
}
