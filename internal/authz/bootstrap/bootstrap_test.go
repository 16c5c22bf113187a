package bootstrap

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// golden is what a real kube-apiserver v1.37.2 created at start on an
// empty etcd (written by the oracle module:
// cd oracle && go test -tags oracle ./authz/ -run TestBootstrapDump -update).
type golden struct {
	ClusterRoles        []rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Roles               []rbacv1.Role               `json:"roles"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings"`
}

func loadGolden(t testing.TB) *golden {
	b, err := os.ReadFile("testdata/kube-apiserver-bootstrap.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func key(ns, name string) string { return ns + "/" + name }

// compare checks that want and got hold the same objects, by key, with
// equal JSON (name, namespace, labels, annotations, rules in order,
// aggregationRule, roleRef, subjects).
func compare[T any](t *testing.T, kind string, want, got map[string]T) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s %s: missing", kind, k)
			continue
		}
		wb, _ := json.Marshal(want[k])
		gb, _ := json.Marshal(g)
		if string(wb) != string(gb) {
			t.Errorf("%s %s:\n got %s\nwant %s", kind, k, gb, wb)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s: not created by kube-apiserver", kind, k)
		}
	}
}

// TestDefaultEqualsKubeAPIServer checks the policy against the objects a
// real kube-apiserver created.
func TestDefaultEqualsKubeAPIServer(t *testing.T) {
	g := loadGolden(t)
	p := Default()
	{
		w, o := map[string]rbacv1.ClusterRole{}, map[string]rbacv1.ClusterRole{}
		for _, x := range g.ClusterRoles {
			w[key("", x.Name)] = x
		}
		for _, x := range p.ClusterRoles {
			o[key("", x.Name)] = *x
		}
		compare(t, "clusterrole", w, o)
	}
	{
		w, o := map[string]rbacv1.ClusterRoleBinding{}, map[string]rbacv1.ClusterRoleBinding{}
		for _, x := range g.ClusterRoleBindings {
			w[key("", x.Name)] = x
		}
		for _, x := range p.ClusterRoleBindings {
			o[key("", x.Name)] = *x
		}
		compare(t, "clusterrolebinding", w, o)
	}
	{
		w, o := map[string]rbacv1.Role{}, map[string]rbacv1.Role{}
		for _, x := range g.Roles {
			w[key(x.Namespace, x.Name)] = x
		}
		for _, x := range p.Roles {
			o[key(x.Namespace, x.Name)] = *x
		}
		compare(t, "role", w, o)
	}
	{
		w, o := map[string]rbacv1.RoleBinding{}, map[string]rbacv1.RoleBinding{}
		for _, x := range g.RoleBindings {
			w[key(x.Namespace, x.Name)] = x
		}
		for _, x := range p.RoleBindings {
			o[key(x.Namespace, x.Name)] = *x
		}
		compare(t, "rolebinding", w, o)
	}
	if len(p.ClusterRoles) != 73 || len(p.ClusterRoleBindings) != 54 || len(p.Roles) != 7 || len(p.RoleBindings) != 7 {
		t.Errorf("counts %d %d %d %d", len(p.ClusterRoles), len(p.ClusterRoleBindings), len(p.Roles), len(p.RoleBindings))
	}
}
