package etcd3

import (
	"bytes"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// What the hand-written protobuf code of apimachinery's types does on a
// round trip, and the envelope's type.

// decodedTime is metav1.Time's protobuf round trip: whole seconds, local.
func decodedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.Unix(t.Unix(), 0).Local()
}

// decodedMicroTime is metav1.MicroTime's protobuf round trip.
func decodedMicroTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	ns := time.Duration(t.Nanosecond()).Truncate(time.Microsecond)
	return time.Unix(t.Unix(), int64(ns)).Local()
}

// decodedQuantity is resource.Quantity's protobuf round trip: its
// canonical string, parsed. String caches on its receiver, a copy here.
func decodedQuantity(q resource.Quantity) (resource.Quantity, error) {
	return resource.ParseQuantity(q.String())
}

// protobufTypeMeta reads the apiVersion and kind of a protobuf envelope
// ("k8s\x00" and a runtime.Unknown whose first field is its TypeMeta), as
// the protobuf serializer does when it decodes.
func protobufTypeMeta(data []byte) (gvk schema.GroupVersionKind, ok bool) {
	rest, found := bytes.CutPrefix(data, protobufMagic)
	if !found || len(rest) < 2 || rest[0] != 0x0a {
		return gvk, false
	}
	n, w := uvarint(rest[1:])
	if w <= 0 || n > uint64(len(rest)-1-w) {
		return gvk, false
	}
	var tm runtime.TypeMeta
	if tm.Unmarshal(rest[1+w:1+w+int(n)]) != nil || tm.APIVersion == "" || tm.Kind == "" {
		return gvk, false
	}
	return schema.FromAPIVersionAndKind(tm.APIVersion, tm.Kind), true
}

var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// uvarint decodes a protobuf varint; w <= 0 when it is cut short or too long.
func uvarint(b []byte) (v uint64, w int) {
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
