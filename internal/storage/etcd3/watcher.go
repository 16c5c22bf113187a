package etcd3

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacheable"
	"github.com/regis-dev/regis/internal/storage/value"
)

const (
	// Buffers between etcd, the decoder and the consumer, as upstream sizes them.
	incomingBufSize = 100
	outgoingBufSize = 100
	// syncPageSize pages the initial state of a watch.
	syncPageSize = 10000
)

// Watch implements storage.Interface. A watch from RV N starts after N; RV
// "" or "0" (without sendInitialEvents=false) first sends the current state
// as ADDED events. Errors end the watch with one ERROR event.
func (s *Store) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	key, err := s.prepareKey(key, opts.Recursive)
	if err != nil {
		return nil, err
	}
	rev, err := s.versioner.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if opts.ProgressNotify && s.newFunc == nil {
		return nil, apierrors.NewInternalError(errors.New("progressNotify for watch is unsupported by the etcd storage because no newFunc was provided"))
	}
	startRev := int64(rev)
	if rev == 0 && opts.SendInitialEvents != nil && !*opts.SendInitialEvents {
		cur, err := s.GetCurrentResourceVersion(ctx)
		if err != nil {
			return nil, err
		}
		startRev = int64(cur)
	}
	sendInitial := (opts.SendInitialEvents == nil && rev == 0) || (opts.SendInitialEvents != nil && *opts.SendInitialEvents)
	endBookmark := opts.SendInitialEvents != nil && *opts.SendInitialEvents && opts.Predicate.AllowWatchBookmarks

	pred := opts.Predicate
	if pred.Empty() {
		pred = storage.Everything
	}
	wc := &watchChan{
		store:     s,
		key:       key,
		rev:       startRev,
		recursive: opts.Recursive,
		progress:  opts.ProgressNotify,
		pred:      pred,
		encoded:   cacheable.EncodedWanted(ctx) && metaFirst(s.recent.typeOf(s.newFunc)),
		incoming:  make(chan *event, incomingBufSize),
		result:    make(chan watch.Event, outgoingBufSize),
	}
	wc.ctx, wc.cancel = context.WithCancel(ctx)
	s.recent.watches.Add(1) // before any event: writes from now on leave copies
	go wc.run(sendInitial, endBookmark)
	return wc, nil
}

// event is an etcd change (or a synthetic one) before decoding.
type event struct {
	key          string
	value        []byte
	prevValue    []byte
	rev          int64
	deleted      bool
	created      bool
	progress     bool
	initialEnd   bool
	initialEvent bool
}

// watchChan is one watch: a reader goroutine turns etcd into events, a
// decoder goroutine turns events into watch.Events. Stop or a cancelled
// context ends both, then the result channel closes.
type watchChan struct {
	store     *Store
	key       string
	rev       int64
	recursive bool
	progress  bool
	encoded   bool // a write's own events carry their packed bytes (encoded)
	pred      storage.SelectionPredicate
	ctx       context.Context
	cancel    context.CancelFunc
	incoming  chan *event
	result    chan watch.Event
}

// Stop implements watch.Interface.
func (wc *watchChan) Stop() { wc.cancel() }

// ResultChan implements watch.Interface.
func (wc *watchChan) ResultChan() <-chan watch.Event { return wc.result }

func (wc *watchChan) run(sendInitial, endBookmark bool) {
	defer wc.store.recent.watches.Add(-1)
	var wg sync.WaitGroup
	readerDone := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		wc.read(readerDone, sendInitial, endBookmark)
	}()
	go func() {
		defer wg.Done()
		wc.process()
	}()
	select {
	case <-readerDone: // etcd closed the watch
	case <-wc.ctx.Done():
	}
	wc.cancel()
	wg.Wait()
	close(wc.result)
}

