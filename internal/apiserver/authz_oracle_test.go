package apiserver

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/authz"
)

// TestForbiddenEqualsKubeAPIServer sends the requests of
// ../authz/testdata/forbidden.json (answered by a real kube-apiserver
// v1.37.2 over its bootstrap policy and a few objects; oracle module:
// cd oracle && go test -tags oracle ./authz/ -run TestForbiddenTable
// -update) through our attributes and authorizer: the same requests are
// allowed, and the refused ones get the same Status (message with the
// authorizer's reasons, reason, details, code).
func TestForbiddenEqualsKubeAPIServer(t *testing.T) {
	var tab struct {
		Roles        []*rbacv1.Role        `json:"roles"`
		RoleBindings []*rbacv1.RoleBinding `json:"roleBindings"`
		Cases        []struct {
			User   string          `json:"user"`
			Groups []string        `json:"groups"`
			Method string          `json:"method"`
			Path   string          `json:"path"`
			Code   int             `json:"code"`
			Status json.RawMessage `json:"status"`
		} `json:"cases"`
	}
	var boot struct {
		ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
		ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
		Roles               []*rbacv1.Role               `json:"roles"`
		RoleBindings        []*rbacv1.RoleBinding        `json:"roleBindings"`
	}
	for path, into := range map[string]any{"../authz/testdata/forbidden.json": &tab,
		"../authz/bootstrap/testdata/kube-apiserver-bootstrap.json": &boot} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
	l := authz.NewMemoryLister()
	for _, o := range boot.ClusterRoles {
		l.Set(o)
	}
	for _, o := range boot.ClusterRoleBindings {
		l.Set(o)
	}
	for _, o := range append(boot.Roles, tab.Roles...) {
		l.Set(o)
	}
	for _, o := range append(boot.RoleBindings, tab.RoleBindings...) {
		l.Set(o)
	}
	a, err := authz.New(authz.Config{Lister: l})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tab.Cases {
		r := httptest.NewRequest(c.Method, c.Path, nil)
		err := authorize(context.Background(), a, r, classify(r), &authz.User{Name: c.User, Groups: c.Groups})
		if c.Code != 403 {
			if err != nil {
				t.Errorf("%s %s %s: refused (%v), kube-apiserver answered %d", c.User, c.Method, c.Path, err, c.Code)
			}
			continue
		}
		var want metav1.Status
		if err := json.Unmarshal(c.Status, &want); err != nil {
			t.Fatal(err)
		}
		want.TypeMeta = metav1.TypeMeta{}
		if err == nil {
			t.Errorf("%s %s %s: allowed, kube-apiserver: %s", c.User, c.Method, c.Path, want.Message)
			continue
		}
		st := err.(*apierrors.StatusError).ErrStatus
		gb, _ := json.Marshal(st)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s %s %s:\n got %s\nwant %s", c.User, c.Method, c.Path, gb, wb)
		}
	}
}
