package cacher

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ParseWatchCacheSizes reads --watch-cache-sizes as kube-apiserver does
// (apiserver/pkg/server/options/etcd.go): a list of "resource[.group]#size".
// Only 0 has an effect (it turns the cache off for that resource); the
// history is sized dynamically, so other sizes are accepted and ignored
// (CacheEnabled tells which is which).
func ParseWatchCacheSizes(cacheSizes []string) (map[schema.GroupResource]int, error) {
	sizes := make(map[schema.GroupResource]int)
	for _, c := range cacheSizes {
		tokens := strings.Split(c, "#")
		if len(tokens) != 2 {
			return nil, fmt.Errorf("invalid value of watch cache size: %s", c)
		}
		size, err := strconv.Atoi(tokens[1])
		if err != nil {
			return nil, fmt.Errorf("invalid size of watch cache size: %s", c)
		}
		if size < 0 {
			return nil, fmt.Errorf("watch cache size cannot be negative: %s", c)
		}
		sizes[schema.ParseGroupResource(tokens[0])] = size
	}
	return sizes, nil
}

// DefaultWatchCacheSizes are kube-apiserver's defaults: events (core and
// events.k8s.io, stored together) are not cached.
func DefaultWatchCacheSizes() map[schema.GroupResource]int {
	return map[schema.GroupResource]int{
		{Resource: "events"}:                         0,
		{Group: "events.k8s.io", Resource: "events"}: 0,
	}
}

// CacheEnabled reports whether gr is cached given the parsed
// --watch-cache-sizes (layered over DefaultWatchCacheSizes by the caller),
// and whether a non-zero size was given and dropped: kube-apiserver logs
// "Dropping watch-cache-size for <gr> - watchCache size is now dynamic".
func CacheEnabled(sizes map[schema.GroupResource]int, gr schema.GroupResource) (enabled, droppedSize bool) {
	size, ok := sizes[gr]
	if !ok {
		return true, false
	}
	return size > 0, size > 0
}

// MaxBytes is the parsed --watch-cache-max-bytes: a total for all cached
// resources and limits per resource, in bytes (0 = no limit).
type MaxBytes struct {
	Total       int64
	PerResource map[schema.GroupResource]int64
}

// For returns the limit of gr (0 = none).
func (m MaxBytes) For(gr schema.GroupResource) int64 { return m.PerResource[gr] }

// ParseWatchCacheMaxBytes reads --watch-cache-max-bytes, a regis flag:
// entries are either a quantity, the total for all resources ("4Gi"), or
// "resource[.group]#quantity" for one resource ("pods#1Gi"). Quantities
// use Kubernetes suffixes (Ki, Mi, Gi, k, M, G) or plain bytes.
func ParseWatchCacheMaxBytes(values []string) (MaxBytes, error) {
	m := MaxBytes{PerResource: map[schema.GroupResource]int64{}}
	for _, v := range values {
		name, qty, perResource := strings.Cut(v, "#")
		if !perResource {
			qty = name
		}
		q, err := resource.ParseQuantity(strings.TrimSpace(qty))
		if err != nil {
			return MaxBytes{}, fmt.Errorf("invalid watch cache max bytes %q: %w", v, err)
		}
		n, ok := q.AsInt64()
		if !ok || n < 0 {
			return MaxBytes{}, fmt.Errorf("invalid watch cache max bytes %q: must be a non-negative number of bytes", v)
		}
		if !perResource {
			m.Total = n
			continue
		}
		if name == "" {
			return MaxBytes{}, fmt.Errorf("invalid watch cache max bytes %q: empty resource", v)
		}
		m.PerResource[schema.ParseGroupResource(name)] = n
	}
	return m, nil
}
