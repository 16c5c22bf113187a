package cacheable

import (
	"bytes"
	"encoding/binary"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// An Object the cache keeps only for its history (an older revision of a
// key, or a deleted object) is packed: it holds kube's protobuf encoding
// of the object (the "k8s\x00" envelope, byte for byte what the protobuf
// serializer writes for it, so that it can be the same bytes as a cached
// serialization) and decodes it again on each use. A decoded pod takes
// about three times its encoding; the watchers and lists that need an old
// revision are few (a watch resumed from a past revision, a list at an
// exact one) and pay a decode each.

// protoMagic starts kube's protobuf encoding (protobuf.Serializer).
var protoMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// message is what the k8s.io/api types (gogo protobuf) implement.
type message interface {
	Size() int
	MarshalTo([]byte) (int, error)
	MarshalToSizedBuffer([]byte) (int, error)
	Unmarshal([]byte) error
}

// pack encodes m as kube's protobuf serializer does; false when m has no
// protobuf encoding (unstructured objects) or no TypeMeta of its own.
func pack(m metaObject) ([]byte, bool) {
	msg, ok := m.(message)
	if !ok {
		return nil, false
	}
	tm, ok := m.GetObjectKind().(*metav1.TypeMeta)
	if !ok {
		return nil, false
	}
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: tm.APIVersion, Kind: tm.Kind}}
	size := uint64(msg.Size())
	n := unk.Size() + 1 + len(binary.AppendUvarint(nil, size)) + int(size)
	data := make([]byte, len(protoMagic)+n)
	copy(data, protoMagic)
	w, err := unk.NestedMarshalTo(data[len(protoMagic):], msg, size)
	if err != nil || w != n {
		return nil, false
	}
	return data, true
}

// unpack decodes what pack encoded into a new object of type typ (a
// pointer type); false if the bytes do not decode, which pack's output
// does.
func unpack(data []byte, typ reflect.Type) (metaObject, bool) {
	if !bytes.HasPrefix(data, protoMagic) {
		return nil, false
	}
	var unk runtime.Unknown
	if err := unk.Unmarshal(data[len(protoMagic):]); err != nil {
		return nil, false
	}
	obj, ok := reflect.New(typ.Elem()).Interface().(metaObject)
	if !ok {
		return nil, false
	}
	msg, ok := obj.(message)
	if !ok || msg.Unmarshal(unk.Raw) != nil {
		return nil, false
	}
	tm, ok := obj.GetObjectKind().(*metav1.TypeMeta)
	if !ok {
		return nil, false
	}
	tm.APIVersion, tm.Kind = unk.APIVersion, unk.Kind
	return obj, true
}

// Pack drops the decoded object and keeps its protobuf encoding, sharing
// the bytes of an identical cached serialization, and its metadata
// without managedFields; each later use of the whole object decodes it,
// the metadata getters do not. Objects without a protobuf encoding stay
// as they are (false). The object must not be changed after.
func (o *Object) Pack() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.obj == nil {
		return true
	}
	raw, ok := o.prepacked, o.prepacked != nil
	if !ok {
		raw, ok = pack(o.obj)
	}
	if !ok {
		return false
	}
	o.prepacked = nil
	if set := o.encodings.Load(); set != nil {
		for _, e := range *set {
			if e.done.Load() && e.err == nil && bytes.Equal(e.raw, raw) {
				raw = e.raw
				break
			}
		}
	}
	tm, _ := o.obj.GetObjectKind().(*metav1.TypeMeta) // pack checked it
	o.tm = *tm
	// The metadata is kept for the objects of the cache's current state
	// (counted and not retired): controllers and selectors read theirs. An
	// object kept only for the history decodes for its getters too.
	if a, ok := o.obj.(metav1.ObjectMetaAccessor); ok && o.account != nil && !o.retired {
		if om, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			m := *om // shares its maps and slices: read-only
			m.ManagedFields = nil
			o.meta = &m
		}
	}
	o.packed, o.typ, o.obj = raw, reflect.TypeOf(o.obj), nil
	return true
}

// metaLocked is the object's metadata, read-only; of a packed object,
// what Pack kept (no managedFields), or a decode when it kept none.
// Caller holds o.mu (either way).
func (o *Object) metaLocked() metav1.Object {
	if o.obj == nil && o.meta != nil {
		return o.meta
	}
	return o.viewLocked()
}

// share returns the packed bytes when raw is the same bytes (a packed
// object's protobuf serialization), else raw.
func (o *Object) share(raw []byte) []byte {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.obj == nil && bytes.Equal(raw, o.packed) {
		return o.packed
	}
	return raw
}

// isPacked reports whether raw is the packed bytes themselves.
func (o *Object) isPacked(raw []byte) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.obj == nil && len(raw) > 0 && len(o.packed) == len(raw) && &o.packed[0] == &raw[0]
}

// Packed reports whether the object is held encoded only.
func (o *Object) Packed() bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.obj == nil
}

// viewLocked is the object, decoded anew when packed: read-only. Caller
// holds o.mu (either way).
func (o *Object) viewLocked() metaObject {
	if o.obj != nil {
		return o.obj
	}
	if obj, ok := unpack(o.packed, o.typ); ok {
		return obj
	}
	// Not reached: pack's output decodes. An empty object of the type
	// rather than a nil one.
	return reflect.New(o.typ.Elem()).Interface().(metaObject)
}
