package serviceaccount

import (
	"crypto/sha256"
	"strings"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a successful authentication is reused
// (kube-apiserver's token success cache: 10 s; failures are not cached).
const DefaultCacheTTL = 10 * time.Second

// maxCacheEntries bounds the cache; when full, expired entries are
// dropped, then everything.
const maxCacheEntries = 4096

// cache keeps successful authentications by the hash of the token and
// the audiences asked, as upstream's token cache: a token is checked
// against its account and bound objects at most once per TTL.
type cache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[32]byte]cached
}

type cached struct {
	res     *Result
	expires time.Time
}

func newCache(ttl time.Duration) *cache {
	if ttl <= 0 {
		return nil
	}
	return &cache{ttl: ttl, m: map[[32]byte]cached{}}
}

func cacheKey(token string, audiences []string) [32]byte {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write([]byte{0})
	h.Write([]byte(strings.Join(audiences, "\x00")))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *cache) get(k [32]byte, now time.Time) (*Result, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.res, true
}

// put keeps res until the TTL or the token's expiry, whichever is first.
func (c *cache) put(k [32]byte, res *Result, now, tokenExpiry time.Time) {
	if c == nil {
		return
	}
	exp := now.Add(c.ttl)
	if !tokenExpiry.IsZero() && tokenExpiry.Before(exp) {
		exp = tokenExpiry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCacheEntries {
		for key, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, key)
			}
		}
		if len(c.m) >= maxCacheEntries {
			clear(c.m)
		}
	}
	c.m[k] = cached{res: res, expires: exp}
}
