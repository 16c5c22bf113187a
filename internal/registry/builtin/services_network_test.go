package builtin

import (
	"math/big"
	"net/netip"
	"strings"
	"testing"
)

func TestParseServiceNetwork(t *testing.T) {
	n, err := ParseServiceNetwork("", "")
	if err != nil || n != DefaultServiceNetwork() || n.nodePortRangeSpec() != "30000-32767" || n.KubernetesServiceIP().String() != "10.0.0.1" {
		t.Fatalf("defaults: %+v %v", n, err)
	}
	n, err = ParseServiceNetwork("10.96.0.7/12", "20000+99")
	if err != nil || n.ClusterIPRange.String() != "10.96.0.0/12" || n.KubernetesServiceIP().String() != "10.96.0.1" || n.nodePortRangeSpec() != "20000-20099" {
		t.Fatalf("kubeadm's range: %+v %v", n, err)
	}
	for _, c := range []struct{ ips, ports, want string }{
		{"10.0.0.0/24,fd00::/108,10.1.0.0/24", "", "must not contain more than two entries"},
		{"banana", "", "service-cluster-ip-range[0] is not a valid cidr"},
		{"10.0.0.0/24,10.1.0.0/24", "", "must be of different IP family"},
		{"10.0.0.0/24,fd00::/108", "", "dual-stack services are not supported"},
		{"10.0.0.0/31", "", "holds no address for services"},
		{"", "30000-x", `invalid argument "30000-x" for "--service-node-port-range" flag: unable to parse port range: 30000-x`},
		{"", "32767-30000", "is not within 0-65535 or is reversed"},
	} {
		if _, err := ParseServiceNetwork(c.ips, c.ports); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseServiceNetwork(%q, %q) = %v, want %q", c.ips, c.ports, err, c.want)
		}
	}
}

// TestCandidatesLargeRanges: a /12 (kubeadm's default) and an IPv6 /64
// yield their first candidates at once, in the upper band, never the
// network or the kubernetes service's address.
func TestCandidatesLargeRanges(t *testing.T) {
	for _, cidr := range []string{"10.96.0.0/12", "fd00:10:96::/64", "10.0.0.0/30"} {
		p := netip.MustParsePrefix(cidr)
		n := 0
		for a := range candidates(p, map[string]bool{}) {
			if !p.Contains(a) || a == p.Addr() || a == p.Addr().Next() {
				t.Fatalf("%s: candidate %s", cidr, a)
			}
			if n++; n == 1000 {
				break
			}
		}
		if want := map[string]int{"10.0.0.0/30": 1}[cidr]; want != 0 && n != want || want == 0 && n != 1000 {
			t.Errorf("%s: %d candidates", cidr, n)
		}
	}
}

func TestNodePortsOfANetwork(t *testing.T) {
	n, err := ParseServiceNetwork("", "100-101")
	if err != nil {
		t.Fatal(err)
	}
	var got []int32
	txn := nodePortTxn{bits: new(big.Int), got: &got, net: n}
	if err := txn.reserve(99); err == nil || !strings.Contains(err.Error(), "The range of valid ports is 100-101") {
		t.Fatalf("reserve(99) = %v", err)
	}
	if err := txn.reserve(101); err != nil {
		t.Fatal(err)
	}
	if p, ok := txn.next(); !ok || p != 100 {
		t.Fatalf("next = %d %v", p, ok)
	}
	if _, ok := txn.next(); ok {
		t.Fatal("a third port from a range of two")
	}
}
