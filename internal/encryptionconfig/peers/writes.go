package peers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultFlushInterval is how often a WriteCounter adds its counts to etcd.
const DefaultFlushInterval = 10 * time.Second

// WriteCount is the number of values encrypted by one aesgcm key, as kept
// in etcd.
type WriteCount struct {
	Key         string    `json:"key"` // the key name
	Fingerprint string    `json:"fingerprint"`
	Writes      int64     `json:"writes"`
	Updated     time.Time `json:"updated"`
}

// WriteCounter counts the values each aesgcm key encrypts in this process
// (its Hook is encryptionconfig.BuildOptions.AESGCMWrites) and adds them to
// the counters in etcd that every regis process shares, with a
// compare-and-swap on each counter. Counts not yet flushed when a process
// dies are lost, so the counters are a slight undercount; they count
// nothing written by other programs (kube-apiserver) on the same etcd.
type WriteCounter struct {
	mu   sync.Mutex // guards keys
	keys map[string]*keyCount
}

type keyCount struct {
	name, fingerprint string
	pending           atomic.Int64
}

// NewWriteCounter returns an empty counter.
func NewWriteCounter() *WriteCounter {
	return &WriteCounter{keys: map[string]*keyCount{}}
}

// Hook returns the function to call after each value the key encrypts.
// Reloaded configurations holding the same key share its count.
func (c *WriteCounter) Hook(name, fingerprint string) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := fingerprint + "/" + name
	k, ok := c.keys[id]
	if !ok {
		k = &keyCount{name: name, fingerprint: fingerprint}
		c.keys[id] = k
	}
	return func() { k.pending.Add(1) }
}

// Pending returns the counts not yet flushed, by key name.
func (c *WriteCounter) Pending() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int64{}
	for _, k := range c.keys {
		out[k.name] += k.pending.Load()
	}
	return out
}

// Flush adds the pending counts to etcd. A count that fails to be added
// stays pending for the next Flush.
func (c *WriteCounter) Flush(ctx context.Context, kv clientv3.KV, l Layout) error {
	c.mu.Lock()
	keys := make([]*keyCount, 0, len(c.keys))
	for _, k := range c.keys {
		keys = append(keys, k)
	}
	c.mu.Unlock()
	for _, k := range keys {
		n := k.pending.Swap(0)
		if n == 0 {
			continue
		}
		if err := addWrites(ctx, kv, l, k.name, k.fingerprint, n); err != nil {
			k.pending.Add(n)
			return err
		}
	}
	return nil
}

// Run flushes every interval (DefaultFlushInterval when zero) until ctx is
// done, then flushes once more and returns nil. Its owner cancels ctx.
func (c *WriteCounter) Run(ctx context.Context, kv clientv3.KV, l Layout, interval time.Duration, log *slog.Logger) error {
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := c.Flush(fctx, kv, l); err != nil {
				log.Warn("could not save the last aesgcm write counts", "error", err)
			}
			return nil
		case <-t.C:
			if err := c.Flush(ctx, kv, l); err != nil && ctx.Err() == nil {
				log.Warn("could not save aesgcm write counts; retrying later", "error", err)
			}
		}
	}
}

// addWrites adds n to the counter of one key, with a compare-and-swap on
// its modification revision.
func addWrites(ctx context.Context, kv clientv3.KV, l Layout, name, fingerprint string, n int64) error {
	key := l.WriteCount(fingerprint)
	for {
		resp, err := kv.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("aesgcm write count of %q: %w", name, err)
		}
		wc := WriteCount{Key: name, Fingerprint: fingerprint}
		var rev int64
		if len(resp.Kvs) == 1 {
			rev = resp.Kvs[0].ModRevision
			if err := json.Unmarshal(resp.Kvs[0].Value, &wc); err != nil {
				return fmt.Errorf("aesgcm write count of %q: %w", name, err)
			}
		}
		wc.Writes += n
		wc.Updated = time.Now().UTC()
		data, err := json.Marshal(wc)
		if err != nil {
			return err
		}
		txn, err := kv.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, string(data))).
			Commit()
		if err != nil {
			return fmt.Errorf("aesgcm write count of %q: %w", name, err)
		}
		if txn.Succeeded {
			return nil
		}
	}
}

// ReadWriteCounts returns the counters in etcd, by key name then
// fingerprint.
func ReadWriteCounts(ctx context.Context, kv clientv3.KV, l Layout) ([]WriteCount, error) {
	resp, err := kv.Get(ctx, l.WriteCounts(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("aesgcm write counts: %w", err)
	}
	values := make([][]byte, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		values[i] = kv.Value
	}
	return DecodeWriteCounts(values)
}

// DecodeWriteCounts decodes counter values (as ReadWriteCounts reads
// them, or as an offline scan finds them), by key name then fingerprint.
func DecodeWriteCounts(values [][]byte) ([]WriteCount, error) {
	out := make([]WriteCount, 0, len(values))
	for _, v := range values {
		var wc WriteCount
		if err := json.Unmarshal(v, &wc); err != nil {
			return nil, fmt.Errorf("aesgcm write count: %w", err)
		}
		out = append(out, wc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out, nil
}
