// Package cacheable holds the objects a watch cache shares with the HTTP
// layer: Object, an API object that keeps its serializations per wire
// format (a runtime.CacheableObject), and List, a list of them that an
// encoder writes by copying bytes. It is a leaf: the cacher makes these
// values and the HTTP layer writes them, and neither needs the other.
package cacheable
