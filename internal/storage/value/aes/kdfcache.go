package aes

import (
	"bytes"
	"sync"
	"time"
)

// Bounds of the derived-key cache of a KMS v2 seed. Its key is the etcd key
// (the additional data), so a client creating objects under ever new names
// can fill it: entries expire, and the cache never holds more than
// kdfCacheMax of them (about 300 bytes each).
const (
	kdfCacheTTL = 10 * time.Minute
	kdfCacheMax = 16384
)

// kdfCache remembers the AES-GCM of the last info seen at each etcd key, so
// reading a value again skips the HKDF and the AES key schedule.
type kdfCache struct {
	now func() time.Time

	mu      sync.RWMutex // guards entries
	entries map[string]kdfEntry
}

type kdfEntry struct {
	info    []byte
	gcm     *gcm
	expires time.Time
}

func newKDFCache(now func() time.Time) *kdfCache {
	return &kdfCache{now: now, entries: map[string]kdfEntry{}}
}

// get returns the cached transformer of info at aad, or nil.
func (c *kdfCache) get(aad, info []byte) *gcm {
	c.mu.RLock()
	e, ok := c.entries[string(aad)]
	c.mu.RUnlock()
	if !ok || !bytes.Equal(e.info, info) || c.now().After(e.expires) {
		return nil
	}
	return e.gcm
}

// set caches g for info at aad. info must not alias a larger buffer.
func (c *kdfCache) set(aad, info []byte, g *gcm) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= kdfCacheMax {
		c.evictLocked(now)
	}
	c.entries[string(aad)] = kdfEntry{info: info, gcm: g, expires: now.Add(kdfCacheTTL)}
}

// evictLocked drops expired entries, then arbitrary ones, down to 3/4 of
// the bound. Caller holds c.mu for writing.
func (c *kdfCache) evictLocked(now time.Time) {
	for k, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) <= kdfCacheMax*3/4 {
			return
		}
		delete(c.entries, k)
	}
}
