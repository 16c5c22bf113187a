package builtin

import (
	"net/netip"
	"testing"
)

// TestDynamicOrderUpperBandFirst: addresses a service does not ask for
// come from the upper band first, as upstream's allocator (KEP-3070).
func TestDynamicOrderUpperBandFirst(t *testing.T) {
	cidr := DefaultServiceNetwork().ClusterIPRange
	var order []netip.Addr
	for a := range candidates(cidr, map[string]bool{}) {
		order = append(order, a)
	}
	if len(order) != 253 {
		t.Fatalf("%d candidates in %s, want 253 (without the network, first and broadcast addresses)", len(order), cidr)
	}
	free := order
	offset := rangeOffset(uint64(1) << (32 - cidr.Bits()))
	base := cidr.Masked().Addr()
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
