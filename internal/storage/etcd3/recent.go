package etcd3

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// A write's own watch event. Every write comes back to the process as
// an event of the watch the watch cache keeps on its resource, which
// decodes the bytes the write has just stored. The write already holds
// the object those bytes decode to (what it returns: written, normalize),
// so it leaves a copy of it here, by key, with the stored bytes, before
// it sends the transaction (so that the event, which may arrive before
// the write's answer, always finds it); the watch that receives the event
// with that key and the same bytes takes the copy instead of decoding, and
// stamps it with the event's revision. Equal bytes decode to equal
// objects, so the copy is what the decode would have given
// (reflect.DeepEqual, see decoded.go), whichever write of those bytes made
// it; the watch that takes it owns it (no other watch gets it), and an
// event that does not find it decodes as before. A write that fails
// removes its copy. Copies are kept only while a watch of the store runs,
// and at most recentWritesMax of them.

// recentWritesMax bounds the copies kept for events not yet received
// (every one is dropped when it is reached).
const recentWritesMax = 256

// recentWrite is the copy one write left.
type recentWrite struct {
	rev   int64  // the write's revision; 0 until it succeeded
	data  []byte // as stored in etcd (after the transformer)
	plain []byte // the encoding (before the transformer)
	obj   runtime.Object
}

type recentWrites struct {
	watches atomic.Int64                 // watches of the store running
	taken   atomic.Int64                 // events that took their write's copy
	off     atomic.Bool                  // no copies (a benchmark's comparison)
	typ     atomic.Pointer[reflect.Type] // the type of the store's newFunc, once known
	mu      sync.Mutex
	m       map[string]*recentWrite
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

// expect keeps obj, the decode of plain (its resourceVersion aside),
// stored as data, for the event of a write of data at key; obj is handed
// over. The write reports its outcome: wrote, or forget.
func (r *recentWrites) expect(key string, data, plain []byte, obj runtime.Object) *recentWrite {
	w := &recentWrite{data: data, plain: plain, obj: obj}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= recentWritesMax {
		r.m = make(map[string]*recentWrite)
	}
	r.m[key] = w
	return w
}

// wrote records that w's write succeeded at rev (nil w: none was kept).
func (r *recentWrites) wrote(w *recentWrite, rev int64) {
	if w == nil {
		return
	}
	r.mu.Lock()
	w.rev = rev
	r.mu.Unlock()
}

// forget drops w, whose write failed (nil w: none was kept).
func (r *recentWrites) forget(key string, w *recentWrite) {
	if w == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[key] == w {
		delete(r.m, key)
	}
}

// take returns the object kept for the event of key at rev whose value is
// data, with its encoding, and forgets it; nil when there is none. The
// caller sets its resourceVersion. A copy of an earlier write of key is
// dropped.
func (r *recentWrites) take(key string, rev int64, data []byte) (runtime.Object, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.m[key]
	if !ok {
		return nil, nil
	}
	if !bytes.Equal(w.data, data) {
		if w.rev != 0 && w.rev <= rev {
			delete(r.m, key) // its event has passed
		}
		return nil, nil
	}
	delete(r.m, key)
	r.taken.Add(1)
	return w.obj, w.plain
}

// metaFirst reports whether t, a pointer to a struct, has its metadata as
// its protobuf message's field 1, as every k8s.io/api object, which
// cacheable.WithResourceVersion needs.
func metaFirst(t reflect.Type) bool {
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return false
	}
	f, ok := t.Elem().FieldByName("ObjectMeta")
	return ok && f.Type == reflect.TypeFor[metav1.ObjectMeta]() && strings.HasPrefix(f.Tag.Get("protobuf"), "bytes,1,")
}

// wanted reports whether a write should leave a copy: a watch of the
// store runs.
func (r *recentWrites) wanted() bool { return r.watches.Load() > 0 && !r.off.Load() }
