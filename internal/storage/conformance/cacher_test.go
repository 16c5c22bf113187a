package conformance

import (
	"context"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/example"
	storagetesting "k8s.io/apiserver/pkg/storage/testing"

	"github.com/regis-dev/regis/internal/storage"
	"github.com/regis-dev/regis/internal/storage/cacher"
)

// TestUpstreamConformanceCacher runs the 48 tests upstream runs against its
// own cacher (k8s.io/apiserver/pkg/storage/cacher/cacher_test.go), with the
// arguments it uses there (watch cache enabled, bookmarks expected,
// consistent reads supported, snapshots on), against regis's cacher over a
// regis etcd3 store.
func TestUpstreamConformanceCacher(t *testing.T) {
	ctx := context.Background()
	tests := map[string]func(context.Context, *testing.T, *cacherHarness){
		"RunTestCreate": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestCreate(ctx, t, h.upstream(), h.keyValidation)
		},
		"RunTestCreateWithTTL": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestCreateWithTTL(ctx, t, h.upstream())
		},
		"RunTestCreateWithKeyExist": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestCreateWithKeyExist(ctx, t, h.upstream())
		},
		"RunTestGet": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestGet(ctx, t, h.upstream())
		},
		"RunTestUnconditionalDelete": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestUnconditionalDelete(ctx, t, h.upstream())
		},
		"RunTestConditionalDelete": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestConditionalDelete(ctx, t, h.upstream())
		},
		"RunTestDeleteWithSuggestion": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDeleteWithSuggestion(ctx, t, h.upstream())
		},
		"RunTestDeleteWithSuggestionAndConflict": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDeleteWithSuggestionAndConflict(ctx, t, h.upstream())
		},
		"RunTestDeleteWithSuggestionOfDeletedObject": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDeleteWithSuggestionOfDeletedObject(ctx, t, h.upstream())
		},
		"RunTestValidateDeletionWithSuggestion": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestValidateDeletionWithSuggestion(ctx, t, h.upstream())
		},
		"RunTestValidateDeletionWithOnlySuggestionValid": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestValidateDeletionWithOnlySuggestionValid(ctx, t, h.upstream())
		},
		"RunTestDeleteWithConflict": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDeleteWithConflict(ctx, t, h.upstream())
		},
		"RunTestDeleteWithConflictAndMissingExpectedTransformOrDecodeError": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			failing := &failingReads{inner: h.transformer.get()}
			defer h.transformer.swap(failing)()
			storagetesting.RunTestDeleteWithConflictAndMissingExpectedTransformOrDecodeError(ctx, t, h.upstream(), failing.failing.Store)
		},
		"RunTestDeleteWithSuggestionAndMissingExpectedTransformOrDecodeError": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDeleteWithSuggestionAndMissingExpectedTransformOrDecodeError(ctx, t, h.upstream())
		},
		"RunTestPreconditionalDeleteWithSuggestion": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestPreconditionalDeleteWithSuggestion(ctx, t, h.upstream())
		},
		"RunTestPreconditionalDeleteWithOnlySuggestionPass": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestPreconditionalDeleteWithOnlySuggestionPass(ctx, t, h.upstream())
		},
		"RunTestListPaging": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestListPaging(ctx, t, h.upstream())
		},
		"RunTestList": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestList(ctx, t, h.upstream(), h.compaction, true, h.recorder)
		},
		"RunTestConsistentList": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestConsistentList(ctx, t, h.upstream(), h.increaseRV, true, true, true)
		},
		"RunTestGetListNonRecursive": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestGetListNonRecursive(ctx, t, h.increaseRV, h.upstream())
		},
		"RunTestCompactRevision": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestCompactRevision(ctx, t, h.upstream(), h.increaseRV, h.compaction)
		},
		"RunTestGetListRecursivePrefix": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestGetListRecursivePrefix(ctx, t, h.upstream())
		},
		// The cacher passes pagination to the store or serves it from
		// memory: upstream checks no call counts (checkStorageCalls is a no-op).
		"RunTestListContinuation": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestListContinuation(ctx, t, h.upstream(), noCallsValidation)
		},
		"RunTestListPaginationRareObject": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestListPaginationRareObject(ctx, t, h.upstream(), noCallsValidation)
		},
		"RunTestListContinuationWithFilter": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestListContinuationWithFilter(ctx, t, h.upstream(), noCallsValidation)
		},
		"RunTestNamespaceScopedList": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestNamespaceScopedList(ctx, t, h.upstream())
		},
		"RunTestGuaranteedUpdateWithTTL": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestGuaranteedUpdateWithTTL(ctx, t, h.upstream())
		},
		"RunTestGuaranteedUpdateWithConflict": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestGuaranteedUpdateWithConflict(ctx, t, h.upstream())
		},
		"RunTestGuaranteedUpdateWithSuggestionAndConflict": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestGuaranteedUpdateWithSuggestionAndConflict(ctx, t, h.upstream())
		},
		"RunTestKeySchema": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestKeySchema(ctx, t, h.upstream())
		},
		"RunTestWatch": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatch(ctx, t, h.upstream())
		},
		"RunTestWatchFromZero": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatchFromZero(ctx, t, h.upstream(), h.compaction)
		},
		"RunTestDeleteTriggerWatch": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDeleteTriggerWatch(ctx, t, h.upstream())
		},
		"RunTestWatchFromNonZero": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatchFromNonZero(ctx, t, h.upstream())
		},
		"RunTestDelayedWatchDelivery": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestDelayedWatchDelivery(ctx, t, h.upstream())
		},
		"RunTestWatcherTimeout": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatcherTimeout(ctx, t, h.upstream())
		},
		"RunTestWatchDeleteEventObjectHaveLatestRV": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatchDeleteEventObjectHaveLatestRV(ctx, t, h.upstream())
		},
		"RunTestWatchInitializationSignal": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatchInitializationSignal(ctx, t, h.upstream())
		},
		"RunTestNamespaceScopedWatch": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestNamespaceScopedWatch(ctx, t, h.upstream())
		},
		"RunTestWatchDispatchBookmarkEvents": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestWatchDispatchBookmarkEvents(ctx, t, h.upstream(), true)
		},
		"RunTestOptionalWatchBookmarksWithCorrectResourceVersion": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunTestOptionalWatchBookmarksWithCorrectResourceVersion(ctx, t, h.upstream())
		},
		"RunSendInitialEventsBackwardCompatibility": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunSendInitialEventsBackwardCompatibility(ctx, t, h.upstream())
		},
		"RunWatchSemanticInitialEventsExtended": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunWatchSemanticInitialEventsExtended(ctx, t, createWaitsForCache{h.upstream(), h.cacher})
		},
		"RunWatchListMatchSingle": func(ctx context.Context, t *testing.T, h *cacherHarness) {
			storagetesting.RunWatchListMatchSingle(ctx, t, createWaitsForCache{h.upstream(), h.cacher})
		},
	}
	for _, name := range sortedKeys(tests) {
		t.Run(name, func(t *testing.T) { tests[name](ctx, t, newCacherHarness(t)) })
	}

	// The tests that need a differently built cacher or store.
	t.Run("RunTestDeleteExpectedTransformOrDecodeError", func(t *testing.T) {
		t.Run("transform", func(t *testing.T) {
			h := newCacherHarness(t)
			failing := &failingReads{inner: h.transformer.get()}
			defer h.transformer.swap(failing)()
			storagetesting.RunTestDeleteExpectedTransformOrDecodeError(ctx, t, h.upstream(), failing.failing.Store)
		})
		t.Run("decode", func(t *testing.T) {
			h := newCacherHarness(t)
			storagetesting.RunTestDeleteExpectedTransformOrDecodeError(ctx, t, h.upstream(), h.codec.setFailing)
		})
	})
	t.Run("RunTestClusterScopedWatch", func(t *testing.T) {
		storagetesting.RunTestClusterScopedWatch(ctx, t, newCacherHarness(t, clusterScoped).upstream())
	})
	t.Run("RunWatchSemantics", func(t *testing.T) {
		// Its watches from RV 1 need a cache that listed at RV 1, as
		// upstream's (a fresh etcd per test) does.
		h := newCacherHarness(t, onFreshEtcd)
		storagetesting.RunWatchSemantics(ctx, t, createWaitsForCache{h.upstream(), h.cacher})
	})
	t.Run("RunTestStats", func(t *testing.T) {
		for _, sizeEnabled := range []bool{true, false} {
			t.Run(map[bool]string{true: "size", false: "count"}[sizeEnabled], func(t *testing.T) {
				var opts []cacherOption
				if sizeEnabled {
					opts = append(opts, estimateSizes)
				}
				h := newCacherHarness(t, opts...)
				storagetesting.RunTestStats(ctx, t, h.upstream(), h.codec, h.prefixT, sizeEnabled)
			})
		}
	})
}

func noCallsValidation(*testing.T, uint64, uint64) {}

// createWaitsForCache is upstream's createWrapper: Create returns once the
// cache has the new object, so that watch tests that follow are
// deterministic.
type createWaitsForCache struct {
	upstream
	c *cacher.Cacher
}

func (w createWaitsForCache) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	if err := w.upstream.Create(ctx, key, obj, out, ttl); err != nil {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, wait.ForeverTestTimeout, true, func(ctx context.Context) (bool, error) {
		cur := &example.Pod{}
		err := w.c.Get(ctx, key, storage.GetOptions{ResourceVersion: "0"}, cur)
		if storage.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return apiequality.Semantic.DeepEqual(cur, out), nil
	})
}
