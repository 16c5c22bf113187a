package builtin

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/registry"
)

// GuardRBAC makes the RBAC rows of rs refuse privilege escalation, as
// upstream's RBAC storage: a create or update of a role by a user who
// neither holds its rules nor the escalate verb, or of a binding by a
// user who neither holds the bound role's rules nor the bind verb, is
// 403. Writes with no user in their context (the server's own: the
// bootstrap policy, the aggregation controller) are not checked, as
// upstream's loopback client is a member of system:masters.
func GuardRBAC(rs []*registry.Resource, e *authz.Escalation) {
	check := func(ctx context.Context, obj, old runtime.Object) error {
		u, ok := registry.UserFrom(ctx)
		if !ok {
			return nil
		}
		return e.CheckWrite(ctx, u, obj, old)
	}
	for _, r := range rs {
		if r.Group == rbacv1.GroupName {
			r.CheckWrite = check
		}
	}
}
