package apiserver

import (
	"context"
	"net/http"
	"strings"

	"github.com/regis-dev/regis/internal/authz"
)

// authzAttributes are what a request asks, for the authorizer: the verb,
// group, resource, subresource, namespace and name that classify read,
// or the lower-case method and path of a non-resource request (as
// upstream's RequestInfoFactory and GetAuthorizerAttributes).
func authzAttributes(r *http.Request, info requestInfo, u *authz.User) *authz.Attributes {
	a := &authz.Attributes{User: u, Verb: info.verb}
	if !info.resourceRequest {
		a.Verb = strings.ToLower(r.Method)
		a.Path = r.URL.Path
		return a
	}
	a.ResourceRequest = true
	a.APIGroup, a.APIVersion = info.group, info.version
	a.Resource, a.Subresource = info.resource, info.subresource
	a.Namespace, a.Name = info.namespace, info.name
	if info.resource == "namespaces" && info.name != "" {
		// Upstream's RequestInfo reads /namespaces/NAME as the
		// namespace NAME too: "in the namespace" in messages, and
		// role bindings of that namespace apply.
		a.Namespace = info.name
	}
	return a
}

// authorize asks a whether u may make the request; it returns upstream's
// 403 Forbidden (with the authorizer's reason) when no authorizer allows
// it, and nil when a is nil (no authorization).
func authorize(ctx context.Context, a authz.Authorizer, r *http.Request, info requestInfo, u *authz.User) error {
	if a == nil {
		return nil
	}
	attrs := authzAttributes(r, info, u)
	d, reason, _ := a.Authorize(ctx, attrs)
	if d == authz.DecisionAllow {
		return nil
	}
	return authz.Forbidden(attrs, reason)
}

// authenticateUser returns the request's user with its groups: the
// authenticator's (system:authenticated added), or false when it refuses
// the request. A nil authenticator lets everyone in as the anonymous
// user.
func authenticateUser(a Authenticator, r *http.Request) (*authz.User, bool) {
	switch a := a.(type) {
	case nil:
		return Anonymous(), true
	case UserAuthenticator:
		u, ok := a.AuthenticateUser(r)
		if ok {
			u = withAuthenticatedGroup(u)
		}
		return u, ok
	default:
		name, ok := a.Authenticate(r)
		if !ok {
			return nil, false
		}
		return withAuthenticatedGroup(&authz.User{Name: name}), true
	}
}
