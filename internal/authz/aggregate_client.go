package authz

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"
)

// AggregationFieldManager is the field manager of aggregated rules.
const AggregationFieldManager = "clusterrole-aggregation-controller"

// ApplyRulesWriter writes aggregated rules with server-side apply through
// a client, as upstream's controller does.
type ApplyRulesWriter struct {
	Client kubernetes.Interface
}

// SetClusterRoleRules implements RulesWriter.
func (w ApplyRulesWriter) SetClusterRoleRules(ctx context.Context, name string, rules []rbacv1.PolicyRule) error {
	ac := rbacv1ac.ClusterRole(name)
	for _, r := range rules {
		p := rbacv1ac.PolicyRule()
		p.Resources, p.ResourceNames, p.APIGroups, p.NonResourceURLs, p.Verbs = r.Resources, r.ResourceNames, r.APIGroups, r.NonResourceURLs, r.Verbs
		ac.WithRules(p)
	}
	_, err := w.Client.RbacV1().ClusterRoles().Apply(ctx, ac, metav1.ApplyOptions{FieldManager: AggregationFieldManager, Force: true})
	return err
}
