package builtin

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParseServiceNetwork parses kube-apiserver's --service-cluster-ip-range
// and --service-node-port-range, with upstream's messages; empty values
// are the defaults (10.0.0.0/24, 30000-32767). A second (dual-stack)
// range is refused: regis allocates cluster IPs from one range.
func ParseServiceNetwork(ipRanges, portRange string) (ServiceNetwork, error) {
	n := DefaultServiceNetwork()
	var errs []error
	if ipRanges != "" {
		list := strings.Split(ipRanges, ",")
		if len(list) > 2 {
			errs = append(errs, errors.New("--service-cluster-ip-range must not contain more than two entries"))
		}
		p, err := netip.ParsePrefix(strings.TrimSpace(list[0]))
		switch {
		case err != nil:
			errs = append(errs, errors.New("service-cluster-ip-range[0] is not a valid cidr"))
		case p.Addr().Zone() != "" || p.Addr().Is4In6():
			errs = append(errs, errors.New("service-cluster-ip-range[0] is not a valid cidr"))
		default:
			n.ClusterIPRange = p.Masked()
			if host := p.Addr().BitLen() - p.Bits(); host < 2 {
				errs = append(errs, fmt.Errorf("--service-cluster-ip-range %s holds no address for services (the first one is the kubernetes service's)", p))
			}
		}
		if len(list) == 2 {
			q, err := netip.ParsePrefix(strings.TrimSpace(list[1]))
			switch {
			case err != nil:
				errs = append(errs, errors.New("service-cluster-ip-range[1] is not an ip net"))
			case q.Addr().Is4() == n.ClusterIPRange.Addr().Is4():
				errs = append(errs, errors.New("--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family"))
			default:
				errs = append(errs, errors.New("--service-cluster-ip-range: regis allocates cluster IPs from one range; dual-stack services are not supported"))
			}
		}
	}
	if portRange != "" {
		base, size, err := parsePortRange(portRange)
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid argument %q for \"--service-node-port-range\" flag: %w", portRange, err))
		} else {
			n.NodePortBase, n.NodePortSize = base, size
		}
	}
	return n, errors.Join(errs...)
}

// parsePortRange is upstream's PortRange.Set: "30000-32767", "30000+2767"
// (a base and an offset) or a single port.
func parsePortRange(value string) (base, size int, err error) {
	fail := func(err error) (int, int, error) {
		return 0, 0, fmt.Errorf("unable to parse port range: %s: %v", value, err)
	}
	value = strings.TrimSpace(value)
	var low, high int
	switch {
	case strings.Contains(value, "-"):
		lo, hi, _ := strings.Cut(value, "-")
		if low, err = strconv.Atoi(lo); err != nil {
			return fail(err)
		}
		if high, err = strconv.Atoi(hi); err != nil {
			return fail(err)
		}
	case strings.Contains(value, "+"):
		lo, off, _ := strings.Cut(value, "+")
		if low, err = strconv.Atoi(lo); err != nil {
			return fail(err)
		}
		o, err := strconv.Atoi(off)
		if err != nil {
			return fail(err)
		}
		high = low + o
	default:
		if low, err = strconv.Atoi(value); err != nil {
			return fail(err)
		}
		high = low
	}
	if low < 0 || high > 65535 || low > high {
		return fail(fmt.Errorf("range %d-%d is not within 0-65535 or is reversed", low, high))
	}
	return low, high - low + 1, nil
}
