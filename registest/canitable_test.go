package registest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/cmd/auth"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// canITable is internal/authz/testdata/can-i.json: RBAC objects and the
// decisions, reasons and rules of upstream's authorizer over them (with
// the bootstrap policy), computed once in the oracle module.
type canITable struct {
	ClusterRoles        []*rbacv1.ClusterRole          `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding   `json:"clusterRoleBindings"`
	Roles               []*rbacv1.Role                 `json:"roles"`
	RoleBindings        []*rbacv1.RoleBinding          `json:"roleBindings"`
	Aggregated          map[string][]rbacv1.PolicyRule `json:"aggregated"`
	Users               []struct {
		Name   string   `json:"name"`
		Groups []string `json:"groups"`
	} `json:"users"`
	Resources []struct {
		Group       string   `json:"group"`
		Resource    string   `json:"resource"`
		Subresource string   `json:"subresource"`
		Names       []string `json:"names"`
	} `json:"resources"`
	Verbs      []string `json:"verbs"`
	Namespaces []string `json:"namespaces"`
	Paths      []string `json:"paths"`
	PathVerbs  []string `json:"pathVerbs"`
	Decisions  string   `json:"decisions"`
	Reasons    []string `json:"reasons"`
	ReasonOf   string   `json:"reasonOf"`
	Rules      []struct {
		User        int      `json:"user"`
		Namespace   string   `json:"namespace"`
		Resource    []string `json:"resource"`
		NonResource []string `json:"nonResource"`
		Error       string   `json:"error"`
	} `json:"rules"`
}

// canIQuery is one query of the table with upstream's answer.
type canIQuery struct {
	user     int
	attrs    authorizationv1.SubjectAccessReviewSpec
	decision byte // '0' deny, '1' allow, '2' no opinion
	reason   string
}

func loadCanI(t *testing.T) (*canITable, []canIQuery) {
	b, err := os.ReadFile(filepath.Join("..", "internal", "authz", "testdata", "can-i.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tab canITable
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	var qs []canIQuery
	add := func(u int, spec authorizationv1.SubjectAccessReviewSpec) {
		q := len(qs)
		ri, _ := strconv.ParseInt(tab.ReasonOf[q:q+1], 36, 64)
		spec.User, spec.Groups = tab.Users[u].Name, tab.Users[u].Groups
		qs = append(qs, canIQuery{user: u, attrs: spec, decision: tab.Decisions[q], reason: tab.Reasons[ri]})
	}
	for u := range tab.Users {
		for _, r := range tab.Resources {
			for _, v := range tab.Verbs {
				for _, ns := range tab.Namespaces {
					for _, name := range append([]string{""}, r.Names...) {
						add(u, authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
							Namespace: ns, Verb: v, Group: r.Group, Version: "v1", Resource: r.Resource, Subresource: r.Subresource, Name: name}})
					}
				}
			}
		}
		for _, p := range tab.Paths {
			for _, v := range tab.PathVerbs {
				add(u, authorizationv1.SubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: p, Verb: v}})
			}
		}
	}
	if len(qs) != len(tab.Decisions) {
		t.Fatalf("%d queries, the table has %d", len(qs), len(tab.Decisions))
	}
	return &tab, qs
}

// TestCanIEqualsTable creates the table's RBAC objects in a whole server
// (its aggregation controller aggregates admin, edit and view; its
// bootstrap policy is upstream's) and checks, through the API, that
// SubjectAccessReviews answer as upstream's authorizer (a sample of the
// table), that SelfSubjectRulesReviews of impersonated users list
// upstream's rules, and that kubectl auth can-i (and --list) agree.
func TestCanIEqualsTable(t *testing.T) {
	tab, qs := loadCanI(t)
	e := startAuthz(t)
	ctx := t.Context()
	for _, ns := range []string{"ns1", "ns2"} {
		if _, err := e.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rbac := e.admin.RbacV1()
	for _, o := range tab.ClusterRoles {
		if _, err := rbac.ClusterRoles().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			skipInvalid(t, err)
		}
	}
	for _, o := range tab.ClusterRoleBindings {
		if _, err := rbac.ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{}); err != nil {
			skipInvalid(t, err)
		}
	}
	for _, o := range tab.Roles {
		if _, err := rbac.Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			skipInvalid(t, err)
		}
	}
	for _, o := range tab.RoleBindings {
		if _, err := rbac.RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			skipInvalid(t, err)
		}
	}
	for name, want := range tab.Aggregated {
		eventually(t, "aggregated "+name, func() error {
			cr, err := rbac.ClusterRoles().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if got, w := rulesString(cr.Rules), rulesString(want); got != w {
				return fmt.Errorf("rules\n%s\nwant\n%s", got, w)
			}
			return nil
		})
	}
	// The authorizer sees the last object through the watch cache.
	last := qs[len(qs)-1]
	eventually(t, "the objects reach the authorizer", func() error { return e.checkSAR(t, last) })

	// Every seventh query and every non-resource one.
	n, bad := 0, 0
	for i, q := range qs {
		if i%7 != 0 && q.attrs.NonResourceAttributes == nil {
			continue
		}
		n++
		if err := e.checkSAR(t, q); err != nil {
			bad++
			if bad <= 10 {
				t.Error(err)
			}
		}
	}
	t.Logf("%d SubjectAccessReviews, %d differ from upstream's answers", n, bad)

	// SelfSubjectRulesReviews as each user whose groups impersonation
	// keeps (those naming system:authenticated: anonymous requests may
	// not create rules reviews).
	for _, want := range tab.Rules {
		u := tab.Users[want.User]
		if !slices.Contains(u.Groups, "system:authenticated") {
			continue
		}
		cfg := e.srv.Config()
		cfg.Impersonate = rest.ImpersonationConfig{UserName: u.Name, Groups: u.Groups}
		ssrr, err := kubernetes.NewForConfigOrDie(cfg).AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
			&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: want.Namespace}}, metav1.CreateOptions{})
		if err != nil {
			t.Errorf("%s in %s: %v", u.Name, want.Namespace, err)
			continue
		}
		var res, nonRes []string
		for _, r := range ssrr.Status.ResourceRules {
			res = append(res, (&rbacv1.PolicyRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames}).String())
		}
		for _, r := range ssrr.Status.NonResourceRules {
			nonRes = append(nonRes, (&rbacv1.PolicyRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs}).String())
		}
		if strings.Join(res, "\n") != strings.Join(want.Resource, "\n") || strings.Join(nonRes, "\n") != strings.Join(want.NonResource, "\n") ||
			ssrr.Status.EvaluationError != want.Error {
			t.Errorf("%s in %s: rules\n%s\n%s\n%q\nupstream\n%s\n%s\n%q", u.Name, want.Namespace, strings.Join(res, "\n"), strings.Join(nonRes, "\n"),
				ssrr.Status.EvaluationError, strings.Join(want.Resource, "\n"), strings.Join(want.NonResource, "\n"), want.Error)
		}
	}

	// kubectl auth can-i as bob (devs) and erin, impersonated by the
	// administrator, on core resources.
	k := newCanI(t, e.srv)
	asked := 0
	for _, q := range qs {
		ra := q.attrs.ResourceAttributes
		u := tab.Users[q.user]
		if ra == nil || ra.Group != "" || ra.Subresource != "" || ra.Name != "" || !slices.Contains([]string{"bob", "alice"}, u.Name) ||
			!slices.Contains([]string{"get", "list", "create", "delete"}, ra.Verb) {
			continue
		}
		args := []string{ra.Verb, ra.Resource}
		ns := ra.Namespace
		if ns == "" {
			ns = "default"
		}
		got := k.canI(u.Name, u.Groups, ns, args...)
		if want := q.decision == '1'; got != want {
			t.Errorf("kubectl auth can-i %v --as %s -n %s: %v, upstream %v", args, u.Name, ns, got, want)
		}
		asked++
	}
	out := k.list("bob", tab.Users[1].Groups, "ns1")
	if !strings.Contains(out, "selfsubjectaccessreviews.authorization.k8s.io") || !strings.Contains(out, "/healthz") {
		t.Errorf("kubectl auth can-i --list as bob:\n%s", out)
	}
	t.Logf("%d kubectl auth can-i equal to upstream's answers", asked)
}

// skipInvalid logs an object of the table the API refuses as invalid
// (the table was computed over listers, which take anything): it binds
// nobody; any other error fails the test.
func skipInvalid(t *testing.T, err error) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatal(err)
	}
	t.Logf("skipped: %v", err)
}

func rulesString(rules []rbacv1.PolicyRule) string {
	var s []string
	for _, r := range rules {
		s = append(s, r.String())
	}
	return strings.Join(s, "\n")
}

// checkSAR asks the server q's SubjectAccessReview as the administrator.
func (e *authzEnv) checkSAR(t *testing.T, q canIQuery) error {
	sar, err := e.admin.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{Spec: q.attrs}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	st := sar.Status
	if st.Allowed != (q.decision == '1') || st.Denied != (q.decision == '0') || st.Reason != q.reason {
		return fmt.Errorf("%s %+v %+v: allowed %v denied %v %q, upstream %c %q", q.attrs.User, q.attrs.ResourceAttributes, q.attrs.NonResourceAttributes,
			st.Allowed, st.Denied, st.Reason, q.decision, q.reason)
	}
	return nil
}

// canI runs kubectl auth can-i in process (its options, as the command
// does, without the exit on "no").
type canI struct {
	t          *testing.T
	kubeconfig string
}

func newCanI(t *testing.T, srv interface{ Kubeconfig() string }) *canI {
	return &canI{t: t, kubeconfig: srv.Kubeconfig()}
}

func (k *canI) options(user string, groups []string, ns string) (*auth.CanIOptions, *bytes.Buffer, cmdutil.Factory) {
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig, flags.Impersonate, flags.ImpersonateGroup, flags.Namespace = &k.kubeconfig, &user, &groups, &ns
	var out bytes.Buffer
	o := &auth.CanIOptions{IOStreams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}}
	return o, &out, cmdutil.NewFactory(flags)
}

func (k *canI) canI(user string, groups []string, ns string, args ...string) bool {
	k.t.Helper()
	o, out, f := k.options(user, groups, ns)
	if err := o.Complete(f, args); err != nil {
		k.t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		k.t.Fatal(err)
	}
	allowed, err := o.RunAccessCheck()
	if err != nil {
		k.t.Fatalf("kubectl auth can-i %v: %v", args, err)
	}
	if printed := strings.TrimSpace(out.String()); printed != map[bool]string{true: "yes", false: "no"}[allowed] {
		k.t.Errorf("kubectl auth can-i %v printed %q", args, printed)
	}
	return allowed
}

func (k *canI) list(user string, groups []string, ns string) string {
	k.t.Helper()
	o, out, f := k.options(user, groups, ns)
	o.List = true
	if err := o.Complete(f, nil); err != nil {
		k.t.Fatal(err)
	}
	if err := o.RunAccessList(); err != nil {
		k.t.Fatal(err)
	}
	return out.String()
}
