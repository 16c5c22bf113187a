package cacher

import (
	"fmt"
	"math"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// History bounds, as upstream sizes its event history
// (watch_cache_history.go): it starts at 100 events, doubles while the
// oldest event is younger than the freshness window and halves when the
// newest quarter is older than it.
const (
	historyLowerBound = 100
	historyUpperBound = 100 * 1024
	// DefaultEventsHistoryWindow is how long events are kept at least:
	// the bookmark frequency (1 min) plus 15 s, upstream's
	// DefaultEventFreshDuration.
	DefaultEventsHistoryWindow = bookmarkFrequency + 15*time.Second
	// DefaultEventsHistoryMaxBytes bounds the encoded size of the
	// history's objects: 256 MiB, some 80,000 events of 3 KiB pods (the
	// count bound, 102,400 events, would allow 10 GiB of 100 KiB objects).
	DefaultEventsHistoryMaxBytes = 256 << 20
)

// historyCapacityUpperBound is 102,400 events for the default window, and
// that times the next power of two of window/75s for longer ones (capped
// to an int32), as upstream's capacityUpperBound.
func historyCapacityUpperBound(window time.Duration) int {
	if window <= DefaultEventsHistoryWindow {
		return historyUpperBound
	}
	exp := int(math.Ceil(math.Log2(window.Seconds() / DefaultEventsHistoryWindow.Seconds())))
	if maxExp := int(math.Floor(math.Log2(math.MaxInt32 / historyUpperBound))); exp > maxExp {
		exp = maxExp
	}
	return historyUpperBound << exp
}

// history is the ring buffer of the latest events of one resource, in
// revision order. It does no locking and starts no goroutines; the cacher
// guards it with its mutex.
type history struct {
	buf         []*event
	start, end  int // live events are buf[i%len(buf)] for start <= i < end
	lower       int
	upper       int
	window      time.Duration
	bytes       int64  // encoded size of the live events' objects
	maxBytes    int64  // bound of bytes (0: none)
	lastEvicted uint64 // newest evicted revision not yet in floor
	// floor is the oldest revision a watch can start from: the list
	// revision, raised when events are evicted (to the oldest remaining
	// event's revision minus one, as upstream, and never below an
	// evicted one) and when etcd compacts.
	floor uint64
}

func newHistory(window time.Duration, maxBytes int64) *history {
	return &history{
		buf:      make([]*event, historyLowerBound),
		lower:    historyLowerBound,
		upper:    historyCapacityUpperBound(window),
		window:   window,
		maxBytes: maxBytes,
	}
}

func (h *history) capacity() int { return len(h.buf) }
func (h *history) size() int     { return h.end - h.start }
func (h *history) full() bool    { return h.size() == len(h.buf) }
func (h *history) at(i int) *event {
	return h.buf[i%len(h.buf)]
}

// reset empties the buffer after a list at listRV.
func (h *history) reset(listRV uint64) {
	clear(h.buf)
	h.start, h.end = 0, 0
	h.bytes = 0
	h.floor = listRV
}

// add appends e, resizing first as upstream does and evicting the oldest
// event when still full, and the oldest events while e would take the
// history past its byte bound. It returns the capacity before and after.
func (h *history) add(e *event) (before, after int) {
	before = len(h.buf)
	h.resize(e.recordTime)
	n := e.histBytes()
	for h.full() || (h.maxBytes > 0 && h.size() > 0 && h.bytes+n > h.maxBytes) {
		h.evictOldest()
	}
	h.buf[h.end%len(h.buf)] = e
	h.end++
	h.bytes += n
	h.raiseFloor()
	return before, len(h.buf)
}

// evictOldest drops the oldest event (the caller then calls raiseFloor).
func (h *history) evictOldest() {
	h.lastEvicted = max(h.lastEvicted, h.at(h.start).rv)
	h.bytes -= h.at(h.start).histBytes()
	h.buf[h.start%len(h.buf)] = nil
	h.start++
}

// raiseFloor accounts for evicted events: a watch must start at or after
// the newest of them, and (upstream's rule) no earlier than one before
// the oldest event left.
func (h *history) raiseFloor() {
	if h.lastEvicted == 0 {
		return
	}
	h.floor = max(h.floor, h.lastEvicted)
	if h.size() > 0 {
		h.floor = max(h.floor, h.oldestRV()-1)
	}
	h.lastEvicted = 0
}

func (h *history) resize(now time.Time) {
	if !h.full() {
		return
	}
	switch c := len(h.buf); {
	case now.Sub(h.at(h.start).recordTime) < h.window:
		if n := min(2*c, h.upper); n > c {
			h.realloc(n)
		}
	case now.Sub(h.at(h.end-c/4).recordTime) > h.window:
		if n := max(c/2, h.lower); n < c {
			h.realloc(n)
		}
	}
}

func (h *history) realloc(capacity int) {
	buf := make([]*event, capacity)
	for h.size() > capacity {
		h.evictOldest()
	}
	for i := h.start; i < h.end; i++ {
		buf[i%capacity] = h.at(i)
	}
	h.buf = buf
	h.raiseFloor()
}

// oldestRV is the revision of the oldest buffered event, 0 when empty.
func (h *history) oldestRV() uint64 {
	if h.size() == 0 {
		return 0
	}
	return h.at(h.start).rv
}

// trim forgets the events at or below rev (etcd compacted them).
func (h *history) trim(rev uint64) {
	h.floor = max(h.floor, rev)
	for h.start < h.end && h.at(h.start).rv <= rev {
		h.bytes -= h.at(h.start).histBytes()
		h.buf[h.start%len(h.buf)] = nil
		h.start++
	}
}

// since returns the buffered events with revision > rv, or upstream's 410
// "too old resource version" when events after rv were evicted.
func (h *history) since(rv uint64) ([]*event, error) {
	if rv < h.floor {
		return nil, apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, h.floor))
	}
	n := h.size()
	first := sort.Search(n, func(i int) bool { return h.at(h.start+i).rv > rv })
	out := make([]*event, 0, n-first)
	for i := h.start + first; i < h.end; i++ {
		out = append(out, h.at(i))
	}
	return out, nil
}

// Per-watcher buffer sizes, as upstream's suggestedWatchChannelSize: about
// one second of history, at least 10, at most 10 for a watch served by the
// trigger index, 1000 when an index exists but the watch does not use it,
// and 100 without an index.
const (
	minWatchChanSize                = 10
	maxWatchChanSizeWithTrigger     = 10
	maxWatchChanSizeIndexNotUsed    = 1000
	maxWatchChanSizeWithoutTriggers = 100
)

func (h *history) watchChanSize(triggerExists, triggerUsed bool) int {
	size := max(int(math.Ceil(float64(len(h.buf))/h.window.Seconds())), minWatchChanSize)
	switch {
	case triggerExists && triggerUsed:
		return min(size, maxWatchChanSizeWithTrigger)
	case triggerExists:
		return min(size, maxWatchChanSizeIndexNotUsed)
	default:
		return min(size, maxWatchChanSizeWithoutTriggers)
	}
}
