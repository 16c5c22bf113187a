package cacher

import "github.com/regis-dev/regis/internal/storage/cacheable"

// packLag is how many objects entered the cache after an object before
// it is packed (cacheable.Object.Pack): its protobuf encoding kept instead
// of the decoded object, about three times that, and its metadata (the
// getters of controllers and selectors need no decode). Lists and watches
// in protobuf copy the encoding; others, and reads of one object, decode
// it. The lag leaves the objects just written decoded, with their
// serializations, for the watchers that are behind by less (their buffers
// hold about a second of events, at most 1,000).
const packLag = 256

// packQueue holds the objects that entered the cache (and the deleted
// objects of the history), oldest first, until they are packed. Only the
// reflector goroutine uses it; it does no locking.
type packQueue struct {
	objs  []*cacheable.Object // objs[start:] wait
	start int
	off   bool // Config.KeepHistoryDecoded
}

// push queues o to be packed once packLag newer objects have left.
func (q *packQueue) push(o *cacheable.Object) {
	if o != nil && !q.off {
		q.objs = append(q.objs, o)
	}
}

// drain packs the objects beyond the lag. Call it without Cacher.mu: a
// pack encodes the object.
func (q *packQueue) drain() {
	for len(q.objs)-q.start > packLag {
		q.objs[q.start].Pack()
		q.objs[q.start] = nil
		q.start++
	}
	if q.start > len(q.objs)/2 {
		n := copy(q.objs, q.objs[q.start:])
		clear(q.objs[n:])
		q.objs = q.objs[:n]
		q.start = 0
	}
}
