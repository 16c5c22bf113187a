package apiserver

import (
	"io"
	"net/http"
	"sync"
)

// A body decoded into an object is read into a pooled buffer: the
// decoders of JSON and protobuf copy what they keep (strings, raw bytes,
// the protobuf envelope's object), so the buffer is free once the object
// is decoded. A body that fails to decode keeps its buffer (its error may
// quote it); so does any other format.

// bodyBufs holds the buffers of decoded bodies, each at most
// pooledBodyMax (the request size limit bounds what is read).
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// pooledBodyMax is the largest buffer kept for another body.
const pooledBodyMax = 1 << 20

// decodesCopies reports whether the decoder of a request media type
// keeps nothing of the bytes it decodes.
func decodesCopies(mediaType string) bool {
	return mediaType == mediaJSON || mediaType == mediaProtobuf
}

// readDecodedBody is readBody, into a pooled buffer when pooled (held,
// to be handed to releaseBody once the body is decoded).
func (s *Server) readDecodedBody(r *http.Request, pooled bool) (data []byte, held *[]byte, err error) {
	if !pooled || r.Body == nil {
		data, err = s.readBody(r)
		return data, nil, err
	}
	held = bodyBufs.Get().(*[]byte)
	data, err = readAppend(r.Body, (*held)[:0])
	if err != nil {
		bodyBufs.Put(held)
		return nil, nil, s.bodyError(r, err)
	}
	return data, held, nil
}

// releaseBody returns a decoded body's buffer to the pool.
func releaseBody(held *[]byte, data []byte) {
	if held == nil || cap(data) > pooledBodyMax {
		return
	}
	*held = data[:0]
	bodyBufs.Put(held)
}

// readAppend is io.ReadAll appending to buf.
func readAppend(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow as append does
		}
	}
}
