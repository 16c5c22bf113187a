package registest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/internal/serviceaccount"
	"github.com/regis-dev/regis/registest"
)

// TestAuthenticationAPIs: TokenReview of a service account token, of a
// refused one and of a garbage one; kubectl auth whoami; the OIDC
// discovery documents, whose key verifies a token.
func TestAuthenticationAPIs(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	admin := kubernetes.NewForConfigOrDie(srv.Config())
	sa, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "robot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "robot" || tr.Namespace != "default" || len(tr.Spec.Audiences) != 1 || tr.Spec.Audiences[0] != serviceaccount.DefaultIssuer ||
		*tr.Spec.ExpirationSeconds != 3600 || tr.Status.Token == "" {
		t.Errorf("TokenRequest answer %+v", tr)
	}
	token := tr.Status.Token

	review := func(token string, auds ...string) *authenticationv1.TokenReview {
		t.Helper()
		r, err := admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: auds}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := review(token)
	u := r.Status.User
	if !r.Status.Authenticated || u.Username != "system:serviceaccount:default:robot" || u.UID != string(sa.UID) ||
		strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:default,system:authenticated" ||
		len(u.Extra["authentication.kubernetes.io/credential-id"]) != 1 || strings.Join(r.Status.Audiences, ",") != serviceaccount.DefaultIssuer {
		t.Errorf("review of a good token: %+v", r.Status)
	}
	if r := review(token, "vault"); r.Status.Authenticated || r.Status.Error !=
		`[invalid bearer token, token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["vault"]]` {
		t.Errorf("review for another audience: %+v", r.Status)
	}
	if r := review("garbage"); r.Status.Authenticated || r.Status.Error != "invalid bearer token" {
		t.Errorf("review of garbage: %+v", r.Status)
	}
	_, err = admin.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "token is required for TokenReview in authentication") {
		t.Errorf("review without a token: %v", err)
	}

	// Discovery lists the resources.
	for gv, want := range map[string][]string{"authentication.k8s.io/v1": {"selfsubjectreviews", "tokenreviews"}, "v1": {"serviceaccounts/token"}} {
		list, err := admin.Discovery().ServerResourcesForGroupVersion(gv)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range want {
			found := false
			for _, r := range list.APIResources {
				found = found || (r.Name == name && strings.Join(r.Verbs, ",") == "create")
			}
			if !found {
				t.Errorf("%s: no %s (create) in discovery", gv, name)
			}
		}
	}

	// kubectl auth whoami, as the administrator and as the account.
	out, err := kubectl(t, srv, "auth", "whoami", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var self authenticationv1.SelfSubjectReview
	if err := json.Unmarshal([]byte(out), &self); err != nil || self.Status.UserInfo.Username != "admin" ||
		!strings.Contains(strings.Join(self.Status.UserInfo.Groups, ","), "system:masters") {
		t.Errorf("whoami: %s %v", out, err)
	}
	ssr, err := tokenClient(srv, token).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil || ssr.Status.UserInfo.Username != "system:serviceaccount:default:robot" {
		t.Errorf("whoami as the account: %+v %v", ssr, err)
	}

	// OIDC discovery, read by the account (system:service-account-issuer-discovery).
	robot := tokenClient(srv, token).CoreV1().RESTClient()
	cfgDoc, err := robot.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(cfgDoc, &cfg); err != nil || cfg.Issuer != serviceaccount.DefaultIssuer || cfg.JWKSURI != serviceaccount.DefaultIssuer+"/openid/v1/jwks" {
		t.Errorf("openid-configuration %s: %v", cfgDoc, err)
	}
	res := robot.Get().AbsPath("/openid/v1/jwks").Do(ctx)
	var ct string
	res.ContentType(&ct)
	jwks, err := res.Raw()
	if err != nil || ct != "application/jwk-set+json" {
		t.Fatalf("jwks: %q %v", ct, err)
	}
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", jwks, err)
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if kid, _ := serviceaccount.KeyID(pub); kid != set.Keys[0].Kid {
		t.Errorf("kid %s, want %s", set.Keys[0].Kid, kid)
	}
	// The published key verifies the token's RS256 signature.
	parts := strings.Split(token, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Errorf("the JWKS key does not verify the token: %v", err)
	}
	// Anonymous requests may not read the documents (upstream's default).
	anon := srv.Config()
	anon.CertData, anon.KeyData = nil, nil
	_, err = kubernetes.NewForConfigOrDie(anon).CoreV1().RESTClient().Get().AbsPath("/openid/v1/jwks").DoRaw(ctx)
	if !apierrors.IsForbidden(err) {
		t.Errorf("anonymous jwks: %v", err)
	}
}
