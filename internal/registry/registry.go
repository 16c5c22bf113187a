package registry

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage"
)

// StorageFactory returns the storage of one resource. It is the one place
// that decides what sits under the registry: the etcd3 store, or a watch
// cache wrapping it.
type StorageFactory func(r *Resource) (storage.Interface, error)

// Config configures a Registry.
type Config struct {
	// Resources is the resource table: the served resources.
	Resources []*Resource
	// Internal are the rows of server bookkeeping that is stored but not
	// served (the node port bitmap): each gets a storage, reached with
	// Registry.Internal.
	Internal []*Resource
	// Storage makes each resource's storage. Required.
	Storage StorageFactory
	// Now is the clock of creation and deletion timestamps; nil means
	// time.Now.
	Now func() time.Time
}

// Registry is the set of Stores of the resource table. Rows made at run
// time (the versions of custom resources) come and go with Add and Remove.
type Registry struct {
	mu         sync.Mutex // serializes Add and Remove
	table      atomic.Pointer[table]
	namespaces *Store
	// gcKick wakes the garbage collector (capacity 1).
	gcKick chan struct{}
	// reapKick wakes the graceful reaper (capacity 1).
	reapKick chan struct{}
	// internal are the storages of Config.Internal by resource name.
	internal map[string]storage.Interface
	now      func() time.Time
	// admission is the dynamic admission chain (SetAdmission), nil
	// until one is set.
	admission atomic.Pointer[admissionBox]
}

// table is one state of the resource table; a change makes a new one.
type table struct {
	stores     []*Store
	byResource map[schema.GroupVersionResource]*Store
	revision   uint64
	changed    chan struct{} // closed when the next table replaces this one
}

// New builds a Store for each resource of the table. It starts nothing.
func New(c Config) (*Registry, error) {
	if c.Storage == nil {
		return nil, errors.New("registry: Storage is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	reg := &Registry{gcKick: make(chan struct{}, 1), reapKick: make(chan struct{}, 1), now: c.Now}
	t := &table{byResource: map[schema.GroupVersionResource]*Store{}, changed: make(chan struct{})}
	for _, r := range c.Resources {
		gvr := r.GroupVersionResource()
		if _, dup := t.byResource[gvr]; dup {
			return nil, fmt.Errorf("registry: %s listed twice", gvr)
		}
		st, err := c.Storage(r)
		if err != nil {
			return nil, fmt.Errorf("registry: storage of %s: %w", r.GroupResource(), err)
		}
		s := reg.newStore(r, st)
		t.stores = append(t.stores, s)
		t.byResource[gvr] = s
		if s.isNamespaces() {
			reg.namespaces = s
		}
	}
	reg.internal = map[string]storage.Interface{}
	for _, r := range c.Internal {
		st, err := c.Storage(r)
		if err != nil {
			return nil, fmt.Errorf("registry: storage of %s: %w", r.Resource, err)
		}
		reg.internal[r.Resource] = st
	}
	for _, s := range t.stores {
		if s.r.Namespaced {
			s.namespaces = reg.namespaces
		}
	}
	reg.table.Store(t)
	return reg, nil
}

func (r *Registry) newStore(res *Resource, st storage.Interface) *Store {
	s := &Store{r: res, storage: st, now: r.now, fieldNames: map[string]bool{}, gcKick: r.gcKick, reg: r}
	for f := range res.SelectableFields(res.New(), "", "") {
		s.fieldNames[f] = true
	}
	if res.Namespaced {
		s.namespaces = r.namespaces
	}
	return s
}

// Add serves a resource made at run time over st (the versions of a
// custom resource, which share one storage) and returns its Store. A row
// of the same group, version and resource must be removed first.
func (r *Registry) Add(res *Resource, st storage.Interface) (*Store, error) {
	gvr := res.GroupVersionResource()
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.table.Load()
	if _, dup := old.byResource[gvr]; dup {
		return nil, fmt.Errorf("registry: %s is already served", gvr)
	}
	s := r.newStore(res, st)
	stores := append(old.stores[:len(old.stores):len(old.stores)], s)
	r.replace(old, stores)
	return s, nil
}

// Replace serves res over st in place of the row of the same group,
// version and resource, in one change of the table (a custom resource
// whose CRD starts terminating).
func (r *Registry) Replace(res *Resource, st storage.Interface) (*Store, error) {
	gvr := res.GroupVersionResource()
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.table.Load()
	prev, ok := old.byResource[gvr]
	if !ok {
		return nil, fmt.Errorf("registry: %s is not served", gvr)
	}
	s := r.newStore(res, st)
	stores := slices.Clone(old.stores)
	stores[slices.Index(stores, prev)] = s
	r.replace(old, stores)
	return s, nil
}

// Remove stops serving a resource added with Add; the objects stay in
// storage. It reports whether the resource was served.
func (r *Registry) Remove(gvr schema.GroupVersionResource) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.table.Load()
	s, ok := old.byResource[gvr]
	if !ok {
		return false
	}
	stores := make([]*Store, 0, len(old.stores)-1)
	for _, x := range old.stores {
		if x != s {
			stores = append(stores, x)
		}
	}
	r.replace(old, stores)
	return true
}

// replace makes stores the table, under r.mu.
func (r *Registry) replace(old *table, stores []*Store) {
	t := &table{stores: stores, byResource: make(map[schema.GroupVersionResource]*Store, len(stores)),
		revision: old.revision + 1, changed: make(chan struct{})}
	for _, s := range stores {
		t.byResource[s.r.GroupVersionResource()] = s
	}
	r.table.Store(t)
	close(old.changed)
}

// Revision counts the changes of the table: what serves discovery or
// OpenAPI from the table rebuilds it when the revision moved.
func (r *Registry) Revision() uint64 { return r.table.Load().revision }

// Changed returns a channel closed at the next change of the table.
func (r *Registry) Changed() <-chan struct{} { return r.table.Load().changed }

// Stores returns the stores in table order, rows added at run time last.
// The caller must not modify the slice; it does not change.
func (r *Registry) Stores() []*Store { return r.table.Load().stores }

// Lookup returns the store of a group, version and resource.
func (r *Registry) Lookup(gvr schema.GroupVersionResource) (*Store, bool) {
	s, ok := r.table.Load().byResource[gvr]
	return s, ok
}

// Internal returns the storage of the Config.Internal row named resource,
// nil if there is none.
func (r *Registry) Internal(resource string) storage.Interface { return r.internal[resource] }

// Namespaces returns the store of namespaces, nil if the table has none.
func (r *Registry) Namespaces() *Store { return r.namespaces }

// Deletions delivers after objects were deleted through the registry (or
// marked for deletion): the garbage collector's wake-up. It holds one
// pending signal and never blocks a writer.
func (r *Registry) Deletions() <-chan struct{} { return r.gcKick }

// GracefulDeletions delivers after objects were deleted gracefully (marked
// with a grace period): the graceful reaper's wake-up. It holds one
// pending signal and never blocks a writer.
func (r *Registry) GracefulDeletions() <-chan struct{} { return r.reapKick }

// Now is the registry's clock, the one of its deletion timestamps.
func (r *Registry) Now() time.Time { return r.now() }
