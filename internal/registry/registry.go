package registry

import (
	"errors"
	"fmt"
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

// Registry is the set of Stores of the resource table.
type Registry struct {
	stores     []*Store
	byResource map[schema.GroupVersionResource]*Store
	namespaces *Store
	// gcKick wakes the garbage collector (capacity 1).
	gcKick chan struct{}
	// reapKick wakes the graceful reaper (capacity 1).
	reapKick chan struct{}
	// internal are the storages of Config.Internal by resource name.
	internal map[string]storage.Interface
	now      func() time.Time
}

// New builds a Store for each resource of the table. It starts nothing.
func New(c Config) (*Registry, error) {
	if c.Storage == nil {
		return nil, errors.New("registry: Storage is required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	reg := &Registry{byResource: map[schema.GroupVersionResource]*Store{}, gcKick: make(chan struct{}, 1), reapKick: make(chan struct{}, 1), now: c.Now}
	for _, r := range c.Resources {
		gvr := r.GroupVersionResource()
		if _, dup := reg.byResource[gvr]; dup {
			return nil, fmt.Errorf("registry: %s listed twice", gvr)
		}
		st, err := c.Storage(r)
		if err != nil {
			return nil, fmt.Errorf("registry: storage of %s: %w", r.GroupResource(), err)
		}
		s := &Store{r: r, storage: st, now: c.Now, fieldNames: map[string]bool{}, gcKick: reg.gcKick, reg: reg}
		for f := range r.SelectableFields(r.New(), "", "") {
			s.fieldNames[f] = true
		}
		reg.stores = append(reg.stores, s)
		reg.byResource[gvr] = s
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
	for _, s := range reg.stores {
		if s.r.Namespaced {
			s.namespaces = reg.namespaces
		}
	}
	return reg, nil
}

// Stores returns the stores in table order. The caller must not modify
// the slice.
func (r *Registry) Stores() []*Store { return r.stores }

// Lookup returns the store of a group, version and resource.
func (r *Registry) Lookup(gvr schema.GroupVersionResource) (*Store, bool) {
	s, ok := r.byResource[gvr]
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
