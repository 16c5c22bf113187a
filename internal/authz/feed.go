package authz

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// Source lists and watches one kind of RBAC object (the server's watch
// cache: a list at resourceVersion "0" and a watch are served from it).
type Source interface {
	// List returns a list object (*rbacv1.RoleList ...) with its
	// resourceVersion.
	List(ctx context.Context) (runtime.Object, error)
	// Watch streams the changes after resourceVersion.
	Watch(ctx context.Context, resourceVersion string) (watch.Interface, error)
}

// Sources are the four kinds the RBAC authorizer reads.
type Sources struct {
	Roles, RoleBindings, ClusterRoles, ClusterRoleBindings Source
}

// Feed keeps l current from the sources until ctx ends: for each kind, a
// list replaces what l holds of it, then a watch applies each change,
// and after a watch ends or fails the kind is listed again (after retry).
// changed, when set, is called after every change (the aggregation
// controller's Changed). It returns when ctx ends, after its goroutines
// have stopped.
func (l *MemoryLister) Feed(ctx context.Context, s Sources, changed func(), retry time.Duration) {
	if changed == nil {
		changed = func() {}
	}
	if retry <= 0 {
		retry = time.Second
	}
	kinds := []struct {
		src  Source
		kind string
	}{{s.Roles, "roles"}, {s.RoleBindings, "rolebindings"}, {s.ClusterRoles, "clusterroles"}, {s.ClusterRoleBindings, "clusterrolebindings"}}
	done := make(chan struct{}, len(kinds))
	for _, k := range kinds {
		go func() {
			defer func() { done <- struct{}{} }()
			l.feedKind(ctx, k.kind, k.src, changed, retry)
		}()
	}
	for range kinds {
		<-done
	}
}

// Synced tells whether every kind has been listed once: until then a
// check could miss a binding, so the server is not ready.
func (l *MemoryLister) Synced() bool { return l.synced.Load() == 4 }

func (l *MemoryLister) feedKind(ctx context.Context, kind string, src Source, changed func(), retry time.Duration) {
	first := true
	for ctx.Err() == nil {
		rv, err := l.relist(ctx, kind, src)
		if err == nil {
			if first {
				l.synced.Add(1)
				first = false
			}
			changed()
			_ = l.follow(ctx, src, rv, changed) // ended: list again
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// relist replaces l's objects of kind with the listed ones.
func (l *MemoryLister) relist(ctx context.Context, kind string, src Source) (string, error) {
	list, err := src.List(ctx)
	if err != nil {
		return "", err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return "", err
	}
	acc, err := meta.ListAccessor(list)
	if err != nil {
		return "", err
	}
	objs := make([]any, len(items))
	for i, o := range items {
		objs[i] = o
	}
	if err := l.replace(kind, objs); err != nil {
		return "", err
	}
	return acc.GetResourceVersion(), nil
}

// follow applies a watch's events until it ends, fails or ctx ends.
func (l *MemoryLister) follow(ctx context.Context, src Source, rv string, changed func()) error {
	w, err := src.Watch(ctx, rv)
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			switch e.Type {
			case watch.Added, watch.Modified:
				l.Set(e.Object)
			case watch.Deleted:
				l.Delete(e.Object)
			case watch.Error:
				return fmt.Errorf("watch: %v", e.Object)
			default:
				continue // bookmarks
			}
			changed()
		}
	}
}

// replace sets the objects of one kind, dropping those not in objs. The
// new set is built aside and swapped in at once: a check never sees a
// kind half listed.
func (l *MemoryLister) replace(kind string, objs []any) error {
	n := NewMemoryLister(objs...)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch kind {
	case "roles":
		l.roles = n.roles
	case "rolebindings":
		l.rbs, l.rbList = n.rbs, n.rbList
	case "clusterroles":
		l.clusterRoles = n.clusterRoles
	case "clusterrolebindings":
		l.crbs, l.crbOK = n.crbs, false
	default:
		return fmt.Errorf("unknown kind %q", kind)
	}
	return nil
}
