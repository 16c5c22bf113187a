package apiserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/serviceaccount"
)

// authentication.k8s.io/v1: TokenReview (`kubectl` has none; webhooks
// and proxies call it) and SelfSubjectReview (`kubectl auth whoami`),
// create-only review resources; and the service account issuer's OIDC
// discovery documents.

func authenticationReviews() []reviewResource {
	gv := authenticationv1.SchemeGroupVersion
	return []reviewResource{
		{gv, createOnly("selfsubjectreviews", "SelfSubjectReview", false),
			func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }, (*Server).selfSubjectReview},
		{gv, createOnly("tokenreviews", "TokenReview", false),
			func() runtime.Object { return &authenticationv1.TokenReview{} }, (*Server).tokenReview},
	}
}

// userInfo is an authenticated user in authentication/v1's terms.
func userInfo(u *authz.User) authenticationv1.UserInfo {
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: slices.Clone(u.Groups),
		Extra: make(map[string]authenticationv1.ExtraValue, len(u.Extra))}
	for k, v := range u.Extra {
		info.Extra[k] = slices.Clone(v)
	}
	return info
}

// selfSubjectReview is upstream's SelfSubjectReview REST: the request's
// own user.
func (s *Server) selfSubjectReview(ctx context.Context, _ string, _ runtime.Object) (runtime.Object, error) {
	u, err := requestUser(ctx)
	if err != nil {
		return nil, err
	}
	return &authenticationv1.SelfSubjectReview{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(time.Now())},
		Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: userInfo(u)}}, nil
}

// errInvalidBearerToken is upstream's bearer token authenticator's
// refusal of a token no token authenticator knows.
var errInvalidBearerToken = errors.New("invalid bearer token")

// tokenReview is upstream's TokenReview REST: the token authenticated by
// the server's authenticators, as a request carrying it would be, for
// the audiences asked (the API's when none).
func (s *Server) tokenReview(ctx context.Context, _ string, obj runtime.Object) (runtime.Object, error) {
	tr := obj.(*authenticationv1.TokenReview)
	if tr.Spec.Token == "" {
		return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
	}
	if s.cfg.Authenticator == nil {
		return tr, nil
	}
	auds := tr.Spec.Audiences
	if len(auds) == 0 && s.cfg.ServiceAccounts != nil {
		auds = s.cfg.ServiceAccounts.APIAudiences()
	}
	rv := &serviceaccount.Review{Audiences: auds}
	fake := (&http.Request{Header: http.Header{}}).WithContext(serviceaccount.WithReview(context.WithoutCancel(ctx), rv))
	fake.Header.Set("Authorization", "Bearer "+tr.Spec.Token)
	u, ok := authenticateUser(s.cfg.Authenticator, fake)
	tr.Status = authenticationv1.TokenReviewStatus{Authenticated: ok}
	if !ok {
		// Upstream's union of its bearer token authenticators: the
		// default refusal and the service account authenticator's.
		err := errInvalidBearerToken
		if rv.Err != nil {
			err = errors.New("[" + errInvalidBearerToken.Error() + ", " + rv.Err.Error() + "]")
		}
		tr.Status.Error = err.Error()
		return tr, nil
	}
	tr.Status.User = userInfo(u)
	// An authenticator that knows no audiences accepts the token for
	// those asked (upstream's audience-agnostic wrapper).
	tr.Status.Audiences = auds
	if rv.Accepted != nil {
		tr.Status.Audiences = rv.Accepted
	}
	return tr, nil
}

// handleServiceAccountIssuer serves the issuer's OIDC discovery
// documents (authorized as every non-resource path: upstream's
// system:service-account-issuer-discovery role allows them).
func (s *Server) handleServiceAccountIssuer(mux *http.ServeMux) {
	iss := s.cfg.ServiceAccounts
	if iss == nil {
		return
	}
	serve := func(doc []byte, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Cache-Control", serviceaccount.CacheControl)
			_, _ = w.Write(doc)
		}
	}
	mux.Handle(serviceaccount.OpenIDConfigPath, serve(iss.OpenIDConfiguration(), serviceaccount.OpenIDConfigType))
	mux.Handle(serviceaccount.JWKSPath, serve(iss.JWKS(), serviceaccount.JWKSType))
}
