package apiserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// A watch cache's list in JSON or protobuf (streamsLists) is written from
// its objects' cached serializations (the same bytes a watch event
// carries), so that a list costs copying bytes. Its body is three parts:
// a head (the list's kind and metadata, and for protobuf the message's
// length), the items, and a tail. The items part depends on the objects
// and the format only, not on the list's resourceVersion: its gzipped form
// is kept for the next list of the same objects (listgzip.go).

// listFormat builds the parts of a list body in one format.
type listFormat struct {
	// items returns the items part as pieces, to be written in order, and
	// its length.
	items func(enc runtime.Encoder, l *cacheable.List) (pieces [][]byte, n int, err error)
	// frame returns the head and the tail around an items part of n bytes.
	frame func(lm *metav1.ListMeta, n int) (head, tail []byte, err error)
}

// listFormatFor returns the list format of out at gv, for items of kind.
func listFormatFor(out output, gv schema.GroupVersion, kind string) listFormat {
	if out.info.MediaType == mediaProtobuf {
		return listFormat{items: protobufListItems, frame: func(lm *metav1.ListMeta, n int) ([]byte, []byte, error) {
			return protobufListFrame(gv, kind, lm, n)
		}}
	}
	return listFormat{
		items: func(enc runtime.Encoder, l *cacheable.List) ([][]byte, int, error) {
			return jsonListItems(enc, gv, kind, l)
		},
		frame: func(lm *metav1.ListMeta, n int) ([]byte, []byte, error) { return jsonListFrame(gv, kind, lm) },
	}
}

// writeList writes a watch cache's list in JSON or protobuf (streamsLists):
// gzipped from the server's cache of compressed items when the response is
// compressed (listgzip.go), else as it is.
func (s *Server) writeList(w http.ResponseWriter, out output, gv schema.GroupVersion, kind string, l *cacheable.List) error {
	auditList(w, gv, kind, l)
	enc := newOnceEncoder(encoderFor(out.info, gv))
	f := listFormatFor(out, gv, kind)
	lm := listMeta(l)
	cw := compressorOf(w)
	var key gzipListKey
	if cw != nil && !disableGzipListCache.Load() {
		key = gzipListKey{encoder: string(enc.id), contentType: out.contentType(), gv: gv, kind: kind}
		if seg := s.gzipLists.get(key, l.Items); seg != nil {
			head, tail, err := f.frame(&lm, seg.n)
			if err != nil {
				return err
			}
			return cw.writeGzipped(out.contentType(), head, seg, tail)
		}
	}
	pieces, n, err := f.items(enc, l)
	if err != nil {
		return err
	}
	head, tail, err := f.frame(&lm, n)
	if err != nil {
		return err
	}
	if key.encoder != "" && len(head)+n+len(tail) > gzipThreshold {
		seg, err := compressItems(pieces, n)
		if err != nil {
			return err
		}
		s.gzipLists.put(key, l.Items, seg)
		return cw.writeGzipped(out.contentType(), head, seg, tail)
	}
	return writeListParts(w, out, head, pieces, tail)
}

// writeListJSON writes l as JSON, uncompressed by the server (the audit
// log's copy of a list).
func writeListJSON(w http.ResponseWriter, out output, gv schema.GroupVersion, kind string, l *cacheable.List) error {
	pieces, _, err := jsonListItems(newOnceEncoder(encoderFor(out.info, gv)), gv, kind, l)
	if err != nil {
		return err
	}
	lm := listMeta(l)
	head, tail, err := jsonListFrame(gv, kind, &lm)
	if err != nil {
		return err
	}
	return writeListParts(w, out, head, pieces, tail)
}

func writeListParts(w http.ResponseWriter, out output, head []byte, pieces [][]byte, tail []byte) error {
	w.Header().Set("Content-Type", out.contentType())
	w.WriteHeader(http.StatusOK)
	bw := getWriter(w)
	defer putWriter(bw)
	_, _ = bw.Write(head)
	for _, p := range pieces {
		_, _ = bw.Write(p)
	}
	_, _ = bw.Write(tail)
	return bw.Flush()
}

func listMeta(l *cacheable.List) metav1.ListMeta {
	return metav1.ListMeta{ResourceVersion: strconv.FormatUint(l.ResourceVersion, 10), Continue: l.Continue,
		RemainingItemCount: l.RemainingItemCount}
}

