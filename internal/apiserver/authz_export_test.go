package apiserver

import (
	"net/http"

	"github.com/regis-dev/regis/internal/authz"
)

// AuthorizeRequest is authenticateUser then authorize, for tests outside
// the package (the benchmark of a GET as an RBAC-limited user).
func AuthorizeRequest(authn Authenticator, a authz.Authorizer, r *http.Request) error {
	u, ok := authenticateUser(authn, r)
	if !ok {
		return unauthorized()
	}
	return authorize(r.Context(), a, r, classify(r), u)
}
