// Package regstore connects the authorization packages to the registry:
// the watch-cache sources of the RBAC authorizer's lister, the stores
// the bootstrap policy is reconciled into, and the writer of aggregated
// rules. It is the server's wiring, kept out of the leaf packages.
package regstore

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/authz/bootstrap"
	"github.com/regis-dev/regis/internal/registry"
)

func rbac(resource string) schema.GroupVersionResource {
	return rbacv1.SchemeGroupVersion.WithResource(resource)
}

func lookup(reg *registry.Registry, gvr schema.GroupVersionResource) (*registry.Store, error) {
	st, ok := reg.Lookup(gvr)
	if !ok {
		return nil, fmt.Errorf("regstore: %s is not served", gvr)
	}
	return st, nil
}

// source lists at resourceVersion "0" (the watch cache) and watches from
// the list's resourceVersion.
type source struct{ st *registry.Store }

func (s source) List(ctx context.Context) (runtime.Object, error) {
	return s.st.List(ctx, "", &metainternalversion.ListOptions{ResourceVersion: "0"})
}

func (s source) Watch(ctx context.Context, rv string) (watch.Interface, error) {
	return s.st.Watch(ctx, "", &metainternalversion.ListOptions{ResourceVersion: rv, Watch: true, AllowWatchBookmarks: true})
}

// Sources are the four RBAC kinds of reg, for authz.MemoryLister.Feed.
func Sources(reg *registry.Registry) (authz.Sources, error) {
	var s authz.Sources
	for _, k := range []struct {
		into *authz.Source
		res  string
	}{{&s.Roles, "roles"}, {&s.RoleBindings, "rolebindings"}, {&s.ClusterRoles, "clusterroles"}, {&s.ClusterRoleBindings, "clusterrolebindings"}} {
		st, err := lookup(reg, rbac(k.res))
		if err != nil {
			return s, err
		}
		*k.into = source{st}
	}
	return s, nil
}

// store is a bootstrap.ObjectStore over a registry store.
type store struct{ st *registry.Store }

func (s store) Get(ctx context.Context, namespace, name string) (runtime.Object, error) {
	return s.st.Get(ctx, namespace, name, &metav1.GetOptions{})
}

func (s store) Create(ctx context.Context, namespace string, obj runtime.Object) error {
	_, err := s.st.Create(ctx, namespace, obj.DeepCopyObject(), registry.CreateOptions{})
	return err
}

// Update writes obj if the stored object is still the one obj was read
// from (same resourceVersion); else Conflict.
func (s store) Update(ctx context.Context, namespace string, obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	_, _, err = s.st.Update(ctx, namespace, m.GetName(), func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		em, err := meta.Accessor(existing)
		if err != nil {
			return nil, err
		}
		if em.GetResourceVersion() != m.GetResourceVersion() {
			return nil, apierrors.NewConflict(s.st.Resource().GroupResource(), m.GetName(),
				fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		return obj.DeepCopyObject(), nil
	}, registry.UpdateOptions{})
	return err
}

func (s store) Delete(ctx context.Context, namespace, name string, uid types.UID) error {
	_, _, err := s.st.Delete(ctx, namespace, name, registry.DeleteOptions{
		DeleteOptions: metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}})
	return err
}

// Stores are reg's RBAC kinds and namespaces, for bootstrap.Ensure.
func Stores(reg *registry.Registry) (bootstrap.Stores, error) {
	var s bootstrap.Stores
	for _, k := range []struct {
		into *bootstrap.ObjectStore
		gvr  schema.GroupVersionResource
	}{{&s.Roles, rbac("roles")}, {&s.RoleBindings, rbac("rolebindings")}, {&s.ClusterRoles, rbac("clusterroles")},
		{&s.ClusterRoleBindings, rbac("clusterrolebindings")}, {&s.Namespaces, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}}} {
		st, err := lookup(reg, k.gvr)
		if err != nil {
			return s, err
		}
		*k.into = store{st}
	}
	return s, nil
}

// RulesWriter writes aggregated rules into cluster roles of reg (an
// update of the rules only; upstream applies them as the field manager
// clusterrole-aggregation-controller, which the registry does not record).
type RulesWriter struct{ st *registry.Store }

// NewRulesWriter returns the writer of reg's cluster roles.
func NewRulesWriter(reg *registry.Registry) (*RulesWriter, error) {
	st, err := lookup(reg, rbac("clusterroles"))
	if err != nil {
		return nil, err
	}
	return &RulesWriter{st}, nil
}

// SetClusterRoleRules implements authz.RulesWriter.
func (w *RulesWriter) SetClusterRoleRules(ctx context.Context, name string, rules []rbacv1.PolicyRule) error {
	_, _, err := w.st.Update(ctx, "", name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		cr, ok := existing.(*rbacv1.ClusterRole)
		if !ok {
			return nil, fmt.Errorf("unexpected %T", existing)
		}
		cr = cr.DeepCopy()
		cr.Rules = rules
		return cr, nil
	}, registry.UpdateOptions{})
	return err
}
