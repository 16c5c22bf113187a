package apiserver

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// Gzip once per cached list. Gzip (level 1, as upstream) is most of the
// server's CPU for a large list from the watch cache, and informers and
// kubelets relisting at resourceVersion "0" ask for the same objects again
// and again. The items part of a list body (listencode.go) depends only on
// its objects and the format, so its deflate stream is kept, keyed by the
// very objects (the cache's shared *cacheable.Object of each revision,
// read-only) and the encoding: a list of other objects, or of the same
// objects in another format, version or kind, can never get it. A
// response is then assembled as a gzip member: header, the head as a
// stored deflate block, the kept items stream (ended by a sync flush,
// byte-aligned), the tail as the final stored block, and the CRC-32 of
// the whole, combined from the parts' (crc32Combine). Decoded, it is the
// same bytes as the list written plainly.
//
// The cache is small and short-lived: at most gzipListEntries entries and
// gzipListBytes of compressed items, none over gzipListMaxItems, each
// dropped gzipListMaxAge after it was made (an entry holds its objects
// until then).
const (
	gzipListEntries  = 8
	gzipListBytes    = 32 << 20
	gzipListMaxItems = 8 << 20
	gzipListMaxAge   = 30 * time.Second
)

// disableGzipListCache sends every gzipped list through compressWriter, as
// before the cache (benchmarks and tests compare the two).
var disableGzipListCache atomic.Bool

// gzipListKey is the encoding of a list's items.
type gzipListKey struct {
	encoder     string // the encoder's identifier
	contentType string
	gv          schema.GroupVersion
	kind        string
}

// gzipSegment is the items part of a list body as a deflate stream that
// ends byte-aligned (a sync flush) and is not final, with the CRC-32 and
// length of the uncompressed items.
type gzipSegment struct {
	deflated []byte
	crc      uint32
	n        int
}

type gzipListEntry struct {
	key   gzipListKey
	items []*cacheable.Object
	seg   *gzipSegment
	made  time.Time
}

// gzipListCache is the server's cache of compressed list items; its zero
// value is empty and ready.
type gzipListCache struct {
	mu      sync.Mutex
	entries []*gzipListEntry // oldest first
	bytes   int
}

// get returns the kept items of the objects in items encoded as key, or nil.
func (c *gzipListCache) get(key gzipListKey, items []*cacheable.Object) *gzipSegment {
	c.mu.Lock()
	c.expireLocked(time.Now())
	candidates := make([]*gzipListEntry, 0, len(c.entries))
	for _, e := range c.entries {
		if e.key == key && len(e.items) == len(items) {
			candidates = append(candidates, e)
		}
	}
	c.mu.Unlock()
	for _, e := range candidates { // entries are never changed: compare unlocked
		if slices.Equal(e.items, items) {
			return e.seg
		}
	}
	return nil
}

// put keeps seg for the objects in items encoded as key.
func (c *gzipListCache) put(key gzipListKey, items []*cacheable.Object, seg *gzipSegment) {
	size := len(seg.deflated)
	if size > gzipListMaxItems {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.expireLocked(now)
	for len(c.entries) > 0 && (len(c.entries) >= gzipListEntries || c.bytes+size > gzipListBytes) {
		c.drop(0)
	}
	c.entries = append(c.entries, &gzipListEntry{key: key, items: items, seg: seg, made: now})
	c.bytes += size
}

func (c *gzipListCache) expireLocked(now time.Time) {
	for len(c.entries) > 0 && now.Sub(c.entries[0].made) > gzipListMaxAge {
		c.drop(0)
	}
}

func (c *gzipListCache) drop(i int) {
	c.bytes -= len(c.entries[i].seg.deflated)
	c.entries[i] = nil
	c.entries = slices.Delete(c.entries, i, i+1)
}

// compressItems deflates the items part (pieces of n bytes in all) at
// gzip's fastest level, ending with a sync flush.
func compressItems(pieces [][]byte, n int) (*gzipSegment, error) {
	var buf bytes.Buffer
	buf.Grow(n/16 + 1024)
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	fw.Reset(&buf)
	var crc uint32
	for _, p := range pieces {
		crc = crc32.Update(crc, crc32.IEEETable, p)
		if _, err := fw.Write(p); err != nil {
			return nil, err
		}
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	fw.Reset(nil)
	return &gzipSegment{deflated: bytes.Clone(buf.Bytes()), crc: crc, n: n}, nil
}

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// gzipHeader is the member header gzip.Writer writes at its fastest level:
// no name, no modification time, XFL 4 (fastest), OS unknown.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

// appendStored appends p as stored deflate blocks (at most 65,535 bytes
// each), the last one final when final is set. The stream must be
// byte-aligned, and is after.
func appendStored(dst, p []byte, final bool) []byte {
	for {
		chunk := p[:min(len(p), 0xffff)]
		p = p[len(chunk):]
		var bfinal byte
		if final && len(p) == 0 {
			bfinal = 1
		}
		dst = append(dst, bfinal)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(chunk)))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(len(chunk)))
		dst = append(dst, chunk...)
		if len(p) == 0 {
			return dst
		}
	}
}

// writeGzipped sends a gzipped list: head, the kept items, tail.
func (c *compressWriter) writeGzipped(contentType string, head []byte, seg *gzipSegment, tail []byte) error {
	h := c.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	c.start()
	pre := appendStored(append([]byte(nil), gzipHeader...), head, false)
	crc := crc32.ChecksumIEEE(head)
	crc = crc32Combine(crc, seg.crc, int64(seg.n))
	crc = crc32Combine(crc, crc32.ChecksumIEEE(tail), int64(len(tail)))
	post := appendStored(nil, tail, true)
	post = binary.LittleEndian.AppendUint32(post, crc)
	post = binary.LittleEndian.AppendUint32(post, uint32(len(head)+seg.n+len(tail)))
	for _, p := range [][]byte{pre, seg.deflated, post} {
		if _, err := c.ResponseWriter.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// compressorOf returns the compressWriter under w, nil when the response is
// not to be compressed.
func compressorOf(w http.ResponseWriter) *compressWriter {
	for {
		switch t := w.(type) {
		case *compressWriter:
			if t.started || t.gz != nil || len(t.buf) > 0 {
				return nil // something was written already
			}
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// crc32Combine returns the CRC-32 (IEEE) of A followed by B from A's, B's
// and B's length (zlib's crc32_combine: the CRC register advanced over
// len2 zero bytes by repeated squaring of the one-zero-bit operator).
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [32]uint32
	odd[0] = 0xedb88320 // the reflected polynomial: one zero bit
	row := uint32(1)
	for n := 1; n < 32; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		gf2Square(&even, &odd) // the first pass: one zero byte
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}
