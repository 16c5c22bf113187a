package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// Event is one revision of a key: a put (KV holds the value) or a delete.
type Event struct {
	Revision int64
	Delete   bool
	KV       KV
}

// ErrNotFound is Get's error for a key with no value at the revision.
var ErrNotFound = errors.New("not found")

// Getter reads one key at a revision and walks the revisions of a key that
// the etcd still holds. Live and File are Getters.
type Getter interface {
	// Get returns key at rev (0: the newest revision).
	Get(ctx context.Context, key string, rev int64) (KV, error)
	// History calls fn for every revision of key still held, oldest first.
	History(ctx context.Context, key string, fn func(Event) error) error
}

// Get implements Getter.
func (l *Live) Get(ctx context.Context, key string, rev int64) (KV, error) {
	var opts []clientv3.OpOption
	if rev > 0 {
		opts = append(opts, clientv3.WithRev(rev))
	}
	resp, err := l.KV.Get(ctx, key, opts...)
	if err != nil {
		return KV{}, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return KV{}, fmt.Errorf("%s: %w at revision %d", key, ErrNotFound, max(rev, resp.Header.Revision))
	}
	return kvOf(resp.Kvs[0]), nil
}

// History implements Getter.
func (l *Live) History(ctx context.Context, key string, fn func(Event) error) error {
	return l.Revisions(ctx, key, key+"\x00", fn)
}

// Revisions calls fn for every revision etcd holds of keys in [start,
// end), in revision order: a watch from the oldest revision held, read
// until a progress notification proves it caught up with the revision at
// its start.
func (l *Live) Revisions(ctx context.Context, start, end string, fn func(Event) error) error {
	if l.Watcher == nil {
		return errors.New("reading past revisions needs a watch client")
	}
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	from := int64(1)
	for {
		wch := l.Watcher.Watch(ctx, start, clientv3.WithRange(end), clientv3.WithRev(from))
		compacted, err := l.drain(ctx, wch, fn)
		if err != nil || compacted == 0 {
			return err
		}
		from = compacted // the oldest revision still held
		l.compacted = compacted
	}
}

// progressEvery is how often a replay asks for a progress notification:
// etcd answers only once the watch has caught up.
const progressEvery = 100 * time.Millisecond

// drain reads events until the first progress notification; it returns
// the compact revision when the watch started below it.
func (l *Live) drain(ctx context.Context, wch clientv3.WatchChan, fn func(Event) error) (int64, error) {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	if err := l.Watcher.RequestProgress(ctx); err != nil {
		return 0, err
	}
	for {
		select {
		case <-tick.C:
			if err := l.Watcher.RequestProgress(ctx); err != nil {
				return 0, err
			}
			continue
		case resp, ok := <-wch:
			if !ok {
				return 0, errors.New("watch closed")
			}
			if resp.CompactRevision > 0 {
				return resp.CompactRevision, nil
			}
			if err := resp.Err(); err != nil {
				return 0, err
			}
			for _, ev := range resp.Events {
				e := Event{Revision: ev.Kv.ModRevision, Delete: ev.Type == clientv3.EventTypeDelete, KV: kvOf(ev.Kv)}
				if err := fn(e); err != nil {
					return 0, err
				}
			}
			if resp.IsProgressNotify() {
				return 0, nil
			}
		}
	}
}

// CompactRevision is the revision etcd was last compacted at, as the last
// Revisions call found it (0: not known).
func (l *Live) CompactRevision() int64 { return l.compacted }

// Revisions calls fn for every revision the file holds of keys in
// [start, end), in revision order: puts with their value, deletes with
// the key only.
func (f *File) Revisions(ctx context.Context, start, end string, fn func(Event) error) error {
	return f.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(keyBucket).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			kv := new(mvccpb.KeyValue)
			if err := proto.Unmarshal(v, kv); err != nil {
				return fmt.Errorf("%s: revision %x: %w", f.path, k, err)
			}
			if !inRange(kv.Key, start, end) {
				continue
			}
			e := Event{Revision: int64(beUint64(k)), Delete: isTombstone(k), KV: kvOf(kv)}
			if e.Delete {
				e.KV.ModRevision = e.Revision
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// RevisionSource reads the past revisions of a range of keys.
type RevisionSource interface {
	Revisions(ctx context.Context, start, end string, fn func(Event) error) error
}

// History implements Getter.
func (f *File) History(ctx context.Context, key string, fn func(Event) error) error {
	return f.Revisions(ctx, key, key+"\x00", fn)
}

// Get implements Getter: the newest revision of key at or below rev.
func (f *File) Get(ctx context.Context, key string, rev int64) (KV, error) {
	var last *Event
	err := f.History(ctx, key, func(e Event) error {
		if rev > 0 && e.Revision > rev {
			return errStop
		}
		last = &e
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return KV{}, err
	}
	if rev <= 0 {
		rev = f.rev
	}
	if last == nil || last.Delete {
		return KV{}, fmt.Errorf("%s: %w at revision %d in %s", key, ErrNotFound, rev, f.path)
	}
	return last.KV, nil
}

var errStop = errors.New("stop")
