package authz

import (
	"context"
	"testing"
)

// BenchmarkAuthorize measures one check over the can-i world (upstream's
// bootstrap policy, 58 cluster role bindings, plus test objects): a
// member of system:masters (allowed before RBAC is asked), an
// RBAC-limited user allowed by a role binding in a namespace, the same
// user refused, and a service account allowed by a bootstrap binding.
// go test -run '^$' -bench Authorize -benchmem ./internal/authz/
func BenchmarkAuthorize(b *testing.B) {
	_, l := canIWorld(b)
	a, err := New(Config{Lister: l})
	if err != nil {
		b.Fatal(err)
	}
	get := func(u *User, ns string) *Attributes {
		return &Attributes{User: u, Verb: "get", Resource: "pods", APIVersion: "v1", Namespace: ns, Name: "p", ResourceRequest: true}
	}
	alice := &User{Name: "alice", Groups: []string{"system:authenticated"}}
	for _, c := range []struct {
		name string
		a    *Attributes
		want Decision
	}{
		{"masters", get(&User{Name: "root", Groups: []string{"system:masters", "system:authenticated"}}, "ns1"), DecisionAllow},
		{"limited-allowed", get(alice, "ns1"), DecisionAllow},
		{"limited-denied", get(alice, "ns2"), DecisionNoOpinion},
		{"serviceaccount-allowed", &Attributes{User: &User{Name: "system:serviceaccount:kube-system:namespace-controller",
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
			Verb: "delete", Resource: "pods", Namespace: "ns1", ResourceRequest: true}, DecisionAllow},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if d, _, _ := a.Authorize(ctx, c.a); d != c.want {
					b.Fatalf("%v", d)
				}
			}
		})
	}
}
