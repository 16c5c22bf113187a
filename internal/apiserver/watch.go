package apiserver

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/storage/cacheable"
)

// watch streams the changes of a resource until the client goes, the
// watch times out (timeoutSeconds, else between MinRequestTimeout and
// twice that, as upstream), the storage ends it, or the server shuts down.
// Each event object is encoded once per event with the negotiated
// serializer (a watch cache's runtime.CacheableObject keeps the encoding
// for the other watchers) and framed for the format: newline-delimited
// JSON, length-prefixed protobuf, CBOR sequences.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, st *registry.Store, info requestInfo) error {
	out, err := negotiate(r, "Table", "PartialObjectMetadata")
	if err != nil {
		return err
	}
	if out.info.StreamSerializer == nil {
		return notAcceptable(r.Header.Get("Accept"))
	}
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	// As upstream: timeoutSeconds when given (a negative one ends the
	// watch at once, after its first answer), else between
	// MinRequestTimeout and twice that.
	timeout := s.cfg.MinRequestTimeout + time.Duration(rand.Int64N(int64(s.cfg.MinRequestTimeout)))
	if opts.TimeoutSeconds != nil && *opts.TimeoutSeconds != 0 {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	wi, err := st.Watch(ctx, info.namespace, opts)
	if err != nil {
		return err
	}
	defer wi.Stop()

	gv := st.Resource().GroupVersion()
	if out.as != "" {
		gv = schema.GroupVersion{Group: metav1.GroupName, Version: out.asVersion}
	}
	embedded := newOnceEncoder(codecs().EncoderForVersion(out.info.Serializer, gv))
	status := codecs().EncoderForVersion(out.info.Serializer, schema.GroupVersion{Version: "v1"})
	stream := out.info.StreamSerializer
	ct := out.info.MediaType
	switch out.info.MediaType {
	case mediaProtobuf:
		ct = mediaProtobuf + ";stream=watch"
	case mediaCBOR:
		ct = "application/cbor-seq" // RFC 8742 CBOR sequences, as upstream
	}
	if out.as != "" {
		ct = out.contentType()
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := streaming.NewEncoder(stream.Framer.NewFrameWriter(w), stream.Serializer)
	// JSON and protobuf frames are written around the object's bytes
	// (the watch cache's, encoded once for every watcher) into a buffer
	// held while events are queued: one write, and one flush, per burst.
	frame := frameWriterFor(out.info.MediaType)
	var bw *bufio.Writer
	defer func() {
		if bw != nil {
			putWatchWriter(bw)
		}
	}()
	var raw rawWriter
	kind := st.Resource().GroupVersionKind()
	expired := time.NewTimer(timeout)
	defer expired.Stop()
	for {
		var e watch.Event
		var ok bool
		select {
		case <-expired.C:
			return nil
		case <-ctx.Done():
			return nil
		case <-s.stopping:
			return nil
		case e, ok = <-wi.ResultChan():
			if !ok {
				return nil
			}
		}
		obj := e.Object
		if e.Type == watch.Bookmark && !opts.AllowWatchBookmarks {
			continue
		}
		raw.Reset()
		switch {
		case e.Type == watch.Error:
			if _, isStatus := obj.(*metav1.Status); !isStatus {
				st := apierrors.NewInternalError(errorOf(obj)).ErrStatus
				obj = &st
			}
			err = status.Encode(obj, &raw)
		case out.as != "" && e.Type != watch.Bookmark:
			conv, cerr := convertOutput(r, out, st, cacheable.Unwrap(obj), true)
			if cerr != nil {
				st := statusOf(cerr)
				raw.Reset()
				e.Type, err = watch.Error, status.Encode(&st, &raw)
				break
			}
			err = embedded.Encode(conv, &raw)
		case out.as != "":
			err = codecs().EncoderForVersion(out.info.Serializer, st.Resource().GroupVersion()).Encode(obj, &raw)
		default:
			err = embedded.Encode(obj, &raw)
		}
		if err != nil {
			s.cfg.Logger.Error("encoding a watch event", "resource", st.Resource().GroupResource(), "err", err)
			return nil
		}
		if frame != nil {
			if bw == nil {
				bw = getWatchWriter(w)
			}
			err = frame(bw, e.Type, raw.Bytes())
		} else {
			err = enc.Encode(&metav1.WatchEvent{Type: string(e.Type), Object: runtime.RawExtension{Raw: raw.Bytes()}})
		}
		if err != nil {
			return nil // the client went away
		}
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.watchEvent(kind)
		}
		if len(wi.ResultChan()) == 0 {
			if bw != nil {
				err := bw.Flush()
				putWatchWriter(bw)
				bw = nil
				if err != nil {
					return nil
				}
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
	}
}

type errorObject struct{ obj runtime.Object }

func (e errorObject) Error() string { return "unexpected watch error object" }

func errorOf(obj runtime.Object) error { return errorObject{obj} }
