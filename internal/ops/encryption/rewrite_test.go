package encryption_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/regis-dev/regis/internal/encryptionconfig"
	"github.com/regis-dev/regis/internal/encryptionconfig/peers"
	"github.com/regis-dev/regis/internal/ops/encryption"
	"github.com/regis-dev/regis/internal/storage/value/identify"
)

// storedKeys counts the raw values under prefix by the key that wrote them.
func storedKeys(t *testing.T, c *clientv3.Client, prefix string) map[string]int {
	t.Helper()
	resp, err := c.Get(t.Context(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, kv := range resp.Kvs {
		out[identify.Of(kv.Value).String()]++
	}
	return out
}

// TestRewriteResumes: a rewrite interrupted half-way resumes after its
// checkpoint and ends with every value on the write key, while writers
// keep updating secrets and a reader keeps reading them all.
func TestRewriteResumes(t *testing.T) {
	prefix := newPrefix()
	n := newNode(t, "a", prefix, config(false, "key1"), nodeOptions{noReload: true})
	const total = 400
	for i := range total {
		n.createSecret(t, fmt.Sprint("s", i), fmt.Sprint("pw", i))
	}
	n.reload(t, config(false, "key2", "key1"))

	// Writers and a reader run throughout.
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var writes atomic.Int64
	var bgErr error
	var errOnce sync.Once
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprint("s", (i*7+w*131)%total)
				if err := n.updateSecret(ctx, name, fmt.Sprint("new", i)); err != nil && ctx.Err() == nil {
					errOnce.Do(func() { bgErr = err })
					return
				}
				writes.Add(1)
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			got, err := n.readSecrets(ctx)
			if err == nil && len(got) != total {
				err = fmt.Errorf("read %d secrets, want %d", len(got), total)
			}
			if err != nil && ctx.Err() == nil {
				errOnce.Do(func() { bgErr = err })
				return
			}
		}
	})
	defer func() {
		stop()
		wg.Wait()
		if bgErr != nil {
			t.Errorf("background: %v", bgErr)
		}
	}()

	set := n.ts.Current()
	opts := encryption.RewriteOptions{Client: n.client, Prefix: prefix, Set: set, PageSize: 50, Concurrency: 4, Logger: quiet}
	// Interrupted after the third page.
	ictx, interrupt := context.WithCancel(t.Context())
	first := opts
	first.Progress = func(p encryption.RewriteProgress) {
		if p.Done >= 150 {
			interrupt()
		}
	}
	res, err := encryption.Rewrite(ictx, first)
	if !errors.Is(err, context.Canceled) || res.Rewritten == 0 {
		t.Fatalf("interrupted rewrite: %+v, %v", res, err)
	}
	resp, err := n.client.Get(t.Context(), peers.NewLayout(prefix).Rewrite())
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("no checkpoint: %v", err)
	}

	var last encryption.RewriteProgress
	second := opts
	second.Progress = func(p encryption.RewriteProgress) { last = p }
	res2, err := encryption.Rewrite(t.Context(), second)
	if err != nil {
		t.Fatal(err)
	}
	if res2.ResumedAfter == "" || res2.Scanned >= total || res2.Failed != 0 || last.Done < total {
		t.Fatalf("resumed rewrite: %+v, progress %+v", res2, last)
	}
	stop()
	wg.Wait()
	if got := storedKeys(t, n.client, prefix+"/secrets/"); got["aescbc:key2"] != total {
		t.Fatalf("stored: %v, want all %d on aescbc:key2 (writers made %d updates; rewrites %d+%d, conflicts %d+%d)",
			got, total, writes.Load(), res.Rewritten, res2.Rewritten, res.Conflicts, res2.Conflicts)
	}
	if resp, _ := n.client.Get(t.Context(), peers.NewLayout(prefix).Rewrite()); len(resp.Kvs) != 0 {
		t.Fatal("checkpoint left after a complete rewrite")
	}
	t.Logf("writers made %d updates; rewritten %d then %d, conflicts %d+%d", writes.Load(), res.Rewritten, res2.Rewritten, res.Conflicts, res2.Conflicts)
}

// TestRewriteKeepsLeaseAndReportsFailures: a rewritten value keeps its
// lease; a value the configuration cannot read is reported by key, and the
// rest is rewritten.
func TestRewriteKeepsLeaseAndReportsFailures(t *testing.T) {
	prefix := newPrefix()
	n := newNode(t, "a", prefix, config(false, "key1"), nodeOptions{noReload: true})
	ctx := t.Context()
	n.createSecret(t, "plain", "pw")
	lease, err := n.client.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := n.client.Get(ctx, prefix+"/secrets/ns/plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.client.Put(ctx, prefix+"/secrets/ns/leased", string(raw.Kvs[0].Value), clientv3.WithLease(lease.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := n.client.Put(ctx, prefix+"/secrets/ns/broken", "k8s:enc:aescbc:v1:gone:0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	n.reload(t, config(false, "key2", "key1"))
	res, err := encryption.Rewrite(ctx, encryption.RewriteOptions{Client: n.client, Prefix: prefix, Set: n.ts.Current(), Logger: quiet, Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rewritten != 2 || res.Failed != 1 || len(res.Failures) != 1 || res.Failures[0].Key != prefix+"/secrets/ns/broken" {
		t.Fatalf("result %+v", res)
	}
	got, err := n.client.Get(ctx, prefix+"/secrets/ns/leased")
	if err != nil || got.Kvs[0].Lease != int64(lease.ID) || !bytes.HasPrefix(got.Kvs[0].Value, []byte("k8s:enc:aescbc:v1:key2:")) {
		t.Fatalf("leased value: %+v, %v", got.Kvs, err)
	}
	// Nothing configured, nothing to rewrite.
	if _, err := encryption.Rewrite(ctx, encryption.RewriteOptions{Client: n.client, Prefix: prefix, Set: (*encryptionconfig.Set)(nil)}); err == nil {
		t.Fatal("rewrite without a configuration")
	}
}
