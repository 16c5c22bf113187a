package etcd3

import (
	"bytes"
	"reflect"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime"
)

// A write's own watch event. Every write comes back to the process as
// an event of the watch the watch cache keeps on its resource, which
// decodes the bytes the write has just stored. The write already holds
// the object those bytes decode to (what it returns: written, asDecoded),
// so it leaves a copy of it here, by key, with the stored bytes and the
// revision; the watch that receives the event with that key, revision and
// the same bytes takes the copy instead of decoding. Equal bytes decode
// to equal objects, so the copy is what the decode would have given
// (reflect.DeepEqual, see decoded.go); the watch that takes it owns it
// (no other watch gets it), and an event that does not find it decodes as
// before (the event may have arrived before the write's answer). Copies
// are kept only while a watch of the store runs, and at most
// recentWritesMax of them.

// recentWritesMax bounds the copies kept for events not yet received
// (every one is dropped when it is reached).
const recentWritesMax = 256

type recentWrite struct {
	rev  int64
	data []byte // as stored in etcd (after the transformer)
	obj  runtime.Object
}

type recentWrites struct {
	watches atomic.Int64                 // watches of the store running
	taken   atomic.Int64                 // events that took their write's copy
	off     atomic.Bool                  // no copies (a benchmark's comparison)
	typ     atomic.Pointer[reflect.Type] // the type of the store's newFunc, once known
	mu      sync.Mutex
	m       map[string]recentWrite
}

// typeOf is the type of the objects newFunc makes, made once.
func (r *recentWrites) typeOf(newFunc func() runtime.Object) reflect.Type {
	if t := r.typ.Load(); t != nil {
		return *t
	}
	t := reflect.TypeOf(newFunc())
	r.typ.Store(&t)
	return t
}

// put keeps obj, the decode of data stored at key at rev, for the watch;
// obj is handed over.
func (r *recentWrites) put(key string, rev int64, data []byte, obj runtime.Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= recentWritesMax {
		r.m = make(map[string]recentWrite)
	}
	r.m[key] = recentWrite{rev: rev, data: data, obj: obj}
}

// take returns the object kept for the event of key at rev whose value is
// data, and forgets it; nil when there is none. A copy of an earlier
// write of key is dropped.
func (r *recentWrites) take(key string, rev int64, data []byte) runtime.Object {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[key]
	if !ok || w.rev > rev {
		return nil
	}
	delete(r.m, key)
	if w.rev != rev || !bytes.Equal(w.data, data) {
		return nil
	}
	r.taken.Add(1)
	return w.obj
}

// wanted reports whether a write should leave a copy: a watch of the
// store runs.
func (r *recentWrites) wanted() bool { return r.watches.Load() > 0 && !r.off.Load() }