// read sends the initial state when asked, then etcd's events.
func (wc *watchChan) read(done chan<- struct{}, sendInitial, endBookmark bool) {
	s := wc.store
	if sendInitial && wc.rev > 0 {
		cur, err := s.GetCurrentResourceVersion(wc.ctx)
		if err != nil {
			wc.sendError(err)
			return
		}
		if uint64(wc.rev) > cur {
			retry := int(time.Second.Seconds() * (1 + 3*rand.Float64()))
			wc.sendError(storage.NewTooLargeResourceVersionError(uint64(wc.rev), cur, retry))
			return
		}
	}
	if sendInitial {
		if err := wc.sync(); err != nil {
			wc.sendError(err)
			return
		}
	}
	if endBookmark {
		wc.queue(&event{rev: wc.rev, progress: true, initialEnd: true})
	}
	opts := []clientv3.OpOption{clientv3.WithRev(wc.rev + 1), clientv3.WithPrevKV()}
	if wc.recursive {
		opts = append(opts, clientv3.WithPrefix())
	}
	if wc.progress {
		opts = append(opts, clientv3.WithProgressNotify())
	}
	gr := s.groupResource
	for resp := range s.client.Watch(clientv3.WithRequireLeader(wc.ctx), wc.key, opts...) {
		if err := resp.Err(); err != nil {
			wc.sendError(err)
			return
		}
		if resp.IsProgressNotify() {
			s.metrics.bookmarksTotal.WithLabelValues(gr.Group, gr.Resource).Inc()
			wc.queue(&event{rev: resp.Header.GetRevision(), progress: true})
			continue
		}
		for _, e := range resp.Events {
			s.metrics.eventsReceivedTotal.WithLabelValues(gr.Group, gr.Resource).Inc()
			if est := s.sizeEstimator(); est != nil {
				if e.Type == clientv3.EventTypeDelete {
					est.remove(string(e.Kv.Key))
				} else {
					est.update([]*mvccpb.KeyValue{e.Kv})
				}
			}
			if !e.IsCreate() && e.PrevKv == nil {
				wc.sendError(fmt.Errorf("etcd event received with PrevKv=nil (key=%q, modRevision=%d, type=%s)", e.Kv.Key, e.Kv.ModRevision, e.Type))
				return
			}
			ev := &event{key: string(e.Kv.Key), value: e.Kv.Value, rev: e.Kv.ModRevision,
				deleted: e.Type == clientv3.EventTypeDelete, created: e.IsCreate()}
			if e.PrevKv != nil {
				ev.prevValue = e.PrevKv.Value
			}
			wc.queue(ev)
		}
	}
	close(done)
}

// sync queues the current state as ADDED events, read at one revision, and
// sets the revision the watch continues from.
func (wc *watchChan) sync() error {
	s := wc.store
	opts := []clientv3.OpOption{}
	if wc.recursive {
		opts = append(opts, clientv3.WithLimit(syncPageSize), clientv3.WithRange(clientv3.GetPrefixRangeEnd(wc.key)))
	}
	key := wc.key
	var pinned int64
	for {
		start := time.Now()
		resp, err := s.client.KV.Get(wc.ctx, key, opts...)
		s.metrics.recordRequest("list", s.groupResource, err, start)
		if err != nil {
			return s.listReadError(wc.ctx, err, pinned, true, key, wc.key)
		}
		if len(resp.Kvs) == 0 && resp.More {
			return fmt.Errorf("no results were found, but etcd indicated there were more values remaining")
		}
		var last []byte
		for _, kv := range resp.Kvs {
			last = kv.Key
			wc.queue(&event{key: string(kv.Key), value: kv.Value, rev: kv.ModRevision, created: true, initialEvent: true})
		}
		if pinned == 0 {
			pinned = resp.Header.Revision
			wc.rev = pinned
			opts = append(opts, clientv3.WithRev(pinned))
		}
		if !resp.More {
			return nil
		}
		key = string(last) + "\x00"
	}
}

func (wc *watchChan) queue(e *event) {
	select {
	case wc.incoming <- e:
	case <-wc.ctx.Done():
	}
}

// decodeConcurrency is how many events a watch decodes at once (upstream's
// ConcurrentWatchObjectDecode uses 10); results are delivered in order.
const decodeConcurrency = 10

type decoded struct {
	ev  *watch.Event
	err error
}

// process decodes events concurrently and delivers those the predicate
// selects, in etcd's order. The first error ends the watch.
func (wc *watchChan) process() {
	pending := make(chan chan decoded, decodeConcurrency-1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wc.deliver(pending)
	}()
	defer wg.Wait()
	defer close(pending)
	for {
		select {
		case e := <-wc.incoming:
			out := make(chan decoded, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev, err := wc.transform(e)
				out <- decoded{ev, err}
			}()
			select {
			case pending <- out:
			case <-wc.ctx.Done():
				return
			}
		case <-wc.ctx.Done():
			return
		}
	}
}

func (wc *watchChan) deliver(pending <-chan chan decoded) {
	for out := range pending {
		var d decoded
		select {
		case d = <-out:
		case <-wc.ctx.Done():
			return
		}
		if d.err != nil {
			wc.sendError(d.err)
			return
		}
		if d.ev == nil {
			continue
		}
		select {
		case wc.result <- *d.ev:
		case <-wc.ctx.Done():
			return
		}
	}
}

func (wc *watchChan) matches(obj runtime.Object) bool {
	if wc.pred.Empty() {
		return true
	}
	ok, err := wc.pred.Matches(obj)
	return err == nil && ok
}

