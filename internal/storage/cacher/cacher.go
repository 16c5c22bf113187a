package cacher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/metadata"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Cacher is a storage.Interface that serves watches, and most lists and
// gets, from memory: a reflector lists the resource from the store and
// watches it; events go to a ring buffer of history and to an ordered
// store with a snapshot per revision, and from there to every watcher.
// Writes, and reads the cache cannot serve, go to the store.
//
// New builds it; Run fills it and serves until its context ends.
type Cacher struct {
	cfg       Config // completed in New, never written again
	store     storage.Interface
	versioner storage.Versioner
	prefix    string // ResourcePrefix
	m         *resourceMetrics
	log       *slog.Logger
	stream    string // this cache's etcd watch stream (onOwnStream)

	// incoming carries applied events from the reflector to the
	// dispatcher, in revision order. Buffered so that the reflector does
	// not wait for a dispatch that is waiting for a slow watcher.
	incoming chan *event

	// mu guards the fields below. It is never held while sending on a
	// channel. Lock order: mu, then watchersMu.
	mu      sync.RWMutex
	tree    tree                                      // current state
	indexes map[string]map[string]map[string]*element // field → value → key → element
	rv      uint64                                    // revision the cache is synced to
	rvCh    chan struct{}                             // closed (and replaced) when rv moves
	hist    *history
	snaps   snapshots
	ready   bool
	readyCh chan struct{} // closed while ready; replaced when not ready
	synced  bool          // a first list was applied

	watchersMu sync.Mutex // guards reg
	reg        *registry

	names fieldNames // used by the reflector goroutine only
	packs packQueue  // used by the reflector goroutine only

	bytes      atomic.Int64 // encoded size of what the cache holds
	overBudget atomic.Bool
	compactRev atomic.Int64

	progressSeen    atomic.Bool  // etcd sent a progress notification: consistent reads work
	progressGaveUp  atomic.Bool  // etcd never answered progress requests
	progressWaiters atomic.Int32 // reads waiting for a revision
	progressWake    chan struct{}
	bookmarkAll     atomic.Bool // RequestWatchProgress: bookmark every watcher at the next progress

	started   atomic.Bool
	done      chan struct{} // closed when Run returns
	watcherWG sync.WaitGroup
}

var _ storage.Interface = (*Cacher)(nil)

// New returns a cacher for one resource. It starts nothing: call Run.
func New(cfg Config) (*Cacher, error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	c := &Cacher{
		cfg:          cfg,
		store:        cfg.Store,
		versioner:    cfg.Store.Versioner(),
		prefix:       cfg.ResourcePrefix,
		m:            cfg.Metrics.forResource(cfg.GroupResource),
		log:          cfg.Logger.With("resource", cfg.GroupResource.String()),
		stream:       fmt.Sprintf("%s#%d", cfg.ResourcePrefix, streamSeq.Add(1)),
		incoming:     make(chan *event, incomingBufSize),
		indexes:      map[string]map[string]map[string]*element{},
		rvCh:         make(chan struct{}),
		hist:         newHistory(cfg.EventsHistoryWindow, cfg.EventsHistoryMaxBytes),
		readyCh:      make(chan struct{}),
		reg:          newRegistry(),
		progressWake: make(chan struct{}, 1),
		done:         make(chan struct{}),
		packs:        packQueue{off: cfg.KeepHistoryDecoded},
	}
	for _, f := range cfg.IndexedFields {
		c.indexes[f] = map[string]map[string]*element{}
	}
	c.m.capacity.Set(float64(c.hist.capacity()))
	if cfg.EstimateSizes {
		if err := cfg.Store.EnableResourceSizeEstimation(c.keys); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Run fills the cache and keeps it in sync until ctx ends, then ends every
// watch and returns once all of the cacher's goroutines (the watchers'
// included) have exited. It may be called once.
func (c *Cacher) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("cacher: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { c.dispatch(ctx) })
	wg.Go(func() { c.requestProgress(ctx) })
	wg.Go(func() { c.pollCompaction(ctx) })
	c.reflect(ctx)
	cancel()
	wg.Wait()

	c.mu.Lock()
	c.setReadyLocked(false)
	c.mu.Unlock()
	c.watchersMu.Lock()
	close(c.done) // under watchersMu: Watch registers no watcher after this
	c.watchersMu.Unlock()
	c.stopAllWatchers()
	c.watcherWG.Wait()
	return nil
}

// Ready reports whether the cache has listed the resource and is in sync.
func (c *Cacher) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ready
}

// ReadinessCheck implements storage.Interface: storage.ErrStorageNotReady
// until the first list is done (and while the etcd watch keeps failing).
func (c *Cacher) ReadinessCheck() error {
	if !c.Ready() {
		return storage.ErrStorageNotReady
	}
	return nil
}

// WaitReady blocks until the cache is ready, ctx ends or Run returns.
func (c *Cacher) WaitReady(ctx context.Context) error {
	for {
		c.mu.RLock()
		ready, ch := c.ready, c.readyCh
		c.mu.RUnlock()
		if ready {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return errStopped
		}
	}
}

var errStopped = errors.New("watch cache stopped")

func (c *Cacher) setReadyLocked(ready bool) {
	if ready == c.ready {
		return
	}
	c.ready = ready
	if ready {
		close(c.readyCh)
	} else {
		c.readyCh = make(chan struct{})
	}
}

// Versioner implements storage.Interface.
func (c *Cacher) Versioner() storage.Versioner { return c.versioner }

// Create implements storage.Interface: it goes to the store.
func (c *Cacher) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	return c.store.Create(ctx, key, obj, out, ttl)
}

