package cacheable

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// metaObject is what the cache holds: an API object with metadata.
type metaObject interface {
	runtime.Object
	metav1.Object
}

// Object wraps an object of a watch cache and remembers its
// serializations, one per encoder identifier, so that an object delivered
// to many watchers (or returned by many lists) is encoded once per wire
// format. It implements runtime.CacheableObject: apimachinery's JSON,
// protobuf and CBOR serializers call CacheEncode instead of encoding the
// object themselves.
//
// The object of one revision of a key is wrapped once and shared by the
// cache, every list item and every watch event of that revision (a DELETED
// event has a wrapper of its own, stamped with the deletion revision).
// Treat it as read-only: GetObject returns a private deep copy; Object
// returns the shared one without copying.
//
// Modelled on kube-apiserver's cachingObject (cacher/caching_object.go).
type Object struct {
	mu     sync.RWMutex // guards obj, packed, typ, copied, cached, retired
	obj    metaObject   // nil when packed
	copied bool         // obj is a private copy, made by a setter
	// packed is the object's protobuf encoding once Pack dropped obj;
	// typ is obj's type, tm its TypeMeta and meta its metadata without
	// managedFields (the metadata getters read it without a decode).
	packed []byte
	typ    reflect.Type
	tm     metav1.TypeMeta
	meta   *metav1.ObjectMeta
	// prepacked is what Pack will keep, when NewEncoded was given it.
	prepacked []byte

	// encodings holds the serializations; replaced (copy on insert) so
	// that readers need no lock.
	encodings atomic.Pointer[encodingSet]

	// account, when set, is told the bytes of each cached serialization
	// while the object is in the cache (Retire subtracts them).
	account func(delta int64)
	cached  int64
	retired bool
}

var _ runtime.CacheableObject = (*Object)(nil)

type encodingSet map[runtime.Identifier]*encoding

type encoding struct {
	once sync.Once
	done atomic.Bool // raw and err are set (for readers outside once)
	raw  []byte
	err  error
}

// New wraps obj, which must have object metadata. obj is not copied: the
// caller gives up the right to change it. An *Object is returned as is.
func New(obj runtime.Object) (*Object, error) {
	m, ok := obj.(metaObject)
	if !ok {
		return nil, fmt.Errorf("caching object: %T has no object metadata", obj)
	}
	if co, ok := obj.(*Object); ok {
		return co, nil
	}
	return &Object{obj: m}, nil
}

// NewCounted is New for an object a cache holds: account is told the size
// of each serialization cached while the object is in the cache (and a
// negative delta when a change drops them), until Retire gives back what
// was counted.
func NewCounted(obj runtime.Object, account func(delta int64)) (*Object, error) {
	co, err := New(obj)
	if err != nil {
		return nil, err
	}
	co.mu.Lock()
	co.account = account
	co.mu.Unlock()
	return co, nil
}

// Unwrap returns the object inside a runtime.CacheableObject (a private
// copy, as GetObject), or obj itself when it is not one.
func Unwrap(obj runtime.Object) runtime.Object {
	if co, ok := obj.(runtime.CacheableObject); ok {
		return co.GetObject()
	}
	return obj
}

// CacheEncode implements runtime.CacheableObject: it writes the
// serialization cached under id, calling encode (with a deep copy of the
// object, which encode owns) on the first use of id. It assumes one id
// always means the same encode function. A packed object keeps only the
// serialization that is its packed bytes (protobuf): the others are
// encoded anew on each use, as kube-apiserver encodes the objects of a
// list, rather than kept for every object of a large cache.
func (o *Object) CacheEncode(id runtime.Identifier, encode func(runtime.Object, io.Writer) error, w io.Writer) error {
	if !o.hasEncoding(id) && o.Packed() {
		var buf bytes.Buffer
		if err := encode(o.GetObject(), &buf); err != nil {
			return err
		}
		raw := o.share(buf.Bytes())
		if o.isPacked(raw) {
			// Free to keep: the packed bytes themselves.
			e := o.encoding(id)
			e.once.Do(func() { e.raw = raw; e.done.Store(true) })
		}
		return writeRaw(w, raw)
	}
	e := o.encoding(id)
	e.once.Do(func() {
		var buf bytes.Buffer
		e.err = encode(o.GetObject(), &buf)
		e.raw = o.share(buf.Bytes())
		if e.err == nil {
			o.count(int64(len(e.raw)))
		}
		e.done.Store(true)
	})
	if e.err != nil {
		return e.err
	}
	return writeRaw(w, e.raw)
}