// transform turns an event into what this watcher sees: an update that
// moves an object out of the selection is DELETED, into it ADDED.
func (wc *watchChan) transform(e *event) (*watch.Event, error) {
	s := wc.store
	if e.progress {
		obj := s.newFunc()
		if err := s.versioner.UpdateObject(obj, uint64(e.rev)); err != nil {
			return nil, fmt.Errorf("failed to propagate object resource version: %w", err)
		}
		if e.initialEnd {
			if err := storage.AnnotateInitialEventsEndBookmark(obj); err != nil {
				return nil, err
			}
		}
		return &watch.Event{Type: watch.Bookmark, Object: obj}, nil
	}
	var cur, prev runtime.Object
	var err error
	if !e.deleted {
		var plain []byte
		if cur, plain = s.recent.take(e.key, e.rev, e.value); cur != nil {
			if err = s.versioner.UpdateObject(cur, uint64(e.rev)); err == nil && wc.encoded {
				cur = encoded(cur, plain)
			}
		} else {
			cur, err = wc.decode(e.key, e.value, e.rev)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(e.prevValue) > 0 && (e.deleted || !wc.pred.Empty()) {
		if prev, err = wc.decode(e.key, e.prevValue, e.rev); err != nil {
			if e.deleted && isCorrupt(err) {
				return nil, &corruptDeletedError{err: err}
			}
			return nil, err
		}
	}
	switch {
	case e.deleted:
		if !wc.matches(prev) {
			return nil, nil
		}
		return &watch.Event{Type: watch.Deleted, Object: prev}, nil
	case e.created:
		if !wc.matches(cur) {
			return nil, nil
		}
		return &watch.Event{Type: watch.Added, Object: cur}, nil
	case wc.pred.Empty():
		return &watch.Event{Type: watch.Modified, Object: cur}, nil
	}
	curIn, prevIn := wc.matches(cur), wc.matches(prev)
	switch {
	case curIn && prevIn:
		return &watch.Event{Type: watch.Modified, Object: cur}, nil
	case curIn:
		return &watch.Event{Type: watch.Added, Object: cur}, nil
	case prevIn:
		return &watch.Event{Type: watch.Deleted, Object: prev}, nil
	}
	return nil, nil
}

func (wc *watchChan) decode(key string, data []byte, rev int64) (runtime.Object, error) {
	s := wc.store
	plain, _, err := s.transformer.TransformFromStorage(wc.ctx, data, value.DefaultContext(key))
	if err != nil {
		return nil, err
	}
	obj, err := runtime.Decode(s.codec, plain)
	if err != nil {
		s.metrics.decodeErrorsTotal.WithLabelValues(s.groupResource.Group, s.groupResource.Resource).Inc()
		return nil, fmt.Errorf("unable to decode %q: %w", key, err)
	}
	if err := s.versioner.UpdateObject(obj, uint64(rev)); err != nil {
		return nil, fmt.Errorf("failure to version api object (%d): %w", rev, err)
	}
	return obj, nil
}

// encoded wraps the object a write left for its event with the bytes the
// watch cache packs it into: its encoding (the write's, without a
// resourceVersion) with its resourceVersion (cacheable.NewEncoded). An
// encoding that is not kube's protobuf leaves obj as it is.
func encoded(obj runtime.Object, plain []byte) runtime.Object {
	m, ok := obj.(metav1.Object)
	if !ok {
		return obj
	}
	packed, ok := cacheable.WithResourceVersion(plain, m.GetResourceVersion())
	if !ok {
		return obj
	}
	co, err := cacheable.NewEncoded(obj, packed)
	if err != nil {
		return obj
	}
	return co
}

// corruptDeletedError is a DELETED event whose previous value cannot be read.
type corruptDeletedError struct{ err error }

func (e *corruptDeletedError) Error() string {
	return fmt.Sprintf("saw a DELETED event, but object data is corrupt - %v", e.err)
}
func (e *corruptDeletedError) Unwrap() error { return e.err }

// sendError ends the watch with one ERROR event; a cancellation ends it silently.
func (wc *watchChan) sendError(err error) {
	defer wc.cancel()
	if isCancel(err) {
		return
	}
	select {
	case wc.result <- watch.Event{Type: watch.Error, Object: watchErrorStatus(err)}:
	case <-wc.ctx.Done():
	}
}

func watchErrorStatus(err error) *metav1.Status {
	var cde *corruptDeletedError
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		err = apierrors.NewResourceExpired("The resourceVersion for the provided watch is too old.")
	case errors.As(err, &cde):
		err = &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
			Code: http.StatusInternalServerError, Reason: metav1.StatusReasonStoreReadError, Message: cde.Error()}}
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		st = apierrors.NewInternalError(err)
	}
	s := st.Status()
	return &s
}

func isCancel(err error) bool {
	if errors.Is(err, context.Canceled) {
		return true
	}
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Canceled
}
