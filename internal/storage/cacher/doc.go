// Package cacher is the watch cache: a storage.Interface for one resource
// that wraps the resource's etcd3 store and serves every watch, and most
// lists and gets, from memory, with kube-apiserver's semantics (its
// Cacher and CacheDelegator).
//
// A reflector lists the resource and watches it from the list's revision
// with progress notifications (which advance the cache's revision and
// prove it fresh for consistent reads). Each event is decoded once (by
// the store), applied to an ordered store whose every revision is kept as
// a snapshot (a persistent tree: a snapshot is a root pointer), recorded in
// a ring buffer of history sized as upstream sizes it, and offered by one
// dispatcher goroutine to the watchers it may concern. Objects are shared
// by the store, list results and watch events as cacheable.Objects, which
// cache their serializations per wire format: an event written to a
// thousand watchers is encoded once per format. An object that has left
// the current state (a past revision, a deleted object) and is kept only
// for the history and the snapshots is packed, a short while later, to its
// protobuf encoding and decoded again by the few readers that need it (a
// watch resumed from an old revision, a list at one); the history is
// bounded by the encoded size of its objects as well as by count.
//
// Writes go to the store, with the cached object as the suggestion. A
// watcher that cannot keep up is evicted (an ERROR event, 410, after what
// it had buffered) rather than slowing the reflector or other watchers. A
// memory budget (--watch-cache-max-bytes) sends lists to etcd when the
// cache holds too much.
//
// It knows nothing of etcd, codecs or encryption: the store does.
package cacher
