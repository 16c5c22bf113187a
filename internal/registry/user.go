package registry

import (
	"context"

	"github.com/regis-dev/regis/internal/authz"
)

// The user of a request (upstream's request.WithUser): the API layer puts
// the authenticated user in each request's context, and the store, its
// admission steps and its checks (privilege escalation on RBAC writes,
// the CSR requestor, admission's userInfo) read it there.

type userKey struct{}

// WithUser returns a context whose requests are made by u.
func WithUser(ctx context.Context, u *authz.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user of ctx's request, and false when the context
// carries none (the server's own controllers, tests of the store).
func UserFrom(ctx context.Context) (*authz.User, bool) {
	u, ok := ctx.Value(userKey{}).(*authz.User)
	return u, ok && u != nil
}
