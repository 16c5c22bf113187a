package admission

import (
	"context"

	"github.com/regis-dev/regis/internal/registry/resolve"
)

// resolveService returns the address to dial for a webhook's service
// reference (upstream calls <service>.<namespace>.svc:<port>, which
// cluster DNS and kube-proxy resolve; see package resolve).
func (c *Chain) resolveService(ctx context.Context, namespace, name string, port int32) (string, error) {
	return resolve.Service(ctx, c.reg, namespace, name, port)
}
