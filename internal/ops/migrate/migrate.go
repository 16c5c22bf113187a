// Package migrate copies the whole content of one etcd (an embedded
// store) onto another (an external cluster): every key with its value byte
// for byte (encrypted values stay encrypted: they are copied, not
// decoded), every lease with its ID and remaining TTL and the keys bound to
// it, the keys written in the order of their source revisions, and the
// target's revision raised above the source's first, so that every
// resourceVersion a client holds is older than anything on the target.
// The target is then compacted at that revision: a watch from an old
// resourceVersion gets 410 Gone and its informer relists cleanly.
package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// bumpKey is the key the revision is raised with (deleted after).
const bumpKey = "/regis-migrate-revision-bump"

// Config configures a migration.
type Config struct {
	// Source and Target are clients of the two etcds.
	Source, Target *clientv3.Client
	// Force writes onto a target that has keys (they are overwritten when
	// the source has them, kept otherwise).
	Force bool
	// Progress, when set, is told how far each phase is.
	Progress func(phase string, done, total int64)
	// Workers write the revision bump concurrently (16 when 0).
	Workers int
}

// Result is what a migration did.
type Result struct {
	// SourceRevision is the source's revision that was copied.
	SourceRevision int64 `json:"sourceRevision"`
	// Keys and Bytes are the keys copied and their values' size.
	Keys  int64 `json:"keys"`
	Bytes int64 `json:"bytes"`
	// Leases are the leases recreated.
	Leases int `json:"leases"`
	// CompactedAt is the target revision compacted after the bump, below
	// every copied key; TargetRevision the target's revision at the end.
	CompactedAt    int64 `json:"compactedAt"`
	TargetRevision int64 `json:"targetRevision"`
}

// ErrTargetNotEmpty is returned for a target with keys without Force.
var ErrTargetNotEmpty = errors.New("the target etcd has keys")

// Run migrates Source onto Target.
func Run(ctx context.Context, c Config) (*Result, error) {
	progress := c.Progress
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	tgt, err := c.Target.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if tgt.Count > 0 && !c.Force {
		return nil, fmt.Errorf("%w (%d): refusing to migrate onto it without --force", ErrTargetNotEmpty, tgt.Count)
	}
	head, err := c.Source.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	rev := head.Header.Revision
	refs, err := keyRefs(ctx, c.Source, rev)
	if err != nil {
		return nil, err
	}
	res := &Result{SourceRevision: rev, Keys: int64(len(refs))}

	// 1. The target's revision above the source's.
	if err := bump(ctx, c, rev, progress); err != nil {
		return nil, err
	}
	del, err := c.Target.Delete(ctx, bumpKey)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	res.CompactedAt = del.Header.Revision

	// 2. The leases, same IDs and remaining TTLs.
	leases, err := copyLeases(ctx, c)
	if err != nil {
		return nil, err
	}
	res.Leases = leases

	// 3. The keys, in the order of their source revisions; the keys one
	// source revision wrote are written by one transaction. Values are
	// read at rev a batch at a time: memory holds the keys, not the data.
	for i := 0; i < len(refs); {
		j := i + 1
		for j < len(refs) && refs[j].mod == refs[i].mod && j-i < batch {
			j++
		}
		gets := make([]clientv3.Op, 0, j-i)
		for _, r := range refs[i:j] {
			gets = append(gets, clientv3.OpGet(r.key, clientv3.WithRev(rev)))
		}
		got, err := c.Source.Txn(ctx).Then(gets...).Commit()
		if err != nil {
			return nil, fmt.Errorf("source: reading %q: %w", refs[i].key, err)
		}
		ops := make([]clientv3.Op, 0, j-i)
		for _, r := range got.Responses {
			for _, kv := range r.GetResponseRange().Kvs {
				var opts []clientv3.OpOption
				if kv.Lease != 0 {
					opts = append(opts, clientv3.WithLease(clientv3.LeaseID(kv.Lease)))
				}
				ops = append(ops, clientv3.OpPut(string(kv.Key), string(kv.Value), opts...))
				res.Bytes += int64(len(kv.Value))
			}
		}
		if _, err := c.Target.Txn(ctx).Then(ops...).Commit(); err != nil {
			return nil, fmt.Errorf("target: writing %q: %w", refs[i].key, err)
		}
		i = j
		progress("copy", int64(i), int64(len(refs)))
	}

	// 4. Old resourceVersions are gone on the target.
	if _, err := c.Target.Compact(ctx, res.CompactedAt, clientv3.WithCompactPhysical()); err != nil {
		return nil, fmt.Errorf("target: compacting at %d: %w", res.CompactedAt, err)
	}
	if err := Verify(ctx, c.Source, c.Target, rev); err != nil {
		return nil, err
	}
	end, err := c.Target.Get(ctx, bumpKey, clientv3.WithCountOnly())
	if err != nil {
		return nil, err
	}
	res.TargetRevision = end.Header.Revision
	return res, nil
}

