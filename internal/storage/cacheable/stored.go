package cacheable

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// An object a store's watch decoded from (or found for) the stored bytes
// of a write can enter the cache with what Pack would make of it: the
// stored bytes are kube's protobuf encoding of the object, less its
// resourceVersion (a store clears it before it encodes), so that the
// packed bytes are those bytes with metadata.resourceVersion set
// (WithResourceVersion), a copy instead of an encode of the object
// (about a tenth of a pod's ingestion in the cache). The store's watch
// makes such objects (NewEncoded) for a watch whose context asks for them
// (WantEncoded): the cache's.

type encodedKey struct{}

// WantEncoded marks ctx, a watch's, as wanting objects made by NewEncoded
// where the store can.
func WantEncoded(ctx context.Context) context.Context {
	return context.WithValue(ctx, encodedKey{}, true)
}

// EncodedWanted reports whether the watch of ctx wants objects made by
// NewEncoded.
func EncodedWanted(ctx context.Context) bool {
	v, _ := ctx.Value(encodedKey{}).(bool)
	return v
}

// NewEncoded wraps obj as New does, with packed, the bytes Pack would
// make of it (pack's: kube's protobuf encoding of obj), which Pack then
// keeps instead of encoding obj. The caller vouches for packed.
func NewEncoded(obj runtime.Object, packed []byte) (*Object, error) {
	co, err := New(obj)
	if err != nil {
		return nil, err
	}
	co.mu.Lock()
	co.prepacked = packed
	co.mu.Unlock()
	return co, nil
}

// EncodedSize is the size of the object's protobuf message (what its
// Size method gives) when NewEncoded was given its packed bytes, and
// false otherwise.
func (o *Object) EncodedSize() (int64, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.prepacked == nil {
		return 0, false
	}
	raw, ok := envelopeRaw(o.prepacked)
	return int64(len(raw)), ok
}

// envelopeRaw is the object's message in kube's protobuf envelope.
func envelopeRaw(data []byte) ([]byte, bool) {
	if !bytes.HasPrefix(data, protoMagic) {
		return nil, false
	}
	unk := data[len(protoMagic):]
	for p := 0; p < len(unk); {
		num, head, n, ok := lenField(unk[p:])
		if !ok {
			return nil, false
		}
		if num == 2 {
			return unk[p+head : p+head+n], true
		}
		p += head + n
	}
	return nil, false
}

// WithResourceVersion returns data, kube's protobuf encoding of an object
// whose message has its metadata (a metav1.ObjectMeta) as field 1, as
// every k8s.io/api object, with metadata.resourceVersion (field 6) set to
// rv: the bytes the protobuf serializer writes for the object with that
// resourceVersion. data is not changed. It reports false when data is not
// such an encoding.
func WithResourceVersion(data []byte, rv string) ([]byte, bool) {
	if !bytes.HasPrefix(data, protoMagic) {
		return nil, false
	}
	unk := data[len(protoMagic):]
	// The envelope (runtime.Unknown): its fields are all length-delimited;
	// field 2 is the object's message.
	rawAt, rawHead, rawLen := -1, 0, 0
	for p := 0; p < len(unk); {
		num, head, n, ok := lenField(unk[p:])
		if !ok {
			return nil, false
		}
		if num == 2 && rawAt < 0 {
			rawAt, rawHead, rawLen = p, head, n
		}
		p += head + n
	}
	if rawAt < 0 {
		return nil, false
	}
	raw := unk[rawAt+rawHead : rawAt+rawHead+rawLen]
	num, metaHead, metaLen, ok := lenField(raw)
	if !ok || num != 1 || !wellFormed(raw[metaHead+metaLen:]) {
		return nil, false
	}
	meta := raw[metaHead : metaHead+metaLen]
	// The metadata's fields, in field order as generated code writes
	// them: resourceVersion replaced, or put before the first field after
	// it.
	at, end := len(meta), len(meta)
	for p := 0; p < len(meta); {
		tag, k := binary.Uvarint(meta[p:])
		if k <= 0 {
			return nil, false
		}
		if tag>>3 >= 6 {
			at, end = p, p
			if tag>>3 == 6 {
				_, head, n, ok := lenField(meta[p:])
				if !ok {
					return nil, false
				}
				end = p + head + n
			}
			break
		}
		n, ok := skipField(meta[p:], tag, k)
		if !ok {
			return nil, false
		}
		p += n
	}
	if !wellFormed(meta[end:]) {
		return nil, false
	}
	rvField := 1 + uvarintLen(uint64(len(rv))) + len(rv)
	newMeta := at + rvField + len(meta) - end
	newRaw := 1 + uvarintLen(uint64(newMeta)) + newMeta + len(raw) - metaHead - metaLen
	size := len(protoMagic) + rawAt + 1 + uvarintLen(uint64(newRaw)) + newRaw + len(unk) - rawAt - rawHead - rawLen
	out := make([]byte, 0, size)
	out = append(out, data[:len(protoMagic)+rawAt]...)
	out = append(out, 2<<3|2)
	out = binary.AppendUvarint(out, uint64(newRaw))
	out = append(out, 1<<3|2)
	out = binary.AppendUvarint(out, uint64(newMeta))
	out = append(out, meta[:at]...)
	out = append(out, 6<<3|2)
	out = binary.AppendUvarint(out, uint64(len(rv)))
	out = append(out, rv...)
	out = append(out, meta[end:]...)
	out = append(out, raw[metaHead+metaLen:]...)
	out = append(out, unk[rawAt+rawHead+rawLen:]...)
	if len(out) != size {
		panic(fmt.Sprintf("cacheable: WithResourceVersion made %d bytes, not %d", len(out), size))
	}
	return out, true
}

// lenField reads the length-delimited field at the start of b: its
// number, the length of its tag and length prefix, and of its value.
func lenField(b []byte) (num uint64, head, n int, ok bool) {
	tag, k := binary.Uvarint(b)
	if k <= 0 || tag&7 != 2 {
		return 0, 0, 0, false
	}
	l, m := binary.Uvarint(b[k:])
	if m <= 0 || l > uint64(len(b)-k-m) {
		return 0, 0, 0, false
	}
	return tag >> 3, k + m, int(l), true
}

// wellFormed reports whether b is a sequence of whole fields.
func wellFormed(b []byte) bool {
	for p := 0; p < len(b); {
		tag, k := binary.Uvarint(b[p:])
		if k <= 0 {
			return false
		}
		n, ok := skipField(b[p:], tag, k)
		if !ok {
			return false
		}
		p += n
	}
	return true
}

// skipField is the length of the field at the start of b, whose tag
// (k bytes) is read.
func skipField(b []byte, tag uint64, k int) (int, bool) {
	switch tag & 7 {
	case 0:
		_, m := binary.Uvarint(b[k:])
		return k + m, m > 0
	case 1:
		return k + 8, len(b) >= k+8
	case 2:
		_, head, n, ok := lenField(b)
		return head + n, ok
	case 5:
		return k + 4, len(b) >= k+4
	}
	return 0, false
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