// jsonListFrame: {"kind":…,"apiVersion":…,"metadata":…,"items":[ … ]}\n
func jsonListFrame(gv schema.GroupVersion, kind string, lm *metav1.ListMeta) (head, tail []byte, err error) {
	head = fmt.Appendf(nil, `{"kind":%q,"apiVersion":%q,"metadata":`, kind+"List", gv.String())
	m, err := jsonMarshal(lm)
	if err != nil {
		return nil, nil, err
	}
	return append(append(head, m...), `,"items":[`...), []byte("]}\n"), nil
}

// jsonListItems returns the items, comma-separated, as upstream's lists
// hold them (as jsonItem makes them).
func jsonListItems(enc runtime.Encoder, gv schema.GroupVersion, kind string, l *cacheable.List) ([][]byte, int, error) {
	apiVersion := gv.String()
	prefix := `{"kind":` + strconv.Quote(kind) + `,"apiVersion":` + strconv.Quote(apiVersion) + `,`
	itemGVK := gv.WithKind(kind)
	pieces := make([][]byte, 0, 3*len(l.Items))
	n := 0
	var rw rawWriter
	var plain *jsonEncoder
	comma, brace := []byte(","), []byte("{")
	for i, co := range l.Items {
		if i > 0 {
			pieces = append(pieces, comma)
			n++
		}
		switch gvk := co.Object().GetObjectKind().GroupVersionKind(); {
		case gvk.Empty(), gvk == itemGVK:
			b, err := encodeRaw(enc, co, &rw)
			if err != nil {
				return nil, 0, err
			}
			// jsonItem's output, "{" and the rest after kind and
			// apiVersion, without a copy of the cached bytes.
			b = bytes.TrimSuffix(b, []byte("\n"))
			if len(b) > len(prefix) && string(b[:len(prefix)]) == prefix {
				if rw.raw == nil {
					b = bytes.Clone(b) // rw's buffer, reused
				}
				pieces = append(pieces, brace, b[len(prefix):])
				n += 1 + len(b) - len(prefix)
				continue
			}
		}
		// Not the cache's usual object: encode it as it is, as the
		// generic list encoder does.
		if plain == nil {
			plain = newJSONEncoder()
		}
		b, err := plain.encode(co.Object())
		if err != nil {
			return nil, 0, err
		}
		pieces = append(pieces, bytes.Clone(b))
		n += len(b)
	}
	return pieces, n, nil
}

// protobufListItems returns the list message's items fields (items = 2),
// each a tag and length, then the item's bytes (cached, not copied).
func protobufListItems(enc runtime.Encoder, l *cacheable.List) ([][]byte, int, error) {
	pieces := make([][]byte, 0, 2*len(l.Items))
	tags := make([]byte, 0, len(l.Items)*(1+binaryMaxVarintLen32))
	n := 0
	var rw rawWriter
	for _, co := range l.Items {
		b, err := encodeRaw(enc, co, &rw)
		if err != nil {
			return nil, 0, err
		}
		if rw.raw == nil {
			b = bytes.Clone(b)
		}
		it, err := protobufRaw(b)
		if err != nil {
			return nil, 0, err
		}
		start := len(tags)
		tags = protowire.AppendTag(tags, 2, protowire.BytesType)
		tags = protowire.AppendVarint(tags, uint64(len(it)))
		pieces = append(pieces, tags[start:len(tags):len(tags)], it)
		n += len(tags) - start + len(it)
	}
	return pieces, n, nil
}

// binaryMaxVarintLen32 bounds the varint of an item's length (under 4 GiB).
const binaryMaxVarintLen32 = 5

// protobufListFrame: the runtime.Unknown around the list message (magic;
// typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4, empty
// strings written as gogo's marshaller does), whose raw starts with the
// list's metadata (= 1) and goes on with the items part of n bytes.
func protobufListFrame(gv schema.GroupVersion, kind string, lm *metav1.ListMeta, n int) (head, tail []byte, err error) {
	meta, err := lm.Marshal()
	if err != nil {
		return nil, nil, err
	}
	size := n + 1 + protowire.SizeBytes(len(meta))
	tm, err := (&runtime.TypeMeta{APIVersion: gv.String(), Kind: kind + "List"}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	head = append([]byte(nil), protobufMagic...)
	head = protowire.AppendTag(head, 1, protowire.BytesType)
	head = protowire.AppendBytes(head, tm)
	head = protowire.AppendTag(head, 2, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(size))
	head = protowire.AppendTag(head, 1, protowire.BytesType)
	head = protowire.AppendBytes(head, meta)
	return head, []byte{0x1a, 0, 0x22, 0}, nil
}
