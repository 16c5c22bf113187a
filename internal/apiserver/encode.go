package apiserver

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// rawWriter collects one object's serialization. A runtime.CacheableObject
// (the watch cache's objects) splices its cached bytes in without a copy;
// any other object is encoded into buf.
type rawWriter struct {
	raw []byte
	buf bytes.Buffer
}

var _ runtime.Splice = (*rawWriter)(nil)

func (w *rawWriter) Splice(raw []byte)           { w.raw = raw }
func (w *rawWriter) Write(p []byte) (int, error) { w.raw = nil; return w.buf.Write(p) }
func (w *rawWriter) Reset()                      { w.raw = nil; w.buf.Reset() }
func (w *rawWriter) Bytes() []byte {
	if w.raw != nil {
		return w.raw
	}
	return w.buf.Bytes()
}

// encodeRaw returns obj encoded by enc: the cached bytes of a
// CacheableObject (shared: not to be changed), else bytes in w's buffer,
// valid until w is reset.
func encodeRaw(enc runtime.Encoder, obj runtime.Object, w *rawWriter) ([]byte, error) {
	w.Reset()
	if err := enc.Encode(obj, w); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// protobufMagic starts every Kubernetes protobuf serialization.
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// protobufRaw returns the object message inside a Kubernetes protobuf
// serialization (magic, then runtime.Unknown whose field 2 is the raw
// object), without copying.
func protobufRaw(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, protobufMagic) {
		return nil, fmt.Errorf("protobuf: no magic prefix")
	}
	b = b[len(protobufMagic):]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == 2 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			return v, nil
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil, fmt.Errorf("protobuf: no raw object")
}

// jsonItem returns the JSON of a list item from its serialization (which
// carries kind and apiVersion, typeMetaPrefix), as upstream's lists hold
// their items: without kind and apiVersion (the watch cache's objects
// keep theirs; list items are copies without), and without the trailing
// newline. ok is false when the serialization cannot be reused: encode
// the object itself.
func jsonItem(b []byte, typeMetaPrefix string) (item []byte, ok bool) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) <= len(typeMetaPrefix) || string(b[:len(typeMetaPrefix)]) != typeMetaPrefix {
		return nil, false
	}
	return append(b[:1:1], b[len(typeMetaPrefix):]...), true
}

// onceEncoder is an encoder that hands a runtime.CacheableObject its
// encode function directly, made once: the object's cached bytes cost no
// allocation per use (apimachinery's codec makes a closure per call).
type onceEncoder struct {
	runtime.Encoder
	id runtime.Identifier
	fn func(runtime.Object, io.Writer) error
}

func newOnceEncoder(enc runtime.Encoder) *onceEncoder {
	return &onceEncoder{Encoder: enc, id: enc.Identifier(), fn: enc.Encode}
}

// Encode implements runtime.Encoder.
func (e *onceEncoder) Encode(obj runtime.Object, w io.Writer) error {
	if co, ok := obj.(runtime.CacheableObject); ok {
		return co.CacheEncode(e.id, e.fn, w)
	}
	return e.Encoder.Encode(obj, w)
}

// writerPool holds the buffered writers of list and watch responses.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

func getWriter(w io.Writer) *bufio.Writer {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	writerPool.Put(bw)
}

// watchWriterPool holds the buffers of watchers with queued events.
var watchWriterPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

func getWatchWriter(w io.Writer) *bufio.Writer {
	bw := watchWriterPool.Get().(*bufio.Writer)
	bw.Reset(w)
	return bw
}

func putWatchWriter(bw *bufio.Writer) {
	bw.Reset(nil)
	watchWriterPool.Put(bw)
}

// streamsLists reports whether writeList writes the format of out.
func streamsLists(out output) bool {
	return !disableStreamList.Load() && (out.info.MediaType == mediaJSON || out.info.MediaType == mediaProtobuf)
}

// disableStreamList sends every list through the generic encoder (tests
// compare the two).
var disableStreamList atomic.Bool

