package server

import (
	"context"
	"log/slog"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// Caches are the watch caches a CachedStorage factory made. Run runs them.
type Caches struct {
	log *slog.Logger

	mu      sync.Mutex // guards cachers
	cachers map[schema.GroupResource]*cacher.Cacher
}

// CacheConfig configures CachedStorage.
type CacheConfig struct {
	// Cached says which resources get a cache; nil means all.
	Cached func(schema.GroupResource) bool
	// MaxBytes (--watch-cache-max-bytes) caps the memory of each cache and
	// of all of them together; past it, a cache still serves watches and
	// sends lists to etcd. The zero value means no limit.
	MaxBytes cacher.MaxBytes
	// Metrics are the caches' collectors, one set per server, registered
	// by the server; nil gives each cache a private, unregistered set.
	Metrics *cacher.Metrics
	// Logger receives the caches' logs (slog.Default when nil).
	Logger *slog.Logger
}

// CachedStorage wraps each storage base makes in a watch cache, except for
// the resources cfg.Cached refuses (events, by kube-apiserver's default).
// The caches serve watches and most lists; they fill once Caches.Run runs.
func CachedStorage(base registry.StorageFactory, cfg CacheConfig) (registry.StorageFactory, *Caches) {
	log, limit, cached := cfg.Logger, cfg.MaxBytes, cfg.Cached
	if log == nil {
		log = slog.Default()
	}
	var budget *cacher.Budget
	if limit.Total > 0 {
		budget = cacher.NewBudget(limit.Total)
	}
	cs := &Caches{log: log, cachers: map[schema.GroupResource]*cacher.Cacher{}}
	return func(r *registry.Resource) (storage.Interface, error) {
		st, err := base(r)
		if err != nil || r.Convert != nil || r.Internal || (cached != nil && !cached(r.GroupResource())) {
			return st, err
		}
		c, err := cacher.New(cacher.Config{
			Store:          st,
			ResourcePrefix: registry.RootKey(r.EtcdPrefix()),
			GroupResource:  r.GroupResource(),
			NewFunc:        r.New,
			NewListFunc:    r.NewList,
			ClusterScoped:  !r.Namespaced,
			GetAttrs:       attrsOf(r),
			IndexedFields:  indexedFields(r),
			TriggerField:   triggerField(r),
			EstimateSizes:  true,
			MaxBytes:       limit.For(r.GroupResource()),
			Budget:         budget,
			Logger:         log,
			Metrics:        cfg.Metrics,
		})
		if err != nil {
			return nil, err
		}
		cs.mu.Lock()
		cs.cachers[r.GroupResource()] = c
		cs.mu.Unlock()
		return c, nil
	}, cs
}

// attrsOf returns the labels and selectable fields of a resource's objects.
func attrsOf(r *registry.Resource) storage.AttrFunc {
	return func(obj runtime.Object) (labels.Set, fields.Set, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, nil, err
		}
		return labels.Set(m.GetLabels()), r.SelectableFields(obj, m.GetName(), m.GetNamespace()), nil
	}
}

// indexedFields are the fields the cache indexes: pods by node, as upstream.
func indexedFields(r *registry.Resource) []string {
	if r.GroupResource() == (schema.GroupResource{Resource: "pods"}) {
		return []string{"spec.nodeName"}
	}
	return nil
}

func triggerField(r *registry.Resource) string {
	if r.GroupResource() == (schema.GroupResource{Resource: "pods"}) {
		return "spec.nodeName"
	}
	return ""
}

// Resources returns the cached resources.
func (cs *Caches) Resources() []schema.GroupResource {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]schema.GroupResource, 0, len(cs.cachers))
	for gr := range cs.cachers {
		out = append(out, gr)
	}
	return out
}

// Ready reports whether the cache of gr is in sync with etcd.
func (cs *Caches) Ready(gr schema.GroupResource) error {
	cs.mu.Lock()
	c := cs.cachers[gr]
	cs.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.ReadinessCheck()
}

// Run runs every cache until ctx ends and returns when all have stopped.
func (cs *Caches) Run(ctx context.Context) error {
	cs.mu.Lock()
	all := make([]*cacher.Cacher, 0, len(cs.cachers))
	for _, c := range cs.cachers {
		all = append(all, c)
	}
	cs.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() {
			if err := c.Run(ctx); err != nil {
				cs.log.Error("watch cache stopped", "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}
