package authz

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// canITable is testdata/can-i.json, computed by upstream's authorizers
// (the system:masters bypass, then k8s.io/kubernetes's RBAC authorizer
// over client-go listers) in the oracle module:
// cd oracle && go test -tags oracle ./authz/ -run TestCanITable -update.
type canITable struct {
	ClusterRoles        []*rbacv1.ClusterRole          `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding   `json:"clusterRoleBindings"`
	Roles               []*rbacv1.Role                 `json:"roles"`
	RoleBindings        []*rbacv1.RoleBinding          `json:"roleBindings"`
	Aggregated          map[string][]rbacv1.PolicyRule `json:"aggregated"`
	Users               []struct {
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
	} `json:"users"`
	Resources []struct {
		Group       string   `json:"group"`
		Resource    string   `json:"resource"`
		Subresource string   `json:"subresource"`
		Names       []string `json:"names"`
	} `json:"resources"`
	Verbs      []string `json:"verbs"`
	Namespaces []string `json:"namespaces"`
	Paths      []string `json:"paths"`
	PathVerbs  []string `json:"pathVerbs"`
	Decisions  string   `json:"decisions"`
	Reasons    []string `json:"reasons"`
	ReasonOf   string   `json:"reasonOf"`
	Rules      []struct {
		User        int      `json:"user"`
		Namespace   string   `json:"namespace"`
		Resource    []string `json:"resource"`
		NonResource []string `json:"nonResource"`
		Error       string   `json:"error"`
	} `json:"rules"`
}

// bootstrapGolden are the objects kube-apiserver creates at start.
type bootstrapGolden struct {
	ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Roles               []*rbacv1.Role               `json:"roles"`
	RoleBindings        []*rbacv1.RoleBinding        `json:"roleBindings"`
}

func loadJSON(t testing.TB, path string, into any) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}

// canIWorld returns the table and a lister of its objects.
func canIWorld(t testing.TB) (*canITable, *MemoryLister) {
	var tab canITable
	var boot bootstrapGolden
	loadJSON(t, "testdata/can-i.json", &tab)
	loadJSON(t, "bootstrap/testdata/kube-apiserver-bootstrap.json", &boot)
	l := NewMemoryLister()
	for _, o := range append(boot.ClusterRoles, tab.ClusterRoles...) {
		if rules, ok := tab.Aggregated[o.Name]; ok {
			o.Rules = rules
		}
		l.Set(o)
	}
	for _, o := range append(boot.ClusterRoleBindings, tab.ClusterRoleBindings...) {
		l.Set(o)
	}
	for _, o := range append(boot.Roles, tab.Roles...) {
		l.Set(o)
	}
	for _, o := range append(boot.RoleBindings, tab.RoleBindings...) {
		l.Set(o)
	}
	return &tab, l
}

// TestCanIEqualsUpstream checks every decision and reason of the table,
// and the rules of every user in three namespaces.
func TestCanIEqualsUpstream(t *testing.T) {
	tab, l := canIWorld(t)
	a, err := New(Config{Lister: l})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, bad := 0, 0
	check := func(at *Attributes) {
		d, reason, _ := a.Authorize(ctx, at)
		ri, _ := strconv.ParseInt(tab.ReasonOf[q:q+1], 36, 64)
		wantD, wantR := Decision(tab.Decisions[q]-'0'), tab.Reasons[ri]
		if d != wantD || reason != wantR {
			bad++
			if bad <= 20 {
				t.Errorf("%s %+v: got %v %q, upstream %v %q", at.User.Name, *at, d, reason, wantD, wantR)
			}
		}
		q++
	}
	for _, u := range tab.Users {
		user := &User{Name: u.Name, Groups: u.Groups}
		for _, r := range tab.Resources {
			for _, v := range tab.Verbs {
				for _, ns := range tab.Namespaces {
					for _, name := range append([]string{""}, r.Names...) {
						check(&Attributes{User: user, Verb: v, APIGroup: r.Group, APIVersion: "v1", Resource: r.Resource,
							Subresource: r.Subresource, Namespace: ns, Name: name, ResourceRequest: true})
					}
				}
			}
		}
		for _, p := range tab.Paths {
			for _, v := range tab.PathVerbs {
				check(&Attributes{User: user, Verb: v, Path: p})
			}
		}
	}
	if q != len(tab.Decisions) {
		t.Fatalf("%d queries, table has %d", q, len(tab.Decisions))
	}
	if bad > 0 {
		t.Errorf("%d of %d answers differ from upstream's", bad, q)
	}
	rbac := NewRBAC(l)
	for _, want := range tab.Rules {
		u := tab.Users[want.User]
		rules, err := rbac.RulesFor(ctx, &User{Name: u.Name, Groups: u.Groups}, want.Namespace)
		got := RulesReviewStatus(ctx, rbac, &User{Name: u.Name, Groups: u.Groups}, want.Namespace)
		if len(rules.Resource) != len(want.Resource) || len(rules.NonResource) != len(want.NonResource) {
			t.Errorf("%s in %s: %d/%d rules, upstream %d/%d", u.Name, want.Namespace,
				len(rules.Resource), len(rules.NonResource), len(want.Resource), len(want.NonResource))
			continue
		}
		for i, r := range rules.Resource {
			if r.String() != want.Resource[i] {
				t.Errorf("%s in %s: rule %d %s, upstream %s", u.Name, want.Namespace, i, r.String(), want.Resource[i])
			}
		}
		for i, r := range rules.NonResource {
			if r.String() != want.NonResource[i] {
				t.Errorf("%s in %s: rule %d %s, upstream %s", u.Name, want.Namespace, i, r.String(), want.NonResource[i])
			}
		}
		if e := errString(err); e != want.Error || got.EvaluationError != want.Error {
			t.Errorf("%s in %s: error %q, upstream %q", u.Name, want.Namespace, e, want.Error)
		}
	}
	t.Logf("%d answers and %d rule lists equal to upstream's", q, len(tab.Rules))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestAggregationEqualsTable checks AggregatedRules against the table's
// aggregated admin, edit and view.
func TestAggregationEqualsTable(t *testing.T) {
	tab, l := canIWorld(t)
	all := l.ListClusterRoles()
	for name, want := range tab.Aggregated {
		r, _ := l.GetClusterRole(context.Background(), name)
		got, ok, err := AggregatedRules(r, all)
		if !ok || err != nil || len(got) != len(want) {
			t.Errorf("%s: %d rules (%v %v), want %d", name, len(got), ok, err, len(want))
			continue
		}
		for i := range got {
			if got[i].String() != want[i].String() {
				t.Errorf("%s rule %d: %s, want %s", name, i, got[i].String(), want[i].String())
			}
		}
	}
}
