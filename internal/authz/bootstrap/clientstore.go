package bootstrap

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// ClientStores are Stores over an API server's client (a loopback client
// of a member of system:masters, as upstream's post-start hook uses).
func ClientStores(c kubernetes.Interface) Stores {
	r := c.RbacV1()
	return Stores{
		ClusterRoles: funcs[*rbacv1.ClusterRole]{
			list: func(ctx context.Context, _ string) ([]*rbacv1.ClusterRole, error) {
				l, err := r.ClusterRoles().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return pointers(l.Items), nil
			},
			get: func(ctx context.Context, _, n string) (*rbacv1.ClusterRole, error) {
				return r.ClusterRoles().Get(ctx, n, metav1.GetOptions{})
			},
			create: func(ctx context.Context, _ string, o *rbacv1.ClusterRole) error {
				_, err := r.ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
				return err
			},
			update: func(ctx context.Context, _ string, o *rbacv1.ClusterRole) error {
				_, err := r.ClusterRoles().Update(ctx, o, metav1.UpdateOptions{})
				return err
			},
			del: func(ctx context.Context, _, n string, o metav1.DeleteOptions) error {
				return r.ClusterRoles().Delete(ctx, n, o)
			},
		},
		ClusterRoleBindings: funcs[*rbacv1.ClusterRoleBinding]{
			list: func(ctx context.Context, _ string) ([]*rbacv1.ClusterRoleBinding, error) {
				l, err := r.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return pointers(l.Items), nil
			},
			get: func(ctx context.Context, _, n string) (*rbacv1.ClusterRoleBinding, error) {
				return r.ClusterRoleBindings().Get(ctx, n, metav1.GetOptions{})
			},
			create: func(ctx context.Context, _ string, o *rbacv1.ClusterRoleBinding) error {
				_, err := r.ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
				return err
			},
			update: func(ctx context.Context, _ string, o *rbacv1.ClusterRoleBinding) error {
				_, err := r.ClusterRoleBindings().Update(ctx, o, metav1.UpdateOptions{})
				return err
			},
			del: func(ctx context.Context, _, n string, o metav1.DeleteOptions) error {
				return r.ClusterRoleBindings().Delete(ctx, n, o)
			},
		},
		Roles: funcs[*rbacv1.Role]{
			list: func(ctx context.Context, ns string) ([]*rbacv1.Role, error) {
				l, err := r.Roles(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return pointers(l.Items), nil
			},
			get: func(ctx context.Context, ns, n string) (*rbacv1.Role, error) {
				return r.Roles(ns).Get(ctx, n, metav1.GetOptions{})
			},
			create: func(ctx context.Context, ns string, o *rbacv1.Role) error {
				_, err := r.Roles(ns).Create(ctx, o, metav1.CreateOptions{})
				return err
			},
			update: func(ctx context.Context, ns string, o *rbacv1.Role) error {
				_, err := r.Roles(ns).Update(ctx, o, metav1.UpdateOptions{})
				return err
			},
			del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
				return r.Roles(ns).Delete(ctx, n, o)
			},
		},
		RoleBindings: funcs[*rbacv1.RoleBinding]{
			list: func(ctx context.Context, ns string) ([]*rbacv1.RoleBinding, error) {
				l, err := r.RoleBindings(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return pointers(l.Items), nil
			},
			get: func(ctx context.Context, ns, n string) (*rbacv1.RoleBinding, error) {
				return r.RoleBindings(ns).Get(ctx, n, metav1.GetOptions{})
			},
			create: func(ctx context.Context, ns string, o *rbacv1.RoleBinding) error {
				_, err := r.RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
				return err
			},
			update: func(ctx context.Context, ns string, o *rbacv1.RoleBinding) error {
				_, err := r.RoleBindings(ns).Update(ctx, o, metav1.UpdateOptions{})
				return err
			},
			del: func(ctx context.Context, ns, n string, o metav1.DeleteOptions) error {
				return r.RoleBindings(ns).Delete(ctx, n, o)
			},
		},
		Namespaces: funcs[*corev1.Namespace]{
			get: func(ctx context.Context, _, n string) (*corev1.Namespace, error) {
				return c.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{})
			},
			create: func(ctx context.Context, _ string, o *corev1.Namespace) error {
				_, err := c.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
				return err
			},
		},
	}
}

// pointers are pointers to the items of a list.
func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// funcs is an ObjectStore of typed functions.
type funcs[T runtime.Object] struct {
	list   func(ctx context.Context, namespace string) ([]T, error)
	get    func(ctx context.Context, namespace, name string) (T, error)
	create func(ctx context.Context, namespace string, obj T) error
	update func(ctx context.Context, namespace string, obj T) error
	del    func(ctx context.Context, namespace, name string, opts metav1.DeleteOptions) error
}

// List lists a namespace's objects (a consistent read), when f can.
func (f funcs[T]) List(ctx context.Context, namespace string) ([]runtime.Object, error) {
	if f.list == nil {
		return nil, fmt.Errorf("cannot list")
	}
	items, err := f.list(ctx, namespace)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Object, len(items))
	for i, o := range items {
		out[i] = o
	}
	return out, nil
}

func (f funcs[T]) Get(ctx context.Context, namespace, name string) (runtime.Object, error) {
	return f.get(ctx, namespace, name)
}

func (f funcs[T]) Create(ctx context.Context, namespace string, obj runtime.Object) error {
	t, ok := obj.(T)
	if !ok {
		return fmt.Errorf("unexpected %T", obj)
	}
	return f.create(ctx, namespace, t)
}

func (f funcs[T]) Update(ctx context.Context, namespace string, obj runtime.Object) error {
	t, ok := obj.(T)
	if !ok || f.update == nil {
		return fmt.Errorf("cannot update %T", obj)
	}
	return f.update(ctx, namespace, t)
}

func (f funcs[T]) Delete(ctx context.Context, namespace, name string, uid types.UID) error {
	if f.del == nil {
		return fmt.Errorf("cannot delete %s", name)
	}
	return f.del(ctx, namespace, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}
