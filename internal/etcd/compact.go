package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// CompactRevKey is the raw etcd key, outside any --etcd-prefix, through
// which every kube-apiserver and regis server of one etcd cluster
// coordinates compaction (apiserver/pkg/storage/etcd3/compact.go). Its
// Version is the shared compaction clock; its value is the decimal revision
// of the last compaction.
const CompactRevKey = "compact_rev_key"

// Compact runs one round of kube-apiserver's compaction protocol:
//
//	Txn IF version(compact_rev_key) == t
//	    THEN put(compact_rev_key, decimal(rev))
//	    ELSE get(compact_rev_key)
//
// t is the caller's compaction clock (the key version it saw last, 0 at
// first) and rev the revision it recorded last round (0 at first). A
// server calls it every interval with what the previous call returned, so
// each round compacts the revision recorded one interval earlier and the
// first round only records one.
//
// If the round wins (the clock is t), the key's value becomes rev and, when
// rev != 0, etcd is compacted at rev: Compact returns newT = t+1,
// newRev = the txn's header revision and compacted = rev (0 when rev == 0).
// If it loses (another server compacted since), nothing is written and
// Compact returns newT = the key's version (0 if the key is absent),
// newRev = the header revision and compacted = the key's value: the last
// compaction made by the other server. Losing is not an error.
//
// etcd already being compacted beyond rev (rpctypes.ErrCompacted) counts as
// success. On any other error, newT and newRev are still the values to use
// for the next round, and compacted is 0; if the transaction itself failed
// they are t and rev unchanged. To compact at a chosen revision now, see
// CompactAt.
func Compact(ctx context.Context, kv clientv3.KV, t, rev int64) (newT, newRev, compacted int64, err error) {
	r, err := compactRound(ctx, kv, t, rev)
	return r.t, r.rev, r.compacted, err
}

// round is the outcome of one compaction round; see Compact.
type round struct {
	t, rev    int64 // the state for the next round
	compacted int64 // the compaction made or learnt by this round, 0 if none
	won       bool  // this round wrote compact_rev_key
}

func compactRound(ctx context.Context, kv clientv3.KV, t, rev int64) (round, error) {
	resp, err := kv.Txn(ctx).If(
		clientv3.Compare(clientv3.Version(CompactRevKey), "=", t),
	).Then(
		clientv3.OpPut(CompactRevKey, strconv.FormatInt(rev, 10)), // increments the version
	).Else(
		clientv3.OpGet(CompactRevKey),
	).Commit()
	if err != nil {
		return round{t: t, rev: rev}, fmt.Errorf("compaction round on %s: %w", CompactRevKey, err)
	}
	r := round{rev: resp.Header.Revision}
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 { // the key was deleted: the clock starts again
			return r, nil
		}
		r.t = kvs[0].Version
		r.compacted, err = parseRev(kvs[0].Value)
		return r, err
	}
	r.t, r.won = t+1, true
	if rev == 0 { // the first round only records a revision
		return r, nil
	}
	if _, err := kv.Compact(ctx, rev); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return r, fmt.Errorf("compacting etcd at revision %d: %w", rev, err)
	}
	r.compacted = rev
	return r, nil
}

// CompactAt compacts etcd at rev now, through the compact_rev_key protocol,
// so that every Compactor of the cluster observes it (CompactRevision
// reaches rev soon after). It reads the current clock and runs Compact
// rounds until one of them wins, at most five times. Reads at
// revisions below rev fail with rpctypes.ErrCompacted once it returns nil;
// rev must not be in the future. It serves tests (the storage conformance
// suite's Compaction hook) and tools, not the server's own loop.
func CompactAt(ctx context.Context, kv clientv3.KV, rev int64) error {
	if rev <= 0 {
		return fmt.Errorf("compact at revision %d: must be positive", rev)
	}
	for range 5 {
		resp, err := kv.Get(ctx, CompactRevKey)
		if err != nil {
			return fmt.Errorf("reading %s: %w", CompactRevKey, err)
		}
		var t int64
		if len(resp.Kvs) > 0 {
			t = resp.Kvs[0].Version
		}
		r, err := compactRound(ctx, kv, t, rev)
		if err != nil {
			return err
		}
		if r.won {
			return nil
		}
		// Another server's round came between the read and ours.
	}
	return fmt.Errorf("compact at revision %d: lost the %s race five times", rev, CompactRevKey)
}

func parseRev(v []byte) (int64, error) {
	rev, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a revision: %w", CompactRevKey, v, err)
	}
	return rev, nil
}
