package conformance

import (
	"context"
	"errors"
	"testing"

	storagetesting "k8s.io/apiserver/pkg/storage/testing"

	"github.com/regis-dev/regis/internal/storage/etcd3"
)

// TestUpstreamConformance runs the 59 tests upstream runs against its own
// etcd store, with the same arguments, against regis's etcd3 store.
func TestUpstreamConformance(t *testing.T) {
	ctx := context.Background()
	corruptErr := &etcd3.CorruptObjectError{Err: errors.New("bits flipped")}
	simple := map[string]func(context.Context, *testing.T, *harness){
		"RunTestCreate": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestCreate(ctx, t, h.upstream(), h.keyValidation)
		},
		"RunTestCreateWithTTL": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestCreateWithTTL(ctx, t, h.upstream())
		},
		"RunTestCreateWithKeyExist": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestCreateWithKeyExist(ctx, t, h.upstream())
		},
		"RunTestGet": func(ctx context.Context, t *testing.T, h *harness) { storagetesting.RunTestGet(ctx, t, h.upstream()) },
		"RunTestUnconditionalDelete": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestUnconditionalDelete(ctx, t, h.upstream())
		},
		"RunTestConditionalDelete": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestConditionalDelete(ctx, t, h.upstream())
		},
		"RunTestDeleteWithSuggestion": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteWithSuggestion(ctx, t, h.upstream())
		},
		"RunTestDeleteWithSuggestionAndConflict": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteWithSuggestionAndConflict(ctx, t, h.upstream())
		},
		"RunTestDeleteWithConflict": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteWithConflict(ctx, t, h.upstream())
		},
		"RunTestDeleteWithSuggestionOfDeletedObject": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteWithSuggestionOfDeletedObject(ctx, t, h.upstream())
		},
		"RunTestValidateDeletionWithSuggestion": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestValidateDeletionWithSuggestion(ctx, t, h.upstream())
		},
		"RunTestValidateDeletionWithOnlySuggestionValid": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestValidateDeletionWithOnlySuggestionValid(ctx, t, h.upstream())
		},
		"RunTestPreconditionalDeleteWithSuggestion": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestPreconditionalDeleteWithSuggestion(ctx, t, h.upstream())
		},
		"RunTestPreconditionalDeleteWithOnlySuggestionPass": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestPreconditionalDeleteWithOnlySuggestionPass(ctx, t, h.upstream())
		},
		"RunTestList": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestList(ctx, t, h.upstream(), h.compaction, false, nil)
		},
		"RunTestDeleteWithConflictAndMissingExpectedTransformOrDecodeError": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteWithConflictAndMissingExpectedTransformOrDecodeError(ctx, t, h.upstream(), h.codec.setFailing)
		},
		"RunTestDeleteWithSuggestionAndMissingExpectedTransformOrDecodeError": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteWithSuggestionAndMissingExpectedTransformOrDecodeError(ctx, t, h.upstream())
		},
		"RunTestConsistentList": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestConsistentList(ctx, t, h.upstream(), h.increaseRV, false, true, false)
		},
		"RunTestGetListNonRecursive": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGetListNonRecursive(ctx, t, h.increaseRV, h.upstream())
		},
		"RunTestGetListRecursivePrefix": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGetListRecursivePrefix(ctx, t, h.upstream())
		},
		"RunTestGetListWithoutErrorAggregation": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGetListWithoutErrorAggregation(ctx, t, withTransformerOverride{h.upstream(), h}, corruptErr)
		},
		"RunTestListContinuation": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestListContinuation(ctx, t, h.upstream(), h.callsValidation)
		},
		"RunTestListPaginationRareObject": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestListPaginationRareObject(ctx, t, h.upstream(), h.callsValidation)
		},
		"RunTestListContinuationWithFilter": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestListContinuationWithFilter(ctx, t, h.upstream(), h.callsValidation)
		},
		"RunTestListInconsistentContinuation": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestListInconsistentContinuation(ctx, t, h.upstream(), h.compaction)
		},
		"RunTestListResourceVersionMatch": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestListResourceVersionMatch(ctx, t, withPrefixTransformer{h.upstream(), h})
		},
		"RunTestGuaranteedUpdate": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGuaranteedUpdate(ctx, t, withPrefixTransformer{h.upstream(), h}, h.keyValidation)
		},
		"RunTestGuaranteedUpdateWithTTL": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGuaranteedUpdateWithTTL(ctx, t, h.upstream())
		},
		"RunTestGuaranteedUpdateChecksStoredData": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGuaranteedUpdateChecksStoredData(ctx, t, withPrefixTransformer{h.upstream(), h})
		},
		"RunTestGuaranteedUpdateWithConflict": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGuaranteedUpdateWithConflict(ctx, t, h.upstream())
		},
		"RunTestGuaranteedUpdateWithSuggestionAndConflict": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestGuaranteedUpdateWithSuggestionAndConflict(ctx, t, h.upstream())
		},
		"RunTestTransformationFailure": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestTransformationFailure(ctx, t, withPrefixTransformer{h.upstream(), h})
		},
		"RunTestListPaging": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestListPaging(ctx, t, h.upstream())
		},
		"RunTestNamespaceScopedList": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestNamespaceScopedList(ctx, t, h.upstream())
		},
		"RunTestCompactRevision": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestCompactRevision(ctx, t, h.upstream(), h.increaseRV, h.compaction)
		},
		"RunTestKeySchema": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestKeySchema(ctx, t, h.upstream())
		},
		"RunTestWatch": func(ctx context.Context, t *testing.T, h *harness) { storagetesting.RunTestWatch(ctx, t, h.upstream()) },
		"RunTestWatchFromZero": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchFromZero(ctx, t, h.upstream(), h.compaction)
		},
		"RunTestDeleteTriggerWatch": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDeleteTriggerWatch(ctx, t, h.upstream())
		},
		"RunTestWatchFromNonZero": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchFromNonZero(ctx, t, h.upstream())
		},
		"RunTestDelayedWatchDelivery": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestDelayedWatchDelivery(ctx, t, h.upstream())
		},
		"RunTestWatchError": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchError(ctx, t, withPrefixTransformer{h.upstream(), h})
		},
		"RunTestWatchWithUnsafeDelete": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchWithUnsafeDelete(ctx, t, withTransformerOverride{h.upstream(), h}, corruptErr)
		},
		"RunTestWatchContextCancel": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchContextCancel(ctx, t, h.upstream())
		},
		"RunTestWatcherTimeout": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatcherTimeout(ctx, t, h.upstream())
		},
		"RunTestWatchDeleteEventObjectHaveLatestRV": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchDeleteEventObjectHaveLatestRV(ctx, t, h.upstream())
		},
		"RunTestWatchInitializationSignal": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchInitializationSignal(ctx, t, h.upstream())
		},
		"RunOptionalTestProgressNotify": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunOptionalTestProgressNotify(ctx, t, h.upstream(), h.increaseRV)
		},
		"RunTestClusterScopedWatch": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestClusterScopedWatch(ctx, t, h.upstream())
		},
		"RunTestNamespaceScopedWatch": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestNamespaceScopedWatch(ctx, t, h.upstream())
		},
		"RunTestWatchDispatchBookmarkEvents": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunTestWatchDispatchBookmarkEvents(ctx, t, h.upstream(), false)
		},
		"RunSendInitialEventsBackwardCompatibility": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunSendInitialEventsBackwardCompatibility(ctx, t, h.upstream())
		},
		"RunWatchSemanticInitialEventsExtended": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunWatchSemanticInitialEventsExtended(ctx, t, h.upstream())
		},
		"RunWatchListMatchSingle": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunWatchListMatchSingle(ctx, t, h.upstream())
		},
		"RunWatchErrorIsBlockingFurtherEvents": func(ctx context.Context, t *testing.T, h *harness) {
			storagetesting.RunWatchErrorIsBlockingFurtherEvents(ctx, t, withPrefixTransformer{h.upstream(), h})
		},
	}
	for _, name := range sortedKeys(simple) {
		t.Run(name, func(t *testing.T) { simple[name](ctx, t, newHarness(t)) })
	}
	// It watches from RV=1, which only an etcd never compacted still has.
	t.Run("RunWatchSemantics", func(t *testing.T) {
		storagetesting.RunWatchSemantics(ctx, t, newHarness(t, freshEtcd).upstream())
	})

	// The tests that need a differently built store.
	t.Run("RunTestDeleteExpectedTransformOrDecodeError", func(t *testing.T) {
		t.Run("transform", func(t *testing.T) {
			h := newHarness(t)
			failing := &failingReads{inner: h.transformer.get()}
			defer h.transformer.swap(failing)()
			storagetesting.RunTestDeleteExpectedTransformOrDecodeError(ctx, t, h.upstream(), failing.failing.Store)
		})
		t.Run("decode", func(t *testing.T) {
			h := newHarness(t)
			storagetesting.RunTestDeleteExpectedTransformOrDecodeError(ctx, t, h.upstream(), h.codec.setFailing)
		})
	})
	t.Run("RunTestGetListWithErrorAggregation", func(t *testing.T) {
		h := newHarness(t, aggregateCorruptErrors)
		storagetesting.RunTestGetListWithErrorAggregation(ctx, t, withTransformerOverride{h.upstream(), h}, corruptErr)
	})
	t.Run("RunTestStats", func(t *testing.T) {
		for _, sizeEnabled := range []bool{true, false} {
			t.Run(map[bool]string{true: "size", false: "count"}[sizeEnabled], func(t *testing.T) {
				h := newHarness(t)
				if sizeEnabled {
					if err := h.store.EnableResourceSizeEstimation(h.store.Keys); err != nil {
						t.Fatal(err)
					}
				}
				storagetesting.RunTestStats(ctx, t, h.upstream(), h.codec, h.prefixT, sizeEnabled)
			})
		}
	})
}
