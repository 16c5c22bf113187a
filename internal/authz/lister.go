package authz

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// Lister reads the RBAC objects a check needs. The server backs it with
// its watch cache; errors of a get are upstream's NotFound when the role
// does not exist. Returned objects are shared: callers never modify them.
type Lister interface {
	GetRole(ctx context.Context, namespace, name string) (*rbacv1.Role, error)
	ListRoleBindings(ctx context.Context, namespace string) ([]*rbacv1.RoleBinding, error)
	GetClusterRole(ctx context.Context, name string) (*rbacv1.ClusterRole, error)
	ListClusterRoleBindings(ctx context.Context) ([]*rbacv1.ClusterRoleBinding, error)
}

// MemoryLister is a Lister over objects held in memory, kept current by
// whoever watches the store (Set and Delete). Lists are snapshots built
// once per change, so a check allocates nothing to read them.
type MemoryLister struct {
	mu           sync.RWMutex
	roles        map[string]*rbacv1.Role // namespace/name
	clusterRoles map[string]*rbacv1.ClusterRole
	rbs          map[string]map[string]*rbacv1.RoleBinding // namespace → name
	crbs         map[string]*rbacv1.ClusterRoleBinding
	// Snapshots, rebuilt lazily after a change.
	rbList  map[string][]*rbacv1.RoleBinding
	crbList []*rbacv1.ClusterRoleBinding
	crbOK   bool
	// synced counts the kinds Feed has listed once.
	synced atomic.Int32
}

// NewMemoryLister returns a lister holding objs (*rbacv1.Role,
// *rbacv1.ClusterRole, *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding).
func NewMemoryLister(objs ...any) *MemoryLister {
	l := &MemoryLister{
		roles: map[string]*rbacv1.Role{}, clusterRoles: map[string]*rbacv1.ClusterRole{},
		rbs: map[string]map[string]*rbacv1.RoleBinding{}, crbs: map[string]*rbacv1.ClusterRoleBinding{},
		rbList: map[string][]*rbacv1.RoleBinding{},
	}
	for _, o := range objs {
		l.Set(o)
	}
	return l
}

// wrapped is an object carried in a wrapper (the watch cache's events
// carry cached objects that keep their encodings).
type wrapped interface{ GetObject() runtime.Object }

// unwrap returns the object a wrapper carries.
func unwrap(obj any) any {
	if w, ok := obj.(wrapped); ok {
		return w.GetObject()
	}
	return obj
}

// Set adds or replaces an RBAC object; other types are ignored.
func (l *MemoryLister) Set(obj any) {
	obj = unwrap(obj)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch o := obj.(type) {
	case *rbacv1.Role:
		l.roles[o.Namespace+"/"+o.Name] = o
	case *rbacv1.ClusterRole:
		l.clusterRoles[o.Name] = o
	case *rbacv1.RoleBinding:
		m := l.rbs[o.Namespace]
		if m == nil {
			m = map[string]*rbacv1.RoleBinding{}
			l.rbs[o.Namespace] = m
		}
		m[o.Name] = o
		delete(l.rbList, o.Namespace)
	case *rbacv1.ClusterRoleBinding:
		l.crbs[o.Name] = o
		l.crbOK = false
	}
}

// Delete removes an RBAC object (matched by kind, namespace and name).
func (l *MemoryLister) Delete(obj any) {
	obj = unwrap(obj)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch o := obj.(type) {
	case *rbacv1.Role:
		delete(l.roles, o.Namespace+"/"+o.Name)
	case *rbacv1.ClusterRole:
		delete(l.clusterRoles, o.Name)
	case *rbacv1.RoleBinding:
		delete(l.rbs[o.Namespace], o.Name)
		if len(l.rbs[o.Namespace]) == 0 {
			delete(l.rbs, o.Namespace)
		}
		delete(l.rbList, o.Namespace)
	case *rbacv1.ClusterRoleBinding:
		delete(l.crbs, o.Name)
		l.crbOK = false
	}
}

// GetRole implements Lister.
func (l *MemoryLister) GetRole(_ context.Context, namespace, name string) (*rbacv1.Role, error) {
	l.mu.RLock()
	r, ok := l.roles[namespace+"/"+name]
	l.mu.RUnlock()
	if !ok {
		return nil, apierrors.NewNotFound(rbacv1.Resource("role"), name)
	}
	return r, nil
}

// GetClusterRole implements Lister.
func (l *MemoryLister) GetClusterRole(_ context.Context, name string) (*rbacv1.ClusterRole, error) {
	l.mu.RLock()
	r, ok := l.clusterRoles[name]
	l.mu.RUnlock()
	if !ok {
		return nil, apierrors.NewNotFound(rbacv1.Resource("clusterrole"), name)
	}
	return r, nil
}

// ListClusterRoles returns every cluster role, sorted by name.
func (l *MemoryLister) ListClusterRoles() []*rbacv1.ClusterRole {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]*rbacv1.ClusterRole, 0, len(l.clusterRoles))
	for _, r := range l.clusterRoles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ListRoleBindings implements Lister.
func (l *MemoryLister) ListRoleBindings(_ context.Context, namespace string) ([]*rbacv1.RoleBinding, error) {
	if namespace == "" {
		return nil, fmt.Errorf("must provide namespace when listing role bindings")
	}
	l.mu.RLock()
	list, ok := l.rbList[namespace]
	none := len(l.rbs[namespace]) == 0
	l.mu.RUnlock()
	if ok || none {
		// A namespace without bindings is not remembered: requests
		// naming any number of namespaces use no memory.
		return list, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if list, ok := l.rbList[namespace]; ok {
		return list, nil
	}
	m := l.rbs[namespace]
	list = make([]*rbacv1.RoleBinding, 0, len(m))
	for _, b := range m {
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	l.rbList[namespace] = list
	return list, nil
}

// ListClusterRoleBindings implements Lister.
func (l *MemoryLister) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	l.mu.RLock()
	list, ok := l.crbList, l.crbOK
	l.mu.RUnlock()
	if ok {
		return list, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.crbOK {
		return l.crbList, nil
	}
	list = make([]*rbacv1.ClusterRoleBinding, 0, len(l.crbs))
	for _, b := range l.crbs {
		list = append(list, b)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	l.crbList, l.crbOK = list, true
	return list, nil
}
