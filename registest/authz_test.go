package registest_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/registest"
)

// authzEnv is a server with RBAC (the default) and three users: the
// administrator (system:masters), alice (client certificate, group devs)
// and bob (token file, groups viewers and devs).
type authzEnv struct {
	srv          *registest.Server
	admin        *kubernetes.Clientset
	alice, bob   *kubernetes.Clientset
	aliceCfg     *rest.Config
	bobCfg, anon *rest.Config
}

func startAuthz(t testing.TB) *authzEnv {
	t.Helper()
	ctx := t.Context()
	tokens := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokens, []byte("bob-token,bob,bob-uid,\"viewers,devs\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := registest.Start(ctx, registest.Options{TokenAuthFile: tokens})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	e := &authzEnv{srv: srv, admin: kubernetes.NewForConfigOrDie(srv.Config())}
	if e.aliceCfg, err = srv.UserConfig("alice", "devs"); err != nil {
		t.Fatal(err)
	}
	e.alice = kubernetes.NewForConfigOrDie(e.aliceCfg)
	e.anon = srv.Config()
	e.anon.CertData, e.anon.KeyData = nil, nil
	e.bobCfg = rest.CopyConfig(e.anon)
	e.bobCfg.BearerToken = "bob-token"
	e.bob = kubernetes.NewForConfigOrDie(e.bobCfg)
	for _, ns := range []string{"team", "other"} {
		if _, err := e.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *authzEnv) role(t *testing.T, ns, name string, rules ...rbacv1.PolicyRule) {
	t.Helper()
	if _, err := e.admin.RbacV1().Roles(ns).Create(t.Context(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *authzEnv) bind(t *testing.T, ns, name, kind, role string, subjects ...rbacv1.Subject) {
	t.Helper()
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}
	var err error
	if ns == "" {
		_, err = e.admin.RbacV1().ClusterRoleBindings().Create(t.Context(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{})
	} else {
		_, err = e.admin.RbacV1().RoleBindings(ns).Create(t.Context(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef: ref, Subjects: subjects}, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func userSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

// eventually retries f until it returns nil (RBAC changes reach the
// authorizer through the watch cache), for at most 10 s.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func expectForbidden(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !apierrors.IsForbidden(err) || (msg != "" && err.Error() != msg) {
		t.Errorf("%s: got %v\nwant 403 %s", what, err, msg)
	}
}

// TestRBACVerbs: alice may do everything with config maps in team, by a
// role binding, and nothing in other; bob reads everything but secrets
// through the aggregated view cluster role, and writes nothing; each
// refusal is upstream's 403.
func TestRBACVerbs(t *testing.T) {
	e := startAuthz(t)
	ctx := t.Context()
	e.role(t, "team", "cm-all", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{""}, Resources: []string{"configmaps"}})
	e.bind(t, "team", "alice-cm", "Role", "cm-all", userSubject("alice"))
	e.bind(t, "", "viewers", "ClusterRole", "view", groupSubject("viewers"))

	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
	}
	eventually(t, "alice creates in team", func() error {
		_, err := e.alice.CoreV1().ConfigMaps("team").Create(ctx, cm("a"), metav1.CreateOptions{})
		return err
	})
	if _, err := e.admin.CoreV1().ConfigMaps("other").Create(ctx, cm("a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	type call func(c *kubernetes.Clientset, ns string) error
	calls := []struct {
		verb, name string
		f          call
	}{
		{"get", `"a" `, func(c *kubernetes.Clientset, ns string) error {
			_, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "a", metav1.GetOptions{})
			return err
		}},
		{"list", "", func(c *kubernetes.Clientset, ns string) error {
			_, err := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			return err
		}},
		{"watch", "", func(c *kubernetes.Clientset, ns string) error {
			w, err := c.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{})
			if err == nil {
				w.Stop()
			}
			return err
		}},
		{"update", `"a" `, func(c *kubernetes.Clientset, ns string) error {
			_, err := c.CoreV1().ConfigMaps(ns).Update(ctx, cm("a"), metav1.UpdateOptions{})
			return err
		}},
		{"patch", `"a" `, func(c *kubernetes.Clientset, ns string) error {
			_, err := c.CoreV1().ConfigMaps(ns).Patch(ctx, "a", types.MergePatchType, []byte(`{"data":{"x":"y"}}`), metav1.PatchOptions{})
			return err
		}},
		{"create", "", func(c *kubernetes.Clientset, ns string) error {
			_, err := c.CoreV1().ConfigMaps(ns).Create(ctx, cm("b"), metav1.CreateOptions{})
			return err
		}},
		{"delete", `"b" `, func(c *kubernetes.Clientset, ns string) error {
			return c.CoreV1().ConfigMaps(ns).Delete(ctx, "b", metav1.DeleteOptions{})
		}},
		{"deletecollection", "", func(c *kubernetes.Clientset, ns string) error {
			return c.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "none=none"})
		}},
	}
	for _, c := range calls {
		if err := c.f(e.alice, "team"); err != nil {
			t.Errorf("alice %s in team: %v", c.verb, err)
		}
		expectForbidden(t, "alice "+c.verb+" in other", c.f(e.alice, "other"),
			`configmaps `+c.name+`is forbidden: User "alice" cannot `+c.verb+` resource "configmaps" in API group "" in the namespace "other"`)
		// bob: view grants get, list and watch everywhere, no write.
		err := c.f(e.bob, "other")
		switch c.verb {
		case "get", "list", "watch":
			eventually(t, "bob "+c.verb+" (aggregated view)", func() error { return c.f(e.bob, "other") })
		default:
			expectForbidden(t, "bob "+c.verb, err,
				`configmaps `+c.name+`is forbidden: User "bob" cannot `+c.verb+` resource "configmaps" in API group "" in the namespace "other"`)
		}
	}
	_, err := e.bob.CoreV1().Secrets("other").List(ctx, metav1.ListOptions{})
	expectForbidden(t, "bob lists secrets", err, `secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "other"`)
	_, err = e.alice.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	expectForbidden(t, "alice lists nodes", err, `nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope`)

	// Non-resource paths: discovery, version and health for every
	// authenticated user (system:discovery, system:public-info-viewer),
	// health and version only for anonymous requests.
	for _, p := range []string{"/api", "/apis", "/version", "/healthz", "/readyz", "/openapi/v2"} {
		if _, err := e.alice.RESTClient().Get().AbsPath(p).DoRaw(ctx); err != nil {
			t.Errorf("alice GET %s: %v", p, err)
		}
	}
	rawForbidden(t, e.aliceCfg, e.srv.URL()+"/metrics", `forbidden: User \"alice\" cannot get path \"/metrics\"`)
	anon := kubernetes.NewForConfigOrDie(e.anon)
	for _, p := range []string{"/version", "/healthz", "/livez", "/readyz"} {
		if _, err := anon.RESTClient().Get().AbsPath(p).DoRaw(ctx); err != nil {
			t.Errorf("anonymous GET %s: %v", p, err)
		}
	}
	rawForbidden(t, e.anon, e.srv.URL()+"/api", `forbidden: User \"system:anonymous\" cannot get path \"/api\"`)
	// A token no authenticator knows is 401, not anonymous.
	bad := rest.CopyConfig(e.bobCfg)
	bad.BearerToken = "nope"
	if _, err := kubernetes.NewForConfigOrDie(bad).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("bad token: %v", err)
	}
}

