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
	auditAuthorized(ctx, d == authz.DecisionAllow, reason)
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

// hasCredentials tells whether a request carries a bearer token: one no
// authenticator accepts is upstream's 401 (its bearer token
// authenticator fails the request), where a request with no credentials
// is anonymous.
func hasCredentials(r *http.Request) bool { return bearerToken(r) != "" }

// authenticateRequest is upstream's authentication filter with
// --anonymous-auth: the authenticated user, else (no credentials, or a
// client certificate naming no user) the anonymous user when anonymous
// requests are allowed, else 401.
func authenticateRequest(a Authenticator, anonymous bool, r *http.Request) (*authz.User, error) {
	if u, ok := loopbackUser(r); ok {
		return u, nil
	}
	if a != nil {
		if u, ok := authenticateUser(a, r); ok {
			return u, nil
		}
	}
	if !anonymous || hasCredentials(r) {
		return nil, unauthorized()
	}
	return Anonymous(), nil
}

// admit authenticates, impersonates and authorizes a request, as
// kube-apiserver's filters (authentication, impersonation,
// authorization), and returns its user, for its context. Without
// an authorizer, only the paths of anonymousAllowed are served without
// credentials, and nobody may impersonate.
func (s *Server) admit(r *http.Request, info requestInfo) (*authz.User, error) {
	if s.cfg.Authorizer == nil {
		u := Anonymous()
		if lu, ok := loopbackUser(r); ok {
			u = lu
		} else if !anonymousAllowed(r.URL.Path) {
			var ok bool
			if u, ok = authenticateUser(s.cfg.Authenticator, r); !ok {
				auditFailedAuthentication(r, info)
				return nil, unauthorized()
			}
			if err := auditStart(r, info, u); err != nil {
				return nil, err
			}
			if err := refuseImpersonation(r, u.Name); err != nil {
				return nil, err
			}
		}
		return u, nil
	}
	u, err := authenticateRequest(s.cfg.Authenticator, s.cfg.Anonymous, r)
	if err != nil {
		auditFailedAuthentication(r, info)
		return nil, err
	}
	if err := auditStart(r, info, u); err != nil {
		return nil, err
	}
	requestor := u
	if u, err = impersonate(r.Context(), s.cfg.Authorizer, &s.impersonationModes, r, info, u); err != nil {
		return nil, err
	}
	s.auditImpersonated(r, requestor, u)
	if err := authorize(r.Context(), s.cfg.Authorizer, r, info, u); err != nil {
		return nil, err
	}
	return u, nil
}
