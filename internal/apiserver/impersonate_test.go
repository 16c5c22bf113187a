package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/authz"
)

// TestImpersonationEqualsUpstream runs the requests of
// ../authz/testdata/impersonation.json (answered by upstream's
// impersonation filter of k8s.io/apiserver v0.37.2, constrained
// impersonation on, over upstream's RBAC authorizer; oracle module:
// cd oracle && go test -tags oracle ./authz/ -run TestImpersonationTable
// -update) through ours over our RBAC authorizer: the same 400s and 403s
// (code, reason, message) and the same impersonated users.
func TestImpersonationEqualsUpstream(t *testing.T) {
	var tab struct {
		ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
		ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
		Cases               []struct {
			Requestor string              `json:"requestor"`
			Path      string              `json:"path"`
			Headers   map[string][]string `json:"headers"`
			Code      int                 `json:"code"`
			Status    *metav1.Status      `json:"status"`
			User      *struct {
				Name   string              `json:"name"`
				UID    string              `json:"uid"`
				Groups []string            `json:"groups"`
				Extra  map[string][]string `json:"extra"`
			} `json:"user"`
		} `json:"cases"`
	}
	b, err := os.ReadFile("../authz/testdata/impersonation.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	l := authz.NewMemoryLister()
	for _, o := range tab.ClusterRoles {
		l.Set(o)
	}
	for _, o := range tab.ClusterRoleBindings {
		l.Set(o)
	}
	a, err := authz.New(authz.Config{Lister: l})
	if err != nil {
		t.Fatal(err)
	}
	var modes modeCache // one filter, as the oracle's
	for _, c := range tab.Cases {
		r := httptest.NewRequest(http.MethodGet, c.Path, nil)
		for k, v := range c.Headers {
			r.Header[k] = v
		}
		name, _ := json.Marshal(c.Headers)
		requestor := &authz.User{Name: c.Requestor, Groups: []string{AllAuthenticated}}
		got, err := impersonate(context.Background(), a, &modes, r, classify(r), requestor)
		switch {
		case c.Code == http.StatusOK && err != nil:
			t.Errorf("%s %s %s: %v, upstream impersonates %+v", c.Requestor, c.Path, name, err, c.User)
		case c.Code == http.StatusOK:
			u := c.User
			if got.Name != u.Name || got.UID != u.UID || !slices.Equal(got.Groups, u.Groups) || len(got.Extra) != len(u.Extra) {
				t.Errorf("%s %s %s: %+v, upstream %+v", c.Requestor, c.Path, name, got, u)
			}
			for k, v := range u.Extra {
				if !slices.Equal(got.Extra[k], v) {
					t.Errorf("%s %s %s: extra %s %v, upstream %v", c.Requestor, c.Path, name, k, got.Extra[k], v)
				}
			}
		case err == nil:
			t.Errorf("%s %s %s: impersonates %+v, upstream %d %s", c.Requestor, c.Path, name, got, c.Code, c.Status.Message)
		default:
			st := err.(apierrors.APIStatus).Status()
			if int(st.Code) != c.Code || st.Reason != c.Status.Reason || st.Message != c.Status.Message {
				t.Errorf("%s %s %s:\n got %d %s %s\nwant %d %s %s", c.Requestor, c.Path, name, st.Code, st.Reason, st.Message,
					c.Code, c.Status.Reason, c.Status.Message)
			}
		}
	}
}
