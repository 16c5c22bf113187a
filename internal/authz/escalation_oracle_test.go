package authz

import (
	"context"
	"encoding/json"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// escalationTable is testdata/escalation.json: writes of roles and
// bindings by limited users on a real kube-apiserver v1.37.2 and its
// answers (oracle module: cd oracle && go test -tags oracle ./authz/
// -run TestEscalationTable -update).
type escalationTable struct {
	ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Roles               []*rbacv1.Role               `json:"roles"`
	RoleBindings        []*rbacv1.RoleBinding        `json:"roleBindings"`
	Cases               []struct {
		User    string          `json:"user"`
		Groups  []string        `json:"groups"`
		Update  bool            `json:"update"`
		Object  json.RawMessage `json:"object"`
		Code    int32           `json:"code"`
		Message string          `json:"message"`
	} `json:"cases"`
}

// TestEscalationEqualsKubeAPIServer replays the writes in order (a
// write the server accepted is stored for the next ones) and compares
// the answers: accepted, or the same code and message.
func TestEscalationEqualsKubeAPIServer(t *testing.T) {
	var tab escalationTable
	var boot bootstrapGolden
	loadJSON(t, "testdata/escalation.json", &tab)
	loadJSON(t, "bootstrap/testdata/kube-apiserver-bootstrap.json", &boot)
	l := NewMemoryLister()
	for _, o := range append(boot.ClusterRoles, tab.ClusterRoles...) {
		l.Set(o)
	}
	for _, o := range append(boot.ClusterRoleBindings, tab.ClusterRoleBindings...) {
		l.Set(o)
	}
	for _, o := range append(boot.Roles, tab.Roles...) {
		l.Set(o)
	}
	for _, o := range append(boot.RoleBindings, tab.RoleBindings...) {
		l.Set(o)
	}
	a, err := New(Config{Lister: l})
	if err != nil {
		t.Fatal(err)
	}
	e := &Escalation{Authorizer: a, Resolver: NewRuleResolver(l)}
	ctx := context.Background()
	for i, c := range tab.Cases {
		var kind struct{ Kind string }
		if err := json.Unmarshal(c.Object, &kind); err != nil {
			t.Fatal(err)
		}
		var obj, old runtime.Object
		switch kind.Kind {
		case "Role":
			o := &rbacv1.Role{}
			_ = json.Unmarshal(c.Object, o)
			if c.Update {
				old, _ = l.GetRole(ctx, o.Namespace, o.Name)
			}
			obj = o
		case "ClusterRole":
			o := &rbacv1.ClusterRole{}
			_ = json.Unmarshal(c.Object, o)
			obj = o
		case "RoleBinding":
			o := &rbacv1.RoleBinding{}
			_ = json.Unmarshal(c.Object, o)
			obj = o
		case "ClusterRoleBinding":
			o := &rbacv1.ClusterRoleBinding{}
			_ = json.Unmarshal(c.Object, o)
			obj = o
		}
		err := e.CheckWrite(ctx, &User{Name: c.User, Groups: c.Groups}, obj, old)
		switch {
		case c.Code < 300 && err != nil:
			t.Errorf("case %d (%s %s): refused: %v", i, c.User, kind.Kind, err)
		case c.Code >= 300 && err == nil:
			t.Errorf("case %d (%s %s): accepted, kube-apiserver answered %d %s", i, c.User, kind.Kind, c.Code, c.Message)
		case c.Code >= 300:
			st, ok := err.(apierrors.APIStatus)
			if !ok || st.Status().Code != c.Code || st.Status().Message != c.Message {
				t.Errorf("case %d (%s %s):\n got %v\nwant %d %s", i, c.User, kind.Kind, err, c.Code, c.Message)
			}
		default:
			l.Set(obj)
		}
	}
}
