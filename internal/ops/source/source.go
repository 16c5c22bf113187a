// Package source opens what the operator commands read: a live etcd
// (a clientv3.KV) or an etcd database file (the bbolt file of a stopped
// data directory, or a snapshot), behind one Source interface.
package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	"github.com/regis-dev/regis/internal/etcd"
)

// KV is one key as a scan sees it.
type KV struct {
	Key, Value     []byte
	ModRevision    int64
	CreateRevision int64
	Version        int64
	Lease          int64
}

func kvOf(kv *mvccpb.KeyValue) KV {
	return KV{Key: kv.Key, Value: kv.Value, ModRevision: kv.ModRevision, CreateRevision: kv.CreateRevision, Version: kv.Version, Lease: kv.Lease}
}

// Source is what a scan reads: a live etcd or an etcd database file.
type Source interface {
	// Scan calls fn for each live key in [start, end), in key order.
	Scan(ctx context.Context, start, end string, fn func(KV) error) error
	// Revision is the revision the scan reads at (0 until the first Scan
	// of a live source).
	Revision() int64
	// Describe names the source for reports ("etcd http://…", "file …").
	Describe() string
	// Close releases the source.
	Close() error
}

// HistorySource is a Source that also holds past values: an etcd
// database file keeps every revision not yet compacted.
type HistorySource interface {
	Source
	// ScanHistory calls fn for every value put in [start, end) that the
	// file still holds, live or not.
	ScanHistory(ctx context.Context, start, end string, fn func(key, value []byte) error) error
}

// DefaultPageSize is how many keys a live scan reads per request.
const DefaultPageSize = 500

// Live is a Source over a running etcd. The whole scan reads at the
// revision of its first page, so counts are one consistent picture, unless
// that revision is compacted during the scan, in which case it goes on at
// the newest one.
type Live struct {
	KV clientv3.KV
	// Watcher, if set, serves History.
	Watcher  clientv3.Watcher
	Name     string // endpoints, for Describe
	PageSize int    // DefaultPageSize when zero
	rev      int64

	compacted int64 // see CompactRevision
}

// Scan implements Source.
func (l *Live) Scan(ctx context.Context, start, end string, fn func(KV) error) error {
	size := l.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	for key := start; ; {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(size))}
		if l.rev != 0 {
			opts = append(opts, clientv3.WithRev(l.rev))
		}
		resp, err := l.KV.Get(ctx, key, opts...)
		if err != nil && l.rev != 0 && errors.Is(err, rpcCompacted) {
			l.rev = 0 // compacted under the scan: go on at the newest revision
			continue
		}
		if err != nil {
			return fmt.Errorf("scan %s: %w", key, err)
		}
		if l.rev == 0 {
			l.rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := fn(kvOf(kv)); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Revision implements Source.
func (l *Live) Revision() int64 { return l.rev }

// Describe implements Source.
func (l *Live) Describe() string { return "etcd " + l.Name }

// Close implements Source; the client is the caller's.
func (l *Live) Close() error { return nil }

// File is a Source over an etcd database file (bbolt): the member/snap/db
// of a stopped etcd, or a snapshot saved with `etcdctl snapshot save`.
// It is opened read-only and never changed.
type File struct {
	path string
	db   *bbolt.DB
	rev  int64
}

var keyBucket = []byte("key")

// OpenFile opens an etcd database file, or the database of a data
// directory (etcd.DBPath), read-only.
func OpenFile(path string) (*File, error) {
	b, db, err := etcd.OpenDB(path)
	if errors.Is(err, etcd.ErrDataInUse) {
		return nil, fmt.Errorf("%w; stop it, scan a snapshot, or scan live with --etcd-servers", err)
	}
	if err != nil {
		return nil, err
	}
	f := &File{path: db, db: b}
	if err := b.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(keyBucket) == nil {
			return fmt.Errorf("%s is not an etcd database (no key bucket)", db)
		}
		if k, _ := tx.Bucket(keyBucket).Cursor().Last(); len(k) >= 8 {
			f.rev = int64(beUint64(k))
		}
		return nil
	}); err != nil {
		_ = b.Close()
		return nil, err
	}
	return f, nil
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

// revision keys: 8-byte big-endian main revision, '_', 8-byte sub
// revision, and a trailing 't' on a tombstone (a delete).
const revLen = 17

func isTombstone(k []byte) bool { return len(k) == revLen+1 && k[revLen] == 't' }

func inRange(key []byte, start, end string) bool {
	return bytes.Compare(key, []byte(start)) >= 0 && (end == "" || bytes.Compare(key, []byte(end)) < 0)
}

// Scan implements Source: the newest revision of each key not deleted.
func (f *File) Scan(ctx context.Context, start, end string, fn func(KV) error) error {
	return f.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(keyBucket)
		// Pass 1: the newest revision of each key in range.
		latest := map[string][]byte{}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			kv := new(mvccpb.KeyValue)
			if err := proto.Unmarshal(v, kv); err != nil {
				return fmt.Errorf("%s: revision %x: %w", f.path, k, err)
			}
			if !inRange(kv.Key, start, end) {
				continue
			}
			if isTombstone(k) {
				delete(latest, string(kv.Key))
				continue
			}
			latest[string(kv.Key)] = append([]byte(nil), k...)
		}
		keys := make([]string, 0, len(latest))
		for k := range latest {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// Pass 2: in key order.
		for i, k := range keys {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			kv := new(mvccpb.KeyValue)
			if err := proto.Unmarshal(b.Get(latest[k]), kv); err != nil {
				return err
			}
			if err := fn(kvOf(kv)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ScanHistory implements HistorySource.
func (f *File) ScanHistory(ctx context.Context, start, end string, fn func(key, value []byte) error) error {
	return f.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(keyBucket).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if isTombstone(k) {
				continue
			}
			kv := new(mvccpb.KeyValue)
			if err := proto.Unmarshal(v, kv); err != nil {
				return err
			}
			if inRange(kv.Key, start, end) {
				if err := fn(kv.Key, kv.Value); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Revision implements Source: the newest revision in the file.
func (f *File) Revision() int64 { return f.rev }

// Describe implements Source.
func (f *File) Describe() string { return "file " + f.path }

// Close implements Source.
func (f *File) Close() error { return f.db.Close() }

var rpcCompacted = rpctypes.ErrCompacted
