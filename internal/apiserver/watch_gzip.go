package apiserver

import (
	"compress/gzip"
	"io"
	"net/http"
	"sync"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
)

// A watch-list (sendInitialEvents=true with bookmarks) is sent gzipped
// when the client accepts gzip, as kube-apiserver v1.37 does
// (WatchListCompression, beta and on): Content-Encoding gzip for the whole
// stream, initial and live events, each flush ending a gzip member, so
// that the client can decode everything flushed; other watches are sent
// as they are. Informers ask for watch-lists, client-go accepts gzip: the
// initial events of a large collection cost the client and the network a
// tenth of their bytes.

// isWatchList reports whether a watch is a watch-list (upstream's
// isListWatchRequest).
func isWatchList(opts *metainternalversion.ListOptions) bool {
	return opts.SendInitialEvents != nil && *opts.SendInitialEvents && opts.AllowWatchBookmarks
}

// setWatchGzip sets the headers of a gzipped watch-list response.
func setWatchGzip(h http.Header) {
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
}

// storedWriters are gzip writers that store what they are given
// (deflate's stored blocks): a member of one event costs a copy and a
// CRC (0.2–0.5 µs), where gzip's fastest level spends ~9 µs resetting and
// running its compressor for a small pod's event (`go test
// ./internal/apiserver -run '^$' -bench MemberOfOneEvent`) and ~34 µs for
// a 3 KB one, as much as the rest of a delivery to a watcher.
var storedWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.NoCompression)
	return w
}}

// gzipMembers writes a stream of gzip members to w: a member opens at the
// first write after an end and end closes it. Members are compressed at
// gzip's fastest level (upstream's) until stored is set: a watch-list's
// initial events are compressed, a flush of them at a time, and the live
// events after them, a member of one or a few events each, are stored,
// which any gzip reader reads as well (upstream compresses those too, at
// the cost above per event and watcher).
type gzipMembers struct {
	w      io.Writer
	stored bool         // members opened from now on store their data
	gz     *gzip.Writer // the open member, nil between members
	pool   *sync.Pool   // gz's
}

func (m *gzipMembers) Write(p []byte) (int, error) {
	if m.gz == nil {
		m.pool = &gzipWriters
		if m.stored {
			m.pool = &storedWriters
		}
		m.gz = m.pool.Get().(*gzip.Writer)
		m.gz.Reset(m.w)
	}
	return m.gz.Write(p)
}

// end flushes and closes the open member (its trailer written to w) and
// gives its writer back; without one it does nothing. The flush comes
// first, as upstream's: a gzip reader returns the data of a member's last
// block only once it has read the next member's header, so without the
// flush's sync block the last events would wait for the next flush.
func (m *gzipMembers) end() error {
	if m.gz == nil {
		return nil
	}
	err := m.gz.Flush()
	if cerr := m.gz.Close(); err == nil {
		err = cerr
	}
	m.release()
	return err
}

// release gives back the open member's writer without ending it (the
// stream is over).
func (m *gzipMembers) release() {
	if m.gz != nil {
		m.gz.Reset(nil)
		m.pool.Put(m.gz)
		m.gz = nil
	}
}
