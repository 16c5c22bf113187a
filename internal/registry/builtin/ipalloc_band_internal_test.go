package builtin

import (
	"net/netip"
	"testing"
)

// TestDynamicOrderUpperBandFirst: addresses a service does not ask for
// come from the upper band first, as upstream's allocator (KEP-3070).
func TestDynamicOrderUpperBandFirst(t *testing.T) {
	var free []netip.Addr
	for a := ServiceClusterIPRange.Masked().Addr().Next().Next(); ServiceClusterIPRange.Contains(a.Next()); a = a.Next() {
		free = append(free, a)
	}
	order := dynamicOrder(free)
	offset := rangeOffset(uint64(1) << (32 - ServiceClusterIPRange.Bits()))
	base := ServiceClusterIPRange.Masked().Addr()
	upper := len(free) - (offset - 2)
	for i, a := range order {
		if lower := addrIndex(base, a) < uint64(offset); lower != (i >= upper) {
			t.Fatalf("address %d (%s) is in the lower band: %v, want %v", i, a, lower, i >= upper)
		}
	}
	if rangeOffset(256) != 16 || rangeOffset(1<<20) != 256 || rangeOffset(8) != 0 || rangeOffset(1<<12) != 256 {
		t.Errorf("rangeOffset: %d %d %d %d", rangeOffset(256), rangeOffset(1<<20), rangeOffset(8), rangeOffset(1<<12))
	}
}