// bump writes the bump key until the target's revision passes rev.
func bump(ctx context.Context, c Config, rev int64, progress func(string, int64, int64)) error {
	first, err := c.Target.Put(ctx, bumpKey, "")
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	need := rev - first.Header.Revision
	if need <= 0 {
		return nil
	}
	workers := c.Workers
	if workers <= 0 {
		workers = 16
	}
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for done.Add(1) <= need {
				if _, err := c.Target.Put(ctx, bumpKey, ""); err != nil {
					errs <- err
					cancel()
					return
				}
				if n := done.Load(); n%1000 == 0 {
					progress("revision", n, need)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("target: raising the revision: %w", err)
	}
	progress("revision", need, need)
	return nil
}

// copyLeases grants on the target every lease of the source, with its ID
// and remaining TTL.
func copyLeases(ctx context.Context, c Config) (int, error) {
	list, err := c.Source.Leases(ctx)
	if err != nil {
		return 0, fmt.Errorf("source leases: %w", err)
	}
	lc := pb.NewLeaseClient(c.Target.ActiveConnection())
	for _, l := range list.Leases {
		ttl, err := c.Source.TimeToLive(ctx, l.ID)
		if err != nil {
			return 0, fmt.Errorf("source lease %x: %w", l.ID, err)
		}
		if ttl.TTL <= 0 { // expired meanwhile: its keys are gone too
			continue
		}
		if _, err := lc.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: int64(l.ID), TTL: ttl.TTL}); err != nil {
			return 0, fmt.Errorf("target lease %x: %w", l.ID, err)
		}
	}
	return len(list.Leases), nil
}

// batch is the most keys read or written by one transaction, and the
// page of keys-only reads (times 8).
const batch = 128

// keyRef is a key of the source and its revision.
type keyRef struct {
	key string
	mod int64
}

// keyRefs lists the source's keys at rev, page by page, in the order of
// their revisions (then keys).
func keyRefs(ctx context.Context, c *clientv3.Client, rev int64) ([]keyRef, error) {
	var refs []keyRef
	err := pages(ctx, c, rev, true, func(kvs []*mvccpb.KeyValue) error {
		for _, kv := range kvs {
			refs = append(refs, keyRef{string(kv.Key), kv.ModRevision})
		}
		return nil
	})
	slices.SortStableFunc(refs, func(a, b keyRef) int { return cmp.Compare(a.mod, b.mod) })
	return refs, err
}

// pages calls fn with the keys (and values unless keysOnly) of c at rev,
// in key order, a page at a time.
func pages(ctx context.Context, c *clientv3.Client, rev int64, keysOnly bool, fn func([]*mvccpb.KeyValue) error) error {
	from := "\x00"
	for {
		opts := []clientv3.OpOption{clientv3.WithFromKey(), clientv3.WithRev(rev), clientv3.WithLimit(8 * batch)}
		if keysOnly {
			opts = append(opts, clientv3.WithKeysOnly())
		}
		resp, err := c.Get(ctx, from, opts...)
		if err != nil {
			return fmt.Errorf("reading at revision %d: %w", rev, err)
		}
		if err := fn(resp.Kvs); err != nil {
			return err
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Verify checks that every key of source at rev is on target with the same
// value and lease, a page at a time.
func Verify(ctx context.Context, source, target *clientv3.Client, rev int64) error {
	return pages(ctx, source, rev, false, func(kvs []*mvccpb.KeyValue) error {
		if len(kvs) == 0 {
			return nil
		}
		first, last := string(kvs[0].Key), string(kvs[len(kvs)-1].Key)
		tgt, err := target.Get(ctx, first, clientv3.WithRange(last+"\x00"))
		if err != nil {
			return fmt.Errorf("verify: target: %w", err)
		}
		byKey := make(map[string]*mvccpb.KeyValue, len(tgt.Kvs))
		for _, kv := range tgt.Kvs {
			byKey[string(kv.Key)] = kv
		}
		for _, kv := range kvs {
			t, ok := byKey[string(kv.Key)]
			switch {
			case !ok:
				return fmt.Errorf("verify: %q missing on the target", kv.Key)
			case !slices.Equal(t.Value, kv.Value):
				return fmt.Errorf("verify: %q differs on the target", kv.Key)
			case t.Lease != kv.Lease:
				return fmt.Errorf("verify: %q has lease %x on the target, %x on the source", kv.Key, t.Lease, kv.Lease)
			}
		}
		return nil
	})
}
