package apiserver

import (
	"context"
	"net/http"

	"github.com/regis-dev/regis/internal/authz"
)

// The loopback: the server's own clients (the bootstrap policy, the
// clusterrole aggregation controller) make requests in process, as
// kube-apiserver's loopback client does, as a member of system:masters.
// The user rides in the request's context, which only code of this
// process can set: no header or credential of a remote client can claim
// it.

type loopbackKey struct{}

// LoopbackHandler serves h's requests as u (authorization, admission and
// field management apply as to any request).
func LoopbackHandler(h http.Handler, u *authz.User) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loopbackKey{}, u)))
	})
}

// loopbackUser is the user of a loopback request.
func loopbackUser(r *http.Request) (*authz.User, bool) {
	u, ok := r.Context().Value(loopbackKey{}).(*authz.User)
	return u, ok && u != nil
}
