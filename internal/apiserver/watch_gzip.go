package apiserver

import (
	"compress/gzip"
	"io"
	"net/http"

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

// gzipMembers writes a stream of gzip members to w: a member opens at the
// first write after an end, from the pool of the compressed responses'
// writers (gzip's fastest level, as upstream's), and end closes it.
type gzipMembers struct {
	w  io.Writer
	gz *gzip.Writer // the open member, nil between members
}

func (m *gzipMembers) Write(p []byte) (int, error) {
	if m.gz == nil {
		m.gz = gzipWriters.Get().(*gzip.Writer)
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
		gzipWriters.Put(m.gz)
		m.gz = nil
	}
}
