package builtin_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// Upstream's status strategies warn about the non-canonical addresses of
// a pod's status and of load balancers' ingress points; the others warn
// about nothing.
func TestStatusWarnings(t *testing.T) {
	rows := map[string]*registry.Resource{}
	for _, r := range builtin.Resources() {
		rows[strings.TrimPrefix(r.Group+"/"+r.Resource, "/")] = r
	}
	const lb = "metadata: {name: s}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n"
	tests := []warningCase{
		{name: "pod IPs", resource: "pods", old: "metadata: {name: p}",
			obj: "metadata: {name: p}\nstatus: {podIPs: [{ip: \"2001:DB8::1\"}, {ip: 10.0.0.1}], hostIPs: [{ip: \"2001:DB8::2\"}]}",
			want: []string{`status.podIPs[0].ip: IPv6 address "2001:DB8::1" should be in RFC 5952 canonical format ("2001:db8::1")`,
				`status.hostIPs[0].ip: IPv6 address "2001:DB8::2" should be in RFC 5952 canonical format ("2001:db8::2")`}},
		{name: "service ingress", resource: "services", old: lb,
			obj:  lb + "status: {loadBalancer: {ingress: [{hostname: a.example}, {ip: \"2001:DB8::3\"}]}}",
			want: []string{`status.loadBalancer.ingress[1]: IPv6 address "2001:DB8::3" should be in RFC 5952 canonical format ("2001:db8::3")`}},
		{name: "ingress", resource: "networking.k8s.io/ingresses", old: "metadata: {name: i}",
			obj:  "metadata: {name: i}\nstatus: {loadBalancer: {ingress: [{ip: \"2001:DB8::4\"}]}}",
			want: []string{`status.loadBalancer.ingress[0]: IPv6 address "2001:DB8::4" should be in RFC 5952 canonical format ("2001:db8::4")`}},
		{name: "canonical", resource: "pods", old: "metadata: {name: p}", obj: "metadata: {name: p}\nstatus: {podIPs: [{ip: \"2001:db8::1\"}]}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rows[tc.resource]
			if r == nil || r.WarningsOnStatusUpdate == nil {
				t.Fatalf("no status warnings for %q", tc.resource)
			}
			got := r.WarningsOnStatusUpdate(decodeRow(t, r, tc.obj), decodeRow(t, r, tc.old))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
