package bootstrap

import (
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func findClusterRole(p *Policy, name string) *rbacv1.ClusterRole {
	for _, r := range p.ClusterRoles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

func TestReconcileClusterRole(t *testing.T) {
	want := findClusterRole(Default(), "system:discovery")
	if r := ReconcileClusterRole(nil, want); r.Operation != OpCreate || !reflect.DeepEqual(r.Rules, want.Rules) {
		t.Errorf("missing: %+v", r)
	}
	if r := ReconcileClusterRole(want.DeepCopy(), want); r.Operation != OpNone || r.Protected {
		t.Errorf("same: %+v", r)
	}

	// A stored role that lost /version and /healthz and gained a rule
	// and a label: the lost paths come back as atomic rules after the
	// stored rules, the user's rule and label stay.
	cur := want.DeepCopy()
	cur.Rules = []rbacv1.PolicyRule{
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*", "/livez", "/openapi", "/openapi/*", "/readyz", "/version/"}},
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/mine"}},
	}
	cur.Labels = map[string]string{"team": "a"}
	r := ReconcileClusterRole(cur, want)
	wantRules := append(append([]rbacv1.PolicyRule(nil), cur.Rules...),
		rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
		rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/version"}})
	if r.Operation != OpUpdate || !reflect.DeepEqual(r.Rules, wantRules) ||
		!reflect.DeepEqual(r.Labels, map[string]string{"team": "a", BootstrappingLabel: BootstrappingValue}) {
		t.Errorf("reconciled: %+v", r)
	}

	// autoupdate=false: protected, whatever is missing.
	cur.Annotations = map[string]string{AutoUpdateAnnotation: "false"}
	if r := ReconcileClusterRole(cur, want); !r.Protected || r.Annotations[AutoUpdateAnnotation] != "false" {
		t.Errorf("protected: %+v", r)
	}

	// Aggregated roles: missing selectors are appended, rules (the
	// controller's) are kept.
	admin := findClusterRole(Default(), "admin")
	stored := admin.DeepCopy()
	stored.Rules = []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}
	stored.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"x": "y"}}}}
	r = ReconcileClusterRole(stored, admin)
	if r.Operation != OpUpdate || len(r.AggregationRule.ClusterRoleSelectors) != 2 || len(r.Rules) != 1 {
		t.Errorf("aggregated: %+v", r)
	}
}

func TestReconcileBinding(t *testing.T) {
	var want *rbacv1.ClusterRoleBinding
	for _, b := range Default().ClusterRoleBindings {
		if b.Name == "system:basic-user" {
			want = b
		}
	}
	cur := want.DeepCopy()
	cur.Subjects = []rbacv1.Subject{user("alice")}
	r := ReconcileClusterRoleBinding(cur, want)
	if r.Operation != OpUpdate || !reflect.DeepEqual(r.Subjects, []rbacv1.Subject{user("alice"), group("system:authenticated")}) {
		t.Errorf("subjects: %+v", r)
	}
	cur.RoleRef.Name = "other"
	if r := ReconcileClusterRoleBinding(cur, want); r.Operation != OpRecreate || !reflect.DeepEqual(r.Subjects, want.Subjects) {
		t.Errorf("roleRef: %+v", r)
	}
	cur = want.DeepCopy()
	cur.Annotations = map[string]string{AutoUpdateAnnotation: "false"}
	cur.Subjects = nil
	if r := ReconcileClusterRoleBinding(cur, want); !r.Protected || r.Operation != OpUpdate {
		t.Errorf("protected: %+v", r)
	}
}