// jsonEncoder encodes values as apimachinery's list encoder does
// (encoding/json, without the newline).
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONEncoder() *jsonEncoder {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}

// encode returns v's JSON, valid until the next call.
func (e *jsonEncoder) encode(v any) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), nil
}

func jsonMarshal(v any) ([]byte, error) { return newJSONEncoder().encode(v) }

// frameWriter writes watch events, framed for the format, around their
// objects' bytes, as apimachinery's streaming encoder of a
// metav1.WatchEvent with a RawExtension does, without encoding anything
// (the object's bytes are the watch cache's, shared by every watcher).
type frameWriter func(w *bufio.Writer, typ watch.EventType, obj []byte) error

// frameWriterFor returns the frame writer of a media type, nil for a
// format without one (use the streaming encoder).
func frameWriterFor(mediaType string) frameWriter {
	switch mediaType {
	case mediaJSON:
		return writeJSONFrame
	case mediaProtobuf:
		return writeProtobufFrame
	}
	return nil
}

// writeJSONFrame writes {"type":…,"object":…}\n (the object as it is:
// encoding/json's own output is compact and escaped already).
func writeJSONFrame(w *bufio.Writer, typ watch.EventType, obj []byte) error {
	obj = bytes.TrimSuffix(obj, []byte("\n"))
	h := append(w.AvailableBuffer(), `{"type":`...)
	h = strconv.AppendQuote(h, string(typ))
	h = append(h, `,"object":`...)
	_, _ = w.Write(h)
	_, _ = w.Write(obj)
	_, err := w.WriteString("}\n")
	return err
}

// writeProtobufFrame writes a length-prefixed metav1.WatchEvent message
// (type = 1, object = 2, a RawExtension whose raw = 1).
func writeProtobufFrame(w *bufio.Writer, typ watch.EventType, obj []byte) error {
	ext := 1 + protowire.SizeBytes(len(obj))
	size := 1 + protowire.SizeBytes(len(typ)) + 1 + protowire.SizeBytes(ext)
	h := binary.BigEndian.AppendUint32(w.AvailableBuffer(), uint32(size))
	h = protowire.AppendTag(h, 1, protowire.BytesType)
	h = protowire.AppendString(h, string(typ))
	h = protowire.AppendTag(h, 2, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(ext))
	h = protowire.AppendTag(h, 1, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(len(obj)))
	_, _ = w.Write(h)
	_, err := w.Write(obj)
	return err
}

// encoderFor returns the encoder of a response at group-version gv:
// built-in objects converted to gv, custom resources (unstructured, at gv
// already) as they are.
func encoderFor(info runtime.SerializerInfo, gv schema.GroupVersion) versionEncoder {
	return versionEncoder{typed: codecs().EncoderForVersion(info.Serializer, gv), plain: info.Serializer}
}

type versionEncoder struct {
	typed, plain runtime.Encoder
}

var _ runtime.EncoderWithAllocator = versionEncoder{}

func (e versionEncoder) Encode(obj runtime.Object, w io.Writer) error {
	return e.encoder(obj).Encode(obj, w)
}

// EncodeWithAllocator encodes obj through memory a gives (the protobuf
// encoder's buffer; other encoders ignore it).
func (e versionEncoder) EncodeWithAllocator(obj runtime.Object, w io.Writer, a runtime.MemoryAllocator) error {
	enc := e.encoder(obj)
	if _, ok := e.plain.(runtime.EncoderWithAllocator); ok { // the serializer takes it
		if ea, ok := enc.(runtime.EncoderWithAllocator); ok {
			return ea.EncodeWithAllocator(obj, w, a)
		}
	}
	return enc.Encode(obj, w)
}

func (e versionEncoder) encoder(obj runtime.Object) runtime.Encoder {
	if _, ok := cacheable.Unwrap(obj).(runtime.Unstructured); ok {
		return e.plain
	}
	return e.typed
}

func (e versionEncoder) Identifier() runtime.Identifier { return e.typed.Identifier() }
