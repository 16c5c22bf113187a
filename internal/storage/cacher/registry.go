package cacher

import "time"

// scope is where a watcher listens: its key (a prefix ending in "/", or
// one key) and the namespace and name its field selector requires, if
// any. An event is offered only to the watchers of the scopes it falls in.
type scope struct {
	key, namespace, name string
}

// registry indexes the live watchers for dispatch. It does no locking:
// the cacher guards it with watchersMu.
type registry struct {
	nextID    uint64
	count     int
	byScope   map[scope]map[uint64]*watcher
	byTrigger map[string]map[uint64]*watcher // by the trigger field's value
	bookmarks bookmarkQueue
}

func newRegistry() *registry {
	return &registry{
		byScope:   map[scope]map[uint64]*watcher{},
		byTrigger: map[string]map[uint64]*watcher{},
		bookmarks: bookmarkQueue{buckets: map[int64][]*watcher{}, start: time.Now().Unix()},
	}
}

func (r *registry) add(w *watcher) {
	r.nextID++
	w.id = r.nextID
	w.registered = true
	r.count++
	if w.hasTrigger {
		addTo(r.byTrigger, w.trigger, w)
	} else {
		addTo(r.byScope, w.scope, w)
	}
}

func (r *registry) remove(w *watcher) bool {
	if !w.registered {
		return false
	}
	w.registered = false
	r.count--
	if w.hasTrigger {
		removeFrom(r.byTrigger, w.trigger, w.id)
	} else {
		removeFrom(r.byScope, w.scope, w.id)
	}
	return true
}

func addTo[K comparable](m map[K]map[uint64]*watcher, k K, w *watcher) {
	ws := m[k]
	if ws == nil {
		ws = map[uint64]*watcher{}
		m[k] = ws
	}
	ws[w.id] = w
}

func removeFrom[K comparable](m map[K]map[uint64]*watcher, k K, id uint64) {
	if ws := m[k]; ws != nil {
		delete(ws, id)
		if len(ws) == 0 {
			delete(m, k)
		}
	}
}

// all appends every watcher to buf.
func (r *registry) all(buf []*watcher) []*watcher {
	for _, ws := range r.byScope {
		for _, w := range ws {
			buf = append(buf, w)
		}
	}
	for _, ws := range r.byTrigger {
		for _, w := range ws {
			buf = append(buf, w)
		}
	}
	return buf
}

// targets appends to buf the watchers that may be interested in e: those
// whose scope contains its key (and namespace and name), and those whose
// trigger value is the object's (or was, before the change).
func (r *registry) targets(e *event, triggerField string, buf []*watcher) []*watcher {
	var ns, name string
	for _, el := range [2]*element{e.cur, e.prev} {
		if el != nil {
			ns, name = el.fields.Get("metadata.namespace"), el.fields.Get("metadata.name")
			break
		}
	}
	add := func(s scope) {
		for _, w := range r.byScope[s] {
			buf = append(buf, w)
		}
	}
	addScopes := func(key string) {
		add(scope{key: key})
		if ns != "" {
			add(scope{key: key, namespace: ns})
		}
		if name != "" {
			add(scope{key: key, name: name})
			if ns != "" {
				add(scope{key: key, namespace: ns, name: name})
			}
		}
	}
	if len(r.byScope) > 0 {
		for i := 0; i < len(e.key); i++ {
			if e.key[i] == '/' {
				addScopes(e.key[:i+1])
			}
		}
		addScopes(e.key)
	}
	if triggerField != "" && len(r.byTrigger) > 0 {
		addValue := func(v string) {
			for _, w := range r.byTrigger[v] {
				buf = append(buf, w)
			}
		}
		switch {
		case e.cur != nil && e.prev != nil:
			cur, prev := e.cur.fields.Get(triggerField), e.prev.fields.Get(triggerField)
			addValue(cur)
			if prev != cur {
				addValue(prev)
			}
		case e.cur != nil:
			addValue(e.cur.fields.Get(triggerField))
		case e.prev != nil:
			addValue(e.prev.fields.Get(triggerField))
		}
	}
	return buf
}

// bookmarkQueue schedules watchers' bookmarks in one-second buckets, as
// upstream's watcherBookmarkTimeBuckets: precise enough, and cheap with
// many watchers.
type bookmarkQueue struct {
	buckets map[int64][]*watcher // by Unix second
	start   int64                // no bucket before it is pending
}

// add schedules w at t (a zero t: at the next tick).
func (q *bookmarkQueue) add(w *watcher, t time.Time) {
	b := q.start
	if !t.IsZero() {
		b = max(t.Unix(), q.start)
	}
	q.buckets[b] = append(q.buckets[b], w)
}

// due removes and returns the watchers scheduled at or before now.
func (q *bookmarkQueue) due(now time.Time, buf []*watcher) []*watcher {
	for end := now.Unix(); q.start <= end; q.start++ {
		if ws, ok := q.buckets[q.start]; ok {
			delete(q.buckets, q.start)
			buf = append(buf, ws...)
		}
	}
	return buf
}
