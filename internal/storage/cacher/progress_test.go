package cacher_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// silentStore never asks etcd for progress: etcd "does not answer".
type silentStore struct{ storage.Interface }

func (silentStore) RequestWatchProgress(context.Context) error { return nil }

// TestConsistentListWithoutProgress: without progress notifications, a
// consistent list is served by the cache when it is at etcd's current
// revision, and by etcd at once when etcd has moved on.
func TestConsistentListWithoutProgress(t *testing.T) {
	counter := &countingStore{}
	f := newFixture(t, withStore(func(s storage.Interface) storage.Interface { return counter.wrap(silentStore{s}) }),
		withConfig(func(c *cacher.Config) { cacher.SetFreshTimeout(c, 3*time.Second) }))
	cacher.GiveUpProgress(f.cacher)
	f.create(t, newPod("ns", "p1", "node-1"))
	ctx := context.Background()
	list := func() time.Duration {
		t.Helper()
		start := time.Now()
		out := &corev1.PodList{}
		if err := f.cacher.GetList(ctx, "/pods", storage.ListOptions{Recursive: true, Predicate: storage.Everything}, out); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	// The cache sees its own create: at etcd's revision.
	deadline := time.Now().Add(5 * time.Second)
	for {
		before := counter.lists.Load()
		list()
		if counter.lists.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a consistent list at etcd's revision still went to etcd")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A write elsewhere moves etcd's revision past the cache's.
	if _, err := f.client.Put(ctx, "/elsewhere/key", "x"); err != nil {
		t.Fatal(err)
	}
	before := counter.lists.Load()
	if took := list(); took > time.Second || counter.lists.Load() != before+1 {
		t.Errorf("behind etcd without progress: %v, %d lists from etcd; want one at once", took, counter.lists.Load()-before)
	}
}
