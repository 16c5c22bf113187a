package etcd3

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"

	"github.com/regis-dev/regis/internal/storage"
)

// Stats implements storage.Interface: a count-only range, or with size
// estimation enabled, the keys' count and the average stored size seen by
// lists and watches.
func (s *Store) Stats(ctx context.Context) (storage.Stats, error) {
	if e := s.sizeEstimator(); e != nil {
		return e.Stats(ctx)
	}
	prefix, err := s.prepareKey(s.resourcePrefix, true)
	if err != nil {
		return storage.Stats{}, err
	}
	start := time.Now()
	count, err := s.kv.Count(ctx, prefix, kubernetes.CountOptions{})
	s.metrics.recordRequest("listWithCount", s.groupResource, err, start)
	if err != nil {
		return storage.Stats{}, err
	}
	return storage.Stats{ObjectCount: count}, nil
}

// EnableResourceSizeEstimation implements storage.Interface.
func (s *Store) EnableResourceSizeEstimation(keys storage.KeysFunc) error {
	if keys == nil {
		return errors.New("KeysFunc cannot be nil")
	}
	s.estimatorMu.Lock()
	defer s.estimatorMu.Unlock()
	if s.estimator != nil {
		return errors.New("resourceSizeEstimator already enabled")
	}
	s.estimator = &sizeEstimator{pathPrefix: s.pathPrefix, keys: keys, sizes: map[string]int64{}}
	return nil
}

// Keys lists the etcd keys of the stored objects (a keys-only range).
func (s *Store) Keys(ctx context.Context) ([]string, error) {
	prefix, err := s.prepareKey(s.resourcePrefix, true)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := s.client.KV.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	s.metrics.recordRequest("listOnlyKeys", s.groupResource, err, start)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	return keys, nil
}

func (s *Store) sizeEstimator() *sizeEstimator {
	s.estimatorMu.RLock()
	defer s.estimatorMu.RUnlock()
	return s.estimator
}

func (s *Store) observeSizes(kvs []*mvccpb.KeyValue) {
	if e := s.sizeEstimator(); e != nil {
		e.update(kvs)
	}
}

// sizeEstimator remembers the last stored size of each key it saw.
type sizeEstimator struct {
	pathPrefix string
	keys       storage.KeysFunc

	mu    sync.Mutex
	sizes map[string]int64
}

func (e *sizeEstimator) update(kvs []*mvccpb.KeyValue) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, kv := range kvs {
		e.sizes[string(kv.Key)] = int64(len(kv.Value))
	}
}

func (e *sizeEstimator) remove(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.sizes, key)
}

// Stats counts the current keys and averages the sizes known for them,
// forgetting keys that are gone.
func (e *sizeEstimator) Stats(ctx context.Context) (storage.Stats, error) {
	keys, err := e.keys(ctx)
	if err != nil {
		return storage.Stats{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	live := make(map[string]int64, len(keys))
	var total int64
	for _, k := range keys {
		if !strings.HasPrefix(k, e.pathPrefix) {
			k = e.pathPrefix + strings.TrimPrefix(k, "/")
		}
		if size, ok := e.sizes[k]; ok {
			live[k] = size
			total += size
		}
	}
	e.sizes = live
	st := storage.Stats{ObjectCount: int64(len(keys))}
	if len(live) > 0 {
		st.EstimatedAverageObjectSizeBytes = total / int64(len(live))
	}
	return st, nil
}