// rawForbidden GETs url and expects upstream's 403 Status with msg (as
// JSON-escaped).
func rawForbidden(t *testing.T, cfg *rest.Config, url, msg string) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	want := `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"` + msg + `","reason":"Forbidden","details":{},"code":403}`
	if resp.StatusCode != 403 || strings.TrimSpace(string(b)) != want {
		t.Errorf("GET %s: %d %s\nwant 403 %s", url, resp.StatusCode, b, want)
	}
}

// TestEscalation: a user who may write roles and bindings grants only
// what they hold, unless they may escalate or bind.
func TestEscalation(t *testing.T) {
	e := startAuthz(t)
	ctx := t.Context()
	e.role(t, "team", "rbac-writer",
		rbacv1.PolicyRule{Verbs: []string{"create", "update", "get"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles", "rolebindings"}},
		rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}})
	e.bind(t, "team", "alice-rbac", "Role", "rbac-writer", userSubject("alice"))

	held := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "held"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"configmaps"}}}}
	eventually(t, "alice creates a role she holds", func() error {
		_, err := e.alice.RbacV1().Roles("team").Create(ctx, held, metav1.CreateOptions{})
		return err
	})
	more := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "more"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}
	_, err := e.alice.RbacV1().Roles("team").Create(ctx, more, metav1.CreateOptions{})
	expectForbidden(t, "alice grants secrets", err, `roles.rbac.authorization.k8s.io "more" is forbidden: user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`)
	// An update that adds a rule she does not hold is refused alike.
	upd, err := e.alice.RbacV1().Roles("team").Get(ctx, "held", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upd.Rules = append(upd.Rules, rbacv1.PolicyRule{Verbs: []string{"delete"}, APIGroups: []string{""}, Resources: []string{"configmaps"}})
	_, err = e.alice.RbacV1().Roles("team").Update(ctx, upd, metav1.UpdateOptions{})
	expectForbidden(t, "alice adds delete", err, "")

	// Binding: admin is more than she holds; view's namespaced rules are
	// too. With bind on the cluster role admin, she may bind it.
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-admin"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}, Subjects: []rbacv1.Subject{userSubject("carol")}}
	_, err = e.alice.RbacV1().RoleBindings("team").Create(ctx, rb, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `rolebindings.rbac.authorization.k8s.io "alice-admin" is forbidden: user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`) {
		t.Errorf("alice binds admin: %v", err)
	}
	okBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "carol-held"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "held"}, Subjects: []rbacv1.Subject{userSubject("carol")}}
	if _, err := e.alice.RbacV1().RoleBindings("team").Create(ctx, okBinding, metav1.CreateOptions{}); err != nil {
		t.Errorf("alice binds a role she holds: %v", err)
	}
	e.role(t, "team", "binder", rbacv1.PolicyRule{Verbs: []string{"bind"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, ResourceNames: []string{"admin"}})
	e.bind(t, "team", "alice-binder", "Role", "binder", userSubject("alice"))
	eventually(t, "alice binds admin with the bind verb", func() error {
		_, err := e.alice.RbacV1().RoleBindings("team").Create(ctx, rb, metav1.CreateOptions{})
		return err
	})
	// With escalate, she may write any role.
	e.role(t, "team", "escalator", rbacv1.PolicyRule{Verbs: []string{"escalate"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}})
	e.bind(t, "team", "alice-escalator", "Role", "escalator", userSubject("alice"))
	eventually(t, "alice escalates", func() error {
		_, err := e.alice.RbacV1().Roles("team").Create(ctx, more, metav1.CreateOptions{})
		return err
	})
}

