package aes

import (
	"testing"
	"time"
)

func TestKDFCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newKDFCache(func() time.Time { return now })
	g := &gcm{}
	c.set([]byte("/registry/secrets/a"), []byte("info-1"), g)

	if got := c.get([]byte("/registry/secrets/a"), []byte("info-1")); got != g {
		t.Fatalf("get of the cached info: got %p, want %p", got, g)
	}
	if got := c.get([]byte("/registry/secrets/a"), []byte("info-2")); got != nil {
		t.Fatal("get with another info returned a transformer")
	}
	now = now.Add(kdfCacheTTL + time.Second)
	if got := c.get([]byte("/registry/secrets/a"), []byte("info-1")); got != nil {
		t.Fatal("get after the TTL returned a transformer")
	}

	for i := range kdfCacheMax + 10 {
		c.set([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, nil, g)
	}
	if n := len(c.entries); n > kdfCacheMax {
		t.Fatalf("cache holds %d entries, bound %d", n, kdfCacheMax)
	}
}
