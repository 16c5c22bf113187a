package kmsv2

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/regis-dev/regis/internal/storage/value"
)

// Bounds of the decrypted-seed cache. Its entries are few (one per key ID
// and writing server start), so the bound is a guard, not a working size.
const (
	dekCacheTTL = 24 * time.Hour
	dekCacheMax = 4096
)

// cacheKey identifies a DEK source as kube-apiserver does: SHA-256 of
// uint32 type ‖ uint16-length-prefixed source ‖ uint16-length-prefixed key
// ID ‖ [uint32 count ‖ sorted uint16-length-prefixed key, value pairs].
type cacheKey [sha256.Size]byte

func newCacheKey(t SourceType, source []byte, keyID string, annotations map[string][]byte) cacheKey {
	h := sha256.New()
	var buf [4]byte
	binary.BigEndian.PutUint32(buf[:], uint32(t))
	h.Write(buf[:])
	writeLen16 := func(b []byte) {
		binary.BigEndian.PutUint16(buf[:2], uint16(len(b)))
		h.Write(buf[:2])
		h.Write(b)
	}
	writeLen16(source)
	writeLen16([]byte(keyID))
	if len(annotations) > 0 {
		binary.BigEndian.PutUint32(buf[:], uint32(len(annotations)))
		h.Write(buf[:])
		keys := make([]string, 0, len(annotations))
		for k := range annotations {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			writeLen16([]byte(k))
			writeLen16(annotations[k])
		}
	}
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// dekCache maps DEK sources to their read transformers, and makes
// concurrent misses on one source share a single plugin Decrypt (a list of
// thousands of secrets after a start is one call per seed, not one per
// secret).
type dekCache struct {
	now func() time.Time

	mu       sync.Mutex // guards the fields below; never held across a plugin call
	entries  map[cacheKey]*dekEntry
	inflight map[cacheKey]*dekCall
}

type dekEntry struct {
	t        value.Reader
	lastUsed time.Time
}

type dekCall struct {
	done chan struct{} // closed when t and err are set
	t    value.Reader
	err  error
}

func newDEKCache(now func() time.Time) *dekCache {
	return &dekCache{now: now, entries: map[cacheKey]*dekEntry{}, inflight: map[cacheKey]*dekCall{}}
}

func (c *dekCache) set(k cacheKey, t value.Reader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(k, t)
}

// setLocked caches t. Caller holds c.mu.
func (c *dekCache) setLocked(k cacheKey, t value.Reader) {
	now := c.now()
	if len(c.entries) >= dekCacheMax {
		for key, e := range c.entries {
			if now.Sub(e.lastUsed) > dekCacheTTL || len(c.entries) >= dekCacheMax {
				delete(c.entries, key)
			}
		}
	}
	c.entries[k] = &dekEntry{t: t, lastUsed: now}
}

// get returns the transformer of k, calling load once for all concurrent
// callers on a miss. A failed load is not cached. A caller whose ctx ends
// stops waiting; the load goes on for the others.
func (c *dekCache) get(ctx context.Context, k cacheKey, load func() (value.Reader, error)) (value.Reader, bool, error) {
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		e.lastUsed = c.now()
		c.mu.Unlock()
		return e.t, true, nil
	}
	call, ok := c.inflight[k]
	if !ok {
		call = &dekCall{done: make(chan struct{})}
		c.inflight[k] = call
		c.mu.Unlock()
		call.t, call.err = load()
		c.mu.Lock()
		delete(c.inflight, k)
		if call.err == nil {
			c.setLocked(k, call.t)
		}
		c.mu.Unlock()
		close(call.done)
		return call.t, false, call.err
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.t, false, call.err
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// len is the number of cached DEK sources.
func (c *dekCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
