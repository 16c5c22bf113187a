package apiserver

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// Response compression, as kube-apiserver's APIResponseCompression (on by
// default): a response body over gzipThreshold is gzipped when the client
// accepts gzip (client-go always does), at gzip's fastest level, upstream's
// choice (kubernetes#112296). Smaller bodies are sent as they are, and so
// are watches but watch-lists (watch_gzip.go).

// gzipThreshold is upstream's defaultGzipThresholdBytes.
const gzipThreshold = 128 * 1024

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// (upstream reads the tokens as they are, without quality values).
func acceptsGzip(r *http.Request) bool {
	for tok := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(tok) == "gzip" {
			return true
		}
	}
	return false
}

// heldBodies holds compressWriter's buffers, at most gzipThreshold bytes
// of a body each (with append's slack).
var heldBodies = sync.Pool{New: func() any { return new([]byte) }}

// compressWriter holds back the status and the first gzipThreshold bytes
// of a response, then sends them gzipped if there is more, or as they are
// on Close. The handler must not set Content-Length.
type compressWriter struct {
	http.ResponseWriter
	code    int
	buf     []byte       // what is held back, in *held
	held    *[]byte      // from heldBodies while buf is in use
	started bool         // the status line is sent
	gz      *gzip.Writer // while compressing
}

func newCompressWriter(w http.ResponseWriter) *compressWriter {
	return &compressWriter{ResponseWriter: w, code: http.StatusOK}
}

func (c *compressWriter) WriteHeader(code int) {
	if !c.started && c.code == http.StatusOK {
		c.code = code
	}
}

func (c *compressWriter) Write(p []byte) (int, error) {
	switch {
	case c.gz != nil:
		return c.gz.Write(p)
	case c.started:
		return c.ResponseWriter.Write(p)
	case len(c.buf)+len(p) <= gzipThreshold:
		if c.held == nil {
			c.held = heldBodies.Get().(*[]byte)
			c.buf = (*c.held)[:0]
		}
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	h := c.Header()
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	c.start()
	c.gz = gzipWriters.Get().(*gzip.Writer)
	c.gz.Reset(c.ResponseWriter)
	_, err := c.gz.Write(c.buf)
	c.release()
	if err != nil {
		return 0, err
	}
	return c.gz.Write(p)
}

// release returns the held-back buffer to the pool (once written: a
// writer keeps nothing of what it is written).
func (c *compressWriter) release() {
	if c.held != nil {
		*c.held = c.buf[:0]
		heldBodies.Put(c.held)
		c.held = nil
	}
	c.buf = nil
}

// start sends the status line.
func (c *compressWriter) start() {
	c.started = true
	c.ResponseWriter.WriteHeader(c.code)
}

// Close sends what is held back and ends the gzip stream.
func (c *compressWriter) Close() error {
	if c.gz != nil {
		err := c.gz.Close()
		c.gz.Reset(nil)
		gzipWriters.Put(c.gz)
		c.gz = nil
		return err
	}
	if c.started {
		return nil
	}
	c.start()
	_, err := c.ResponseWriter.Write(c.buf)
	c.release()
	return err
}

// Unwrap lets http.ResponseController reach the connection.
func (c *compressWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
