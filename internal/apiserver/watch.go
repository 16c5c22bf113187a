package apiserver

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
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
	ws, err := s.newWatchStream(r, st)
	if err != nil {
		return err
	}
	if info.name != "" { // /watch/.../NAME: that object only
		if err := selectName(ws.opts, info.name); err != nil {
			return err
		}
	}
	// The timeout and the server's shutdown end the watch through ctx, so
	// that waiting for an event selects on two channels only (a timer's
	// channel in a select costs timer-heap work on every wait).
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	wi, err := st.Watch(ctx, info.namespace, ws.opts)
	if err != nil {
		return err
	}
	defer wi.Stop()
	ws.start(w)
	defer ws.release()
	expired := time.AfterFunc(ws.timeout, cancel)
	defer expired.Stop()
	go func() { // ends with the watch
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	events := wi.ResultChan()
	hold := newInitialHold(ws.opts)
	defer hold.disarm()
	for {
		select {
		case <-ctx.Done():
			// The timeout or the server's shutdown: what is written is
			// sent, a gzip stream ended (a client that went cannot be
			// written to, which is harmless).
			_ = ws.flush()
			return nil
		case <-hold.expired():
			hold.fired()
			if ws.flush() != nil {
				return nil
			}
		case e, ok := <-events:
			if !ok {
				_ = ws.flush()
				return nil
			}
			if e.Type != watch.Bookmark || ws.opts.AllowWatchBookmarks {
				if ws.send(e) != nil {
					return nil
				}
			}
			if hold.saw(e) {
				// Live events from now on: stored gzip members.
				ws.gz.stored = true
			}
			// Queued events join this one's write; the burst is flushed
			// (one write, one flush) when the queue is drained: a live
			// event never waits for another. A watch-list's initial
			// events are held (see initialHold).
			if len(events) == 0 {
				if hold.holding() {
					hold.arm()
				} else if ws.flush() != nil {
					return nil
				}
			}
		}
	}
}

// selectName narrows a watch to the object name, as upstream's
// ListResource does for a path that names one: a field selector on
// metadata.name, which a selector given must agree with.
func selectName(opts *metainternalversion.ListOptions, name string) error {
	if opts.FieldSelector == nil || opts.FieldSelector.Empty() {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", name)
		return nil
	}
	if selected, ok := opts.FieldSelector.RequiresExactMatch("metadata.name"); !ok || selected != name {
		return apierrors.NewBadRequest("fieldSelector metadata.name doesn't match requested name")
	}
	return nil
}

// watchStream is the response of one watch: its negotiated format and
// options, the encoders of its event objects, and the framing and buffer
// that carry them to the client. Its steps run in order: newWatchStream
// (nothing is written, so an error is still answered as a Status), start
// (the status line: from then on a failure ends the watch, or is sent as
// an ERROR event), then send per event and flush per burst.
type watchStream struct {
	r    *http.Request
	st   *registry.Store
	out  output
	opts *metainternalversion.ListOptions
	// timeout ends the watch; a negative one at once.
	timeout time.Duration
	log     *slog.Logger
	// events counts the events sent (apiserver_watch_events_total of the
	// kind), added per burst; nil without metrics.
	events prometheus.Counter

	// embedded encodes event objects at the response's group-version
	// (meta.k8s.io's for a Table or PartialObjectMetadata); status
	// encodes the Status of an ERROR event.
	embedded *onceEncoder
	status   runtime.Encoder
	raw      rawWriter
	// headersSent is set once a Table event carried the column
	// definitions: later ones carry none, as upstream's.
	headersSent bool

	w  http.ResponseWriter
	rc *http.ResponseController
	// body is where events are written: w, or gz in front of it for a
	// gzipped watch-list (compress).
	body     io.Writer
	compress bool
	gz       gzipMembers
	// JSON and protobuf events are framed by frame around the object's
	// bytes (the watch cache's, encoded once for every watcher) into bw,
	// held while events are queued: one write, and one flush, per burst.
	// Other formats go through enc.
	frame frameWriter
	bw    *bufio.Writer
	enc   streaming.Encoder
	// pending counts the events written since the last flush.
	pending int
}