// TestImpersonation: impersonating needs the impersonate verb on the
// user (and groups); the impersonated user's rights apply.
func TestImpersonation(t *testing.T) {
	e := startAuthz(t)
	ctx := t.Context()
	e.role(t, "team", "cm-read", rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"configmaps"}})
	e.bind(t, "team", "carol-cm", "Role", "cm-read", userSubject("carol"))

	asCarol := func(cfg *rest.Config, groups ...string) *kubernetes.Clientset {
		c := rest.CopyConfig(cfg)
		c.Impersonate = rest.ImpersonationConfig{UserName: "carol", Groups: groups}
		return kubernetes.NewForConfigOrDie(c)
	}
	_, err := asCarol(e.aliceCfg).CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{})
	expectForbidden(t, "alice as carol", err, `configmaps is forbidden: User "alice" cannot impersonate-on:user-info:list resource "configmaps" in API group "" in the namespace "team"`)

	// The administrator may impersonate anyone: carol's rights apply
	// (once her new binding reached the authorizer's cache).
	eventually(t, "admin as carol in team", func() error {
		_, err := asCarol(e.srv.Config()).CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{})
		return err
	})
	_, err = asCarol(e.srv.Config()).CoreV1().ConfigMaps("other").List(ctx, metav1.ListOptions{})
	expectForbidden(t, "admin as carol in other", err, `configmaps is forbidden: User "carol" cannot list resource "configmaps" in API group "" in the namespace "other"`)

	// The legacy verb on users named carol lets alice act as carol.
	if _, err := e.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "impersonate-carol"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"impersonate"}, APIGroups: []string{""}, Resources: []string{"users"}, ResourceNames: []string{"carol"}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.bind(t, "", "alice-impersonates", "ClusterRole", "impersonate-carol", userSubject("alice"))
	eventually(t, "alice as carol", func() error {
		_, err := asCarol(e.aliceCfg).CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{})
		return err
	})
	// Groups need their own permission.
	_, err = asCarol(e.aliceCfg, "ops").CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{})
	expectForbidden(t, "alice as carol in ops", err, "")
	// A group without a user is 400.
	c := rest.CopyConfig(e.aliceCfg)
	c.Impersonate = rest.ImpersonationConfig{Groups: []string{"ops"}}
	if _, err := kubernetes.NewForConfigOrDie(c).CoreV1().ConfigMaps("team").List(ctx, metav1.ListOptions{}); !apierrors.IsBadRequest(err) {
		t.Errorf("groups without a user: %v", err)
	}
	// A SelfSubjectAccessReview as carol answers for carol.
	ssar, err := asCarol(e.srv.Config()).AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: "team", Verb: "get", Resource: "configmaps"}}}, metav1.CreateOptions{})
	if err != nil || !ssar.Status.Allowed {
		t.Errorf("ssar as carol: %v %+v", err, ssar)
	}
}

