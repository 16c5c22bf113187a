package apiserver

// DisableGzipListCache gzips every list as it is written, as before the
// cache of compressed list items; the returned function restores it.
func DisableGzipListCache() func() {
	disableGzipListCache.Store(true)
	return func() { disableGzipListCache.Store(false) }
}