// newWatchStream negotiates the format of a watch on st and reads its
// options and timeout.
func (s *Server) newWatchStream(r *http.Request, st *registry.Store) (*watchStream, error) {
	out, err := negotiate(r, "Table", "PartialObjectMetadata")
	if err != nil {
		return nil, err
	}
	if out.info.StreamSerializer == nil {
		return nil, notAcceptable(r.Header.Get("Accept"))
	}
	opts, err := listOptions(r, st)
	if err != nil {
		return nil, err
	}
	// As upstream: timeoutSeconds when given (a negative one ends the
	// watch at once, after its first answer), else between
	// MinRequestTimeout and twice that.
	timeout := s.cfg.MinRequestTimeout + time.Duration(rand.Int64N(int64(s.cfg.MinRequestTimeout)))
	if opts.TimeoutSeconds != nil && *opts.TimeoutSeconds != 0 {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	gv := st.Resource().GroupVersion()
	if out.as != "" {
		gv = schema.GroupVersion{Group: metav1.GroupName, Version: out.asVersion}
	}
	var events prometheus.Counter
	if m := s.cfg.Metrics; m != nil {
		kind := st.Resource().GroupVersionKind()
		events = m.watchEvents.WithLabelValues(kind.Group, kind.Version, kind.Kind)
	}
	return &watchStream{
		r: r, st: st, out: out, opts: opts, timeout: timeout, log: s.cfg.Logger, events: events,
		embedded: newOnceEncoder(encoderFor(out.info, gv)),
		status:   codecs().EncoderForVersion(out.info.Serializer, schema.GroupVersion{Version: "v1"}),
		frame:    frameWriterFor(out.info.MediaType),
		compress: isWatchList(opts) && acceptsGzip(r),
	}, nil
}

// start sends the status line and the format's Content-Type at once, so
// that the client knows the watch is established before its first event.
func (ws *watchStream) start(w http.ResponseWriter) {
	ct := ws.out.info.MediaType
	switch ws.out.info.MediaType {
	case mediaProtobuf:
		ct = mediaProtobuf + ";stream=watch"
	case mediaCBOR:
		ct = "application/cbor-seq" // RFC 8742 CBOR sequences, as upstream
	}
	if ws.out.as != "" {
		ct = ws.out.contentType()
	}
	w.Header().Set("Content-Type", ct)
	ws.body = w
	if ws.compress {
		setWatchGzip(w.Header())
		ws.gz.w = w
		ws.body = &ws.gz
	}
	w.WriteHeader(http.StatusOK)
	ws.w, ws.rc = w, http.NewResponseController(w)
	_ = ws.rc.Flush()
	stream := ws.out.info.StreamSerializer
	ws.enc = streaming.NewEncoder(stream.Framer.NewFrameWriter(ws.body), stream.Serializer)
}

// send encodes e and writes it, unflushed. An error ends the watch: a
// failed encoding is logged, a failed write is the client gone.
func (ws *watchStream) send(e watch.Event) error {
	typ, err := ws.encode(e)
	if err != nil {
		ws.log.Error("encoding a watch event", "resource", ws.st.Resource().GroupResource(), "err", err)
		return err
	}
	if err := ws.write(typ); err != nil {
		return err
	}
	ws.pending++
	return nil
}

// encode puts the bytes of e's object in ws.raw and returns the type of
// the event to send. An ERROR event carries a Status (an error object
// that is none becomes a 500's); an object that cannot be converted to
// the Table or PartialObjectMetadata asked for is sent as an ERROR event
// with the failure's Status, and the watch goes on.
func (ws *watchStream) encode(e watch.Event) (watch.EventType, error) {
	obj := e.Object
	ws.raw.Reset()
	switch {
	case e.Type == watch.Error:
		if _, isStatus := obj.(*metav1.Status); !isStatus {
			status := apierrors.NewInternalError(errorOf(obj)).ErrStatus
			obj = &status
		}
		return e.Type, ws.status.Encode(obj, &ws.raw)
	case ws.out.as != "" && e.Type != watch.Bookmark:
		conv, err := convertOutput(ws.r, ws.out, ws.st, cacheable.Unwrap(obj), true)
		if err != nil {
			status := statusOf(err)
			ws.raw.Reset()
			return watch.Error, ws.status.Encode(&status, &ws.raw)
		}
		if t, ok := conv.(*metav1.Table); ok {
			if ws.headersSent {
				t.ColumnDefinitions = nil
			}
			ws.headersSent = true
		}
		return e.Type, ws.embedded.Encode(conv, &ws.raw)
	case ws.out.as != "":
		// A bookmark is not converted: it goes at the resource's own
		// group-version.
		return e.Type, encoderFor(ws.out.info, ws.st.Resource().GroupVersion()).Encode(obj, &ws.raw)
	}
	return e.Type, ws.embedded.Encode(obj, &ws.raw)
}

// write frames the encoded event as a typ event: into the burst's buffer,
// taken from the pool by its first event, or through the streaming
// encoder.
func (ws *watchStream) write(typ watch.EventType) error {
	if ws.frame == nil {
		return ws.enc.Encode(&metav1.WatchEvent{Type: string(typ), Object: runtime.RawExtension{Raw: ws.raw.Bytes()}})
	}
	if ws.bw == nil {
		ws.bw = getWatchWriter(ws.body)
	}
	return ws.frame(ws.bw, typ, ws.raw.Bytes())
}

// flush sends the burst to the client, counts its events in the metrics
// and gives its buffer back to the pool: a watcher with nothing queued
// holds none. Without a burst it does nothing.
func (ws *watchStream) flush() error {
	if ws.pending == 0 {
		return nil
	}
	if ws.events != nil {
		ws.events.Add(float64(ws.pending))
	}
	ws.pending = 0
	if ws.bw != nil {
		err := ws.bw.Flush()
		putWatchWriter(ws.bw)
		ws.bw = nil
		if err != nil {
			return err
		}
	}
	if err := ws.gz.end(); err != nil {
		return err
	}
	return ws.rc.Flush()
}

// release gives back the buffers of a burst the watch ended in.
func (ws *watchStream) release() {
	if ws.bw != nil {
		putWatchWriter(ws.bw)
		ws.bw = nil
	}
	ws.gz.release()
}

type errorObject struct{ obj runtime.Object }

func (e errorObject) Error() string { return "unexpected watch error object" }

func errorOf(obj runtime.Object) error { return errorObject{obj} }