// Delete implements storage.Interface: it goes to the store with the
// cached object (a copy) as the suggestion, whatever the caller suggested,
// as upstream's CacheDelegator does.
func (c *Cacher) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc, _ runtime.Object, opts storage.DeleteOptions) error {
	return c.store.Delete(ctx, key, out, preconditions, validateDeletion, c.suggestion(key), opts)
}

// GuaranteedUpdate implements storage.Interface: it goes to the store with
// the cached object (a copy) as the suggestion.
func (c *Cacher) GuaranteedUpdate(ctx context.Context, key string, destination runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc, _ runtime.Object) error {
	return c.store.GuaranteedUpdate(ctx, key, destination, ignoreNotFound, preconditions, tryUpdate, c.suggestion(key))
}

// suggestion is a deep copy of the cached object under key, or nil.
func (c *Cacher) suggestion(key string) runtime.Object {
	c.mu.RLock()
	e := c.tree.get(key)
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	return e.obj.GetObject()
}

// Stats implements storage.Interface: the store answers (its size
// estimate, when enabled, counts the cache's keys).
func (c *Cacher) Stats(ctx context.Context) (storage.Stats, error) { return c.store.Stats(ctx) }

// EnableResourceSizeEstimation implements storage.Interface.
func (c *Cacher) EnableResourceSizeEstimation(keys storage.KeysFunc) error {
	return c.store.EnableResourceSizeEstimation(keys)
}

// RequestWatchProgress implements storage.Interface: it asks etcd for a
// progress notification, and when it arrives every watcher that allows
// bookmarks gets one at the revision it proves.
func (c *Cacher) RequestWatchProgress(ctx context.Context) error {
	c.bookmarkAll.Store(true)
	return c.store.RequestWatchProgress(c.onOwnStream(ctx))
}

// streamSeq numbers the caches' etcd watch streams.
var streamSeq atomic.Int64

// onOwnStream returns ctx with gRPC metadata that puts the cache's etcd
// watch, and the progress requests made for it, on an etcd watch stream
// of its own: the etcd client shares one stream among the watches whose
// contexts carry the same metadata, and a progress request is answered
// for the whole stream, only when every watch on it is in sync and has
// started (etcd's progressIfSync). On a shared stream, any watch just
// opened at etcd's next revision (another cache that has just listed, a
// client's watch served by etcd) silences the notifications a lagging
// cache waits for, until the next write; on a quiet cluster, until
// etcd's periodic notification, 10 minutes by default. That is how, just
// after a restart, reads waiting for the cache to reach etcd's revision
// timed out. Upstream's SeparateCacheWatchRPC (metadata source=cache)
// keeps the caches off the other watches' stream; regis gives each cache
// a stream, which costs an HTTP/2 stream on the client's connection.
func (c *Cacher) onOwnStream(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "regis-watch-cache", c.stream)
}

// GetCurrentResourceVersion implements storage.Interface: etcd's revision.
func (c *Cacher) GetCurrentResourceVersion(ctx context.Context) (uint64, error) {
	return c.store.GetCurrentResourceVersion(ctx)
}

// CompactRevision implements storage.Interface: the newest compaction the
// cache has applied to its snapshots and history.
func (c *Cacher) CompactRevision() int64 { return c.compactRev.Load() }

// keys lists the cached keys once the cache has caught up with etcd, for
// the store's size estimator (upstream's getKeys).
func (c *Cacher) keys(ctx context.Context) ([]string, error) {
	rev, err := c.store.GetCurrentResourceVersion(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.waitFresh(ctx, rev); err != nil {
		return nil, err
	}
	c.mu.RLock()
	t := c.tree
	c.mu.RUnlock()
	keys := make([]string, 0, t.len())
	t.ascend("", "", func(e *element) bool {
		keys = append(keys, e.key)
		return true
	})
	return keys, nil
}

// element is one object of the cache at one revision.
type element struct {
	key    string
	obj    *cacheable.Object
	labels labels.Set
	fields attrs
	rv     uint64
	size   int64 // encoded size, counted against the memory limits
}

// event is one change of the cache, shared by every watcher.
type event struct {
	typ  watch.EventType // Added, Modified, Deleted; Bookmark for progress
	key  string
	rv   uint64
	cur  *element // Added, Modified
	prev *element // Modified, Deleted
	// deleted is what a DELETED event carries: the previous object
	// stamped with the deletion revision.
	deleted *cacheable.Object
	// recordTime is when the reflector received the event.
	recordTime time.Time
	// bookmarkAll asks the dispatcher to bookmark every watcher (set on
	// progress events that answer RequestWatchProgress).
	bookmarkAll bool

	movedOnce sync.Once
	moved     *cacheable.Object // prev stamped with rv, for watchers it left
}

// histBytes is what e counts against the history's byte bound: the
// encoded size of its object.
func (e *event) histBytes() int64 {
	switch {
	case e.cur != nil:
		return e.cur.size
	case e.prev != nil:
		return e.prev.size
	}
	return 0
}

// movedOut is the object of a DELETED event for a watcher whose selector
// the object no longer matches: the previous object at the event's
// revision, made once and shared.
func (e *event) movedOut(v storage.Versioner) runtime.Object {
	if e.deleted != nil {
		return e.deleted
	}
	e.movedOnce.Do(func() {
		obj := e.prev.obj.GetObject()
		if err := v.UpdateObject(obj, e.rv); err == nil {
			e.moved, _ = cacheable.New(obj)
		}
	})
	if e.moved == nil {
		return e.prev.obj.GetObject()
	}
	return e.moved
}
