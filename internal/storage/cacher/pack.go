package cacher

import "github.com/regis-dev/regis/internal/storage/cacheable"

// packLag is how many objects that left the cache's state stay decoded
// before they are packed (cacheable.Object.Pack): an object that leaves
// the state (replaced by a newer revision, or deleted) is still in the
// history, for watchers resuming from an older revision, and in the
// snapshots, for lists at an older revision. Packed, it costs its
// protobuf encoding instead of about three times that. The lag leaves the
// watchers that are behind by less (their buffers hold about a second of
// events, at most 1,000) with the decoded object and its serializations.
const packLag = 256

// packQueue holds the objects that left the state, oldest first, until
// they are packed. Only the reflector goroutine uses it; it does no
// locking.
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
