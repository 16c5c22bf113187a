package bootstrap

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Lister is an ObjectStore that can also list a namespace's objects
// ("" for cluster-scoped ones) in one read.
type Lister interface {
	List(ctx context.Context, namespace string) ([]runtime.Object, error)
}

// snapshotStore answers Gets from lists taken before a reconcile, so a
// start on an existing data dir reads each kind of object once instead
// of each object (about 150 reads). A key written through it, or
// refused, is read from the store again, so a retry after a conflict
// sees the stored object.
type snapshotStore struct {
	ObjectStore
	gr schema.GroupResource

	mu     sync.Mutex
	listed map[string]bool           // namespaces listed
	objs   map[string]runtime.Object // by namespace/name
	stale  map[string]bool           // keys read from the store again
}

// snapshot wraps st when it can list: the namespaces given are listed
// now. A failed list leaves st as it is.
func snapshot(ctx context.Context, st ObjectStore, resource string, namespaces ...string) ObjectStore {
	l, ok := st.(Lister)
	if !ok {
		return st
	}
	s := &snapshotStore{ObjectStore: st, gr: schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: resource},
		listed: map[string]bool{}, objs: map[string]runtime.Object{}, stale: map[string]bool{}}
	for _, ns := range namespaces {
		if s.listed[ns] {
			continue
		}
		items, err := l.List(ctx, ns)
		if err != nil {
			return st
		}
		for _, o := range items {
			m, err := meta.Accessor(o)
			if err != nil {
				return st
			}
			s.objs[ns+"/"+m.GetName()] = o
		}
		s.listed[ns] = true
	}
	return s
}

func (s *snapshotStore) Get(ctx context.Context, namespace, name string) (runtime.Object, error) {
	key := namespace + "/" + name
	s.mu.Lock()
	if s.listed[namespace] && !s.stale[key] {
		o, ok := s.objs[key]
		s.mu.Unlock()
		if !ok {
			return nil, apierrors.NewNotFound(s.gr, name)
		}
		return o.DeepCopyObject(), nil
	}
	s.mu.Unlock()
	return s.ObjectStore.Get(ctx, namespace, name)
}

func (s *snapshotStore) written(namespace, name string) {
	s.mu.Lock()
	s.stale[namespace+"/"+name] = true
	s.mu.Unlock()
}

func (s *snapshotStore) Create(ctx context.Context, namespace string, obj runtime.Object) error {
	if m, err := meta.Accessor(obj); err == nil {
		defer s.written(namespace, m.GetName())
	}
	return s.ObjectStore.Create(ctx, namespace, obj)
}

func (s *snapshotStore) Update(ctx context.Context, namespace string, obj runtime.Object) error {
	if m, err := meta.Accessor(obj); err == nil {
		defer s.written(namespace, m.GetName())
	}
	return s.ObjectStore.Update(ctx, namespace, obj)
}

func (s *snapshotStore) Delete(ctx context.Context, namespace, name string, uid types.UID) error {
	defer s.written(namespace, name)
	return s.ObjectStore.Delete(ctx, namespace, name, uid)
}

// namespacesOnce remembers the namespaces found, so each role's and
// binding's namespace is read once.
type namespacesOnce struct {
	ObjectStore
	found sync.Map // name → true
}

func (n *namespacesOnce) Get(ctx context.Context, namespace, name string) (runtime.Object, error) {
	if o, ok := n.found.Load(name); ok {
		return o.(runtime.Object).DeepCopyObject(), nil
	}
	o, err := n.ObjectStore.Get(ctx, namespace, name)
	if err == nil {
		n.found.Store(name, o)
	}
	return o, err
}

// withSnapshots is s with its RBAC stores answering from one list per
// kind and namespace of p, and its namespaces read once each.
func withSnapshots(ctx context.Context, p *Policy, s Stores) Stores {
	var roleNS, bindingNS []string
	for _, r := range p.Roles {
		roleNS = append(roleNS, r.Namespace)
	}
	for _, b := range p.RoleBindings {
		bindingNS = append(bindingNS, b.Namespace)
	}
	out := Stores{
		ClusterRoles:        snapshot(ctx, s.ClusterRoles, "clusterroles", ""),
		ClusterRoleBindings: snapshot(ctx, s.ClusterRoleBindings, "clusterrolebindings", ""),
		Roles:               snapshot(ctx, s.Roles, "roles", roleNS...),
		RoleBindings:        snapshot(ctx, s.RoleBindings, "rolebindings", bindingNS...),
	}
	if s.Namespaces != nil {
		out.Namespaces = &namespacesOnce{ObjectStore: s.Namespaces}
	}
	return out
}
