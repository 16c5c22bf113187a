package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/etcd/etcdtest"
	"github.com/regis-dev/regis/internal/ops/migrate"
)

func TestMigrate(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	src := etcdtest.New(t).Client(t)
	dst := etcdtest.New(t).Client(t)
	lease, err := src.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	// History: 300 writes, some keys rewritten and deleted.
	for i := range 300 {
		k := fmt.Sprintf("/registry/things/k%03d", i%120)
		v := string([]byte{0, 1, 2, byte(i), 'k', '8', 's', 0xff})
		var opts []clientv3.OpOption
		if i%7 == 0 {
			opts = append(opts, clientv3.WithLease(lease.ID))
		}
		if _, err := src.Put(ctx, k, v, opts...); err != nil {
			t.Fatal(err)
		}
		if i%11 == 0 {
			if _, err := src.Delete(ctx, fmt.Sprintf("/registry/things/k%03d", (i+5)%120)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// More keys than a page (1,024), 100 per transaction: keys sharing a
	// revision.
	for b := range 11 {
		var ops []clientv3.Op
		for i := range 100 {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("/registry/many/%d-%03d", b, i), "v"))
		}
		if _, err := src.Txn(ctx).Then(ops...).Commit(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := migrate.Run(ctx, migrate.Config{Source: src, Target: dst})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.TargetRevision <= res.SourceRevision || res.CompactedAt <= res.SourceRevision {
		t.Errorf("target revision %d (compacted at %d), source %d: want above", res.TargetRevision, res.CompactedAt, res.SourceRevision)
	}
	s, _ := src.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortAscend))
	d, _ := dst.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortAscend))
	if len(s.Kvs) != len(d.Kvs) || len(s.Kvs) == 0 {
		t.Fatalf("%d keys on the source, %d on the target", len(s.Kvs), len(d.Kvs))
	}
	for i := range s.Kvs {
		if s.Kvs[i].ModRevision == s.Kvs[max(i-1, 0)].ModRevision {
			continue // keys of one source revision: one target revision, any order
		}
		if string(s.Kvs[i].Key) != string(d.Kvs[i].Key) || !slices.Equal(s.Kvs[i].Value, d.Kvs[i].Value) || s.Kvs[i].Lease != d.Kvs[i].Lease {
			t.Fatalf("key %d: source %q lease %x, target %q lease %x (order or bytes differ)", i, s.Kvs[i].Key, s.Kvs[i].Lease, d.Kvs[i].Key, d.Kvs[i].Lease)
		}
		if d.Kvs[i].ModRevision <= res.SourceRevision {
			t.Errorf("%q at target revision %d, not above the source's %d", d.Kvs[i].Key, d.Kvs[i].ModRevision, res.SourceRevision)
		}
	}
	onTarget := map[string]bool{}
	for _, kv := range d.Kvs {
		onTarget[string(kv.Key)] = true
	}
	for _, kv := range s.Kvs {
		if !onTarget[string(kv.Key)] {
			t.Errorf("%q missing on the target", kv.Key)
		}
	}
	ttl, err := dst.TimeToLive(ctx, lease.ID)
	if err != nil || ttl.TTL <= 0 || ttl.TTL > 600 {
		t.Errorf("lease on the target: %+v %v", ttl, err)
	}
	// An old resourceVersion is compacted on the target.
	w := dst.Watch(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithRev(res.SourceRevision))
	if resp := <-w; !errors.Is(resp.Err(), context.Canceled) && resp.CompactRevision == 0 {
		t.Errorf("a watch from the source's revision on the target: %+v", resp)
	}
	// A target with keys is refused.
	if _, err := migrate.Run(ctx, migrate.Config{Source: src, Target: dst}); !errors.Is(err, migrate.ErrTargetNotEmpty) {
		t.Errorf("a second migration: %v, want ErrTargetNotEmpty", err)
	}
}