// writeRaw hands raw to w, without a copy when w splices.
func writeRaw(w io.Writer, raw []byte) error {
	if s, ok := w.(runtime.Splice); ok {
		s.Splice(raw)
		return nil
	}
	_, err := w.Write(raw)
	return err
}

// hasEncoding reports whether a serialization under id is kept (or being
// made).
func (o *Object) hasEncoding(id runtime.Identifier) bool {
	set := o.encodings.Load()
	if set == nil {
		return false
	}
	_, ok := (*set)[id]
	return ok
}

// encoding returns the entry for id, adding an empty one if needed.
func (o *Object) encoding(id runtime.Identifier) *encoding {
	if set := o.encodings.Load(); set != nil {
		if e, ok := (*set)[id]; ok {
			return e
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	old := o.encodings.Load()
	if old != nil {
		if e, ok := (*old)[id]; ok {
			return e
		}
	}
	next := make(encodingSet, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	e := &encoding{}
	next[id] = e
	o.encodings.Store(&next)
	return e
}

func (o *Object) count(n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.account == nil || o.retired {
		return
	}
	o.cached += n
	o.account(n)
}

// Retire stops counting the object's serializations against the cache's
// memory (it left the cache) and gives back what was counted. It is for
// the cache that made the object with NewCounted.
func (o *Object) Retire() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.retired {
		return
	}
	o.retired = true
	o.meta = nil // only for the history now: its getters decode
	if o.account != nil && o.cached != 0 {
		o.account(-o.cached)
	}
	o.cached = 0
}

// CachedBytes is the size of the serializations cached so far.
func (o *Object) CachedBytes() int {
	set := o.encodings.Load()
	if set == nil {
		return 0
	}
	n := 0
	for _, e := range *set {
		n += len(e.raw)
	}
	return n
}

// GetObject implements runtime.CacheableObject: a deep copy of the object,
// owned by the caller.
func (o *Object) GetObject() runtime.Object {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.obj == nil {
		return o.viewLocked() // decoded anew: the caller's own
	}
	return o.obj.DeepCopyObject()
}

// Object returns the wrapped object itself, shared with the cache and
// other readers: it must not be changed. (Of a packed object, a decoded
// copy.)
func (o *Object) Object() runtime.Object {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.viewLocked()
}

// GetObjectKind implements runtime.Object. (Of a packed object, a copy
// of its kind.)
func (o *Object) GetObjectKind() schema.ObjectKind {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.obj == nil {
		tm := o.tm
		return &tm
	}
	return o.obj.GetObjectKind()
}

// DeepCopyObject implements runtime.Object. The copy starts with no cached
// serializations.
func (o *Object) DeepCopyObject() runtime.Object {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.obj == nil {
		return &Object{obj: o.viewLocked(), copied: true}
	}
	return &Object{obj: o.obj.DeepCopyObject().(metaObject), copied: true}
}

// set applies a metadata change unless noop says it changes nothing,
// copying the shared object first and dropping the cached encodings.
func (o *Object) set(noop func(metav1.Object) bool, apply func(metav1.Object)) {
	o.mu.RLock()
	same := noop(o.viewLocked())
	o.mu.RUnlock()
	if same {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.obj == nil {
		o.obj, o.packed, o.typ, o.meta, o.copied = o.viewLocked(), nil, nil, nil, true
	}
	if noop(o.obj) {
		return
	}
	if !o.copied {
		o.obj = o.obj.DeepCopyObject().(metaObject)
		o.copied = true
	}
	o.encodings.Store(nil)
	o.prepacked = nil
	if o.account != nil && !o.retired && o.cached != 0 {
		o.account(-o.cached)
		o.cached = 0
	}
	apply(o.obj)
}