// TestReviewsValidation: the review resources' 422s and 400s.
func TestReviewsValidation(t *testing.T) {
	e := startAuthz(t)
	ctx := t.Context()
	_, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "at least one of user or group must be specified") {
		t.Errorf("empty SAR: %v", err)
	}
	_, err = e.admin.AuthorizationV1().LocalSubjectAccessReviews("team").Create(ctx, &authorizationv1.LocalSubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "x", ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "other", Verb: "get", Resource: "pods"}}},
		metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "must match metadata.namespace") {
		t.Errorf("LSAR of another namespace: %v", err)
	}
	_, err = e.alice.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods",
			FieldSelector: &authorizationv1.FieldSelectorAttributes{}}}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.resourceAttributes.fieldSelector.requirements: Required value: when spec.resourceAttributes.fieldSelector is specified, requirements or rawSelector is required") {
		t.Errorf("SSAR with an empty field selector: %v", err)
	}
	_, err = e.alice.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, &authorizationv1.SelfSubjectRulesReview{}, metav1.CreateOptions{})
	if !apierrors.IsBadRequest(err) || err.Error() != "no namespace on request" {
		t.Errorf("SSRR without namespace: %v", err)
	}
	// Every authenticated user may review itself (system:basic-user);
	// nobody but the privileged may review others.
	_, err = e.alice.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "x", NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/x", Verb: "get"}}}, metav1.CreateOptions{})
	expectForbidden(t, "alice SAR", err, `subjectaccessreviews.authorization.k8s.io is forbidden: User "alice" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope`)
}

// TestAlwaysAllow: with --authorization-mode=AlwaysAllow every
// authenticated user may do everything, and (as upstream, whose
// rbac/bootstrap-roles hook runs only with RBAC) no bootstrap policy is
// written.
func TestAlwaysAllow(t *testing.T) {
	ctx := t.Context()
	srv, err := registest.Start(ctx, registest.Options{AuthorizationModes: []string{"AlwaysAllow"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cfg, err := srv.UserConfig("alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := kubernetes.NewForConfigOrDie(cfg)
	if _, err := alice.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("alice lists secrets: %v", err)
	}
	if _, err := alice.RbacV1().ClusterRoles().Get(ctx, "cluster-admin", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("cluster-admin without RBAC: %v", err)
	}
	ssar, err := alice.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"}}},
		metav1.CreateOptions{})
	if err != nil || !ssar.Status.Allowed {
		t.Errorf("alice may get /metrics: %v %+v", err, ssar)
	}
}
