//go:build oracle

package authz

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/union"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac"
)

// CanITable is the golden file internal/authz/testdata/can-i.json: a
// fixed set of RBAC objects (upstream's bootstrap policy from
// bootstrap/testdata, admin, edit and view aggregated, plus the objects
// of extraObjects), users, query axes, and the answers of upstream's
// authorizer chain (the system:masters bypass, then RBAC) for every
// query. Queries are enumerated in this order: for each user, for each
// resource, verb, namespace, and name ("" then the resource's names), a
// resource request; then for each path and path verb, a non-resource
// request.
type CanITable struct {
	ClusterRoles        []*rbacv1.ClusterRole        `json:"clusterRoles"`
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	Roles               []*rbacv1.Role               `json:"roles"`
	RoleBindings        []*rbacv1.RoleBinding        `json:"roleBindings"`
	// Aggregated are the rules of the aggregated bootstrap roles.
	Aggregated map[string][]rbacv1.PolicyRule `json:"aggregated"`

	Users      []TableUser     `json:"users"`
	Resources  []TableResource `json:"resources"`
	Verbs      []string        `json:"verbs"`
	Namespaces []string        `json:"namespaces"`
	Paths      []string        `json:"paths"`
	PathVerbs  []string        `json:"pathVerbs"`

	// Decisions has one character per query: '0' deny, '1' allow,
	// '2' no opinion.
	Decisions string `json:"decisions"`
	// Reasons are the distinct reasons; ReasonOf has one character per
	// query, the base-36 index of its reason.
	Reasons  []string `json:"reasons"`
	ReasonOf string   `json:"reasonOf"`
	// Rules: for each user and namespace, upstream's RulesFor (the
	// SelfSubjectRulesReview's rules, in order) as PolicyRule strings.
	Rules []TableRules `json:"rules"`
}

// TableResource is one resource axis value.
type TableResource struct {
	Group       string   `json:"group"`
	Resource    string   `json:"resource"`
	Subresource string   `json:"subresource,omitempty"`
	Names       []string `json:"names,omitempty"`
}

// TableUser is one user of the table.
type TableUser struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
}

// TableRules is what RulesFor answers for a user in a namespace.
type TableRules struct {
	User        int      `json:"user"`
	Namespace   string   `json:"namespace"`
	Resource    []string `json:"resource"`
	NonResource []string `json:"nonResource"`
	Error       string   `json:"error,omitempty"`
}

func sel(key string) metav1.LabelSelector {
	return metav1.LabelSelector{MatchLabels: map[string]string{key: "true"}}
}

func om(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

func ref(kind, name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
}

// extraObjects are the objects of the table beyond the bootstrap policy.
func extraObjects(t *CanITable) {
	t.ClusterRoles = append(t.ClusterRoles,
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "widget-viewer", Labels: map[string]string{"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{"example.com"}, Resources: []string{"widgets", "*/status"}}}},
		&rbacv1.ClusterRole{ObjectMeta: om("", "node-reader"),
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"nodes", "nodes/status"}},
				{Verbs: []string{"get"}, NonResourceURLs: []string{"/metrics", "/logs/*"}}}},
		&rbacv1.ClusterRole{ObjectMeta: om("", "binder"),
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"bind", "escalate"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "roles"}, ResourceNames: []string{"view"}},
				{Verbs: []string{"impersonate"}, APIGroups: []string{""}, Resources: []string{"users", "groups"}, ResourceNames: []string{"alice", "devs"}}}},
		&rbacv1.ClusterRole{ObjectMeta: om("", "everything"),
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}},
	)
	t.Roles = append(t.Roles,
		&rbacv1.Role{ObjectMeta: om("ns2", "pod-logs"), Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods/log", "pods"}},
			{Verbs: []string{"update", "patch"}, APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cm1"}},
			{Verbs: []string{"get"}, APIGroups: []string{"apps"}, Resources: []string{"*/scale"}},
		}},
	)
	t.RoleBindings = append(t.RoleBindings,
		&rbacv1.RoleBinding{ObjectMeta: om("ns1", "alice-edit"), RoleRef: ref("ClusterRole", "edit"),
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}},
		&rbacv1.RoleBinding{ObjectMeta: om("ns1", "builder-admin"), RoleRef: ref("ClusterRole", "admin"),
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "builder"}}},
		&rbacv1.RoleBinding{ObjectMeta: om("ns2", "carol-logs"), RoleRef: ref("Role", "pod-logs"),
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "carol"},
				{Kind: "ServiceAccount", Name: "builder", Namespace: "ns1"}}},
		&rbacv1.RoleBinding{ObjectMeta: om("ns2", "dangling"), RoleRef: ref("Role", "missing"),
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "carol"}}},
		&rbacv1.RoleBinding{ObjectMeta: om("ns2", "all-in-ns2"), RoleRef: ref("ClusterRole", "everything"),
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "ns2-admins"}}},
	)
	t.ClusterRoleBindings = append(t.ClusterRoleBindings,
		&rbacv1.ClusterRoleBinding{ObjectMeta: om("", "devs-view"), RoleRef: ref("ClusterRole", "view"),
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "devs"}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: om("", "ops-nodes"), RoleRef: ref("ClusterRole", "node-reader"),
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "ops"},
				{Kind: "ServiceAccount", Name: "monitor", Namespace: "kube-system"}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: om("", "dave-binder"), RoleRef: ref("ClusterRole", "binder"),
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "dave"}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: om("", "sa-without-namespace"), RoleRef: ref("ClusterRole", "everything"),
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "builder"}}},
	)
}

// aggregate fills admin, edit and view as the aggregation controller
// would (a fixpoint: view feeds edit, which feeds admin).
func aggregate(crs []*rbacv1.ClusterRole) {
	for range 3 {
		for _, c := range crs {
			if c.AggregationRule == nil {
				continue
			}
			var rules []rbacv1.PolicyRule
			for _, s := range c.AggregationRule.ClusterRoleSelectors {
				ls, _ := metav1.LabelSelectorAsSelector(&s)
				var picked []*rbacv1.ClusterRole
				for _, o := range crs {
					if o.Name != c.Name && ls.Matches(labels.Set(o.Labels)) {
						picked = append(picked, o)
					}
				}
				sort.Slice(picked, func(i, j int) bool { return picked[i].Name < picked[j].Name })
				for _, o := range picked {
					for _, r := range o.Rules {
						dup := false
						for _, x := range rules {
							dup = dup || x.String() == r.String()
						}
						if !dup {
							rules = append(rules, r)
						}
					}
				}
			}
			c.Rules = rules
		}
	}
}

func loadBootstrap(t *testing.T, tab *CanITable) {
	b, err := os.ReadFile("../../internal/authz/bootstrap/testdata/kube-apiserver-bootstrap.json")
	if err != nil {
		t.Fatal(err)
	}
	var d BootstrapDump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	for i := range d.ClusterRoles {
		tab.ClusterRoles = append(tab.ClusterRoles, &d.ClusterRoles[i])
	}
	for i := range d.ClusterRoleBindings {
		tab.ClusterRoleBindings = append(tab.ClusterRoleBindings, &d.ClusterRoleBindings[i])
	}
	for i := range d.Roles {
		tab.Roles = append(tab.Roles, &d.Roles[i])
	}
	for i := range d.RoleBindings {
		tab.RoleBindings = append(tab.RoleBindings, &d.RoleBindings[i])
	}
}

// TestCanITable computes the table with upstream's authorizers.
func TestCanITable(t *testing.T) {
	boot := &CanITable{}
	loadBootstrap(t, boot)
	tab := &CanITable{}
	extraObjects(tab)
	all := append(append([]*rbacv1.ClusterRole(nil), boot.ClusterRoles...), tab.ClusterRoles...)
	aggregate(all)
	tab.Aggregated = map[string][]rbacv1.PolicyRule{}
	for _, c := range all {
		if c.AggregationRule != nil {
			tab.Aggregated[c.Name] = c.Rules
		}
	}
	tab.Users = []TableUser{
		{Name: "alice", Groups: []string{"system:authenticated"}},
		{Name: "bob", Groups: []string{"devs", "system:authenticated"}},
		{Name: "carol", Groups: []string{"system:authenticated"}},
		{Name: "dave", Groups: []string{"system:authenticated"}},
		{Name: "erin", Groups: []string{"ops", "ns2-admins"}},
		{Name: "system:serviceaccount:ns1:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"}},
		{Name: "system:serviceaccount:kube-system:namespace-controller", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
		{Name: "system:serviceaccount:kube-system:monitor"},
		{Name: "system:kube-scheduler", Groups: []string{"system:authenticated"}},
		{Name: "system:kube-controller-manager", Groups: []string{"system:authenticated"}},
		{Name: "system:anonymous", Groups: []string{"system:unauthenticated"}},
		{Name: "root", Groups: []string{"system:masters", "system:authenticated"}},
	}
	tab.Resources = []TableResource{
		{"", "pods", "", nil}, {"", "pods", "log", nil}, {"", "pods", "exec", nil}, {"", "pods", "status", nil},
		{"", "secrets", "", nil}, {"", "configmaps", "", []string{"cm1", "cm2"}}, {"", "nodes", "", nil}, {"", "nodes", "status", nil},
		{"", "namespaces", "", nil}, {"", "serviceaccounts", "token", nil}, {"", "users", "", []string{"alice", "bob"}}, {"", "groups", "", []string{"devs"}},
		{"apps", "deployments", "", nil}, {"apps", "deployments", "scale", nil}, {"apps", "statefulsets", "scale", nil},
		{"rbac.authorization.k8s.io", "roles", "", []string{"view"}}, {"rbac.authorization.k8s.io", "clusterroles", "", []string{"view", "edit"}},
		{"rbac.authorization.k8s.io", "rolebindings", "", nil},
		{"authorization.k8s.io", "selfsubjectaccessreviews", "", nil}, {"authorization.k8s.io", "selfsubjectrulesreviews", "", nil},
		{"coordination.k8s.io", "leases", "", nil}, {"example.com", "widgets", "", nil}, {"example.com", "widgets", "status", nil},
	}
	tab.Verbs = []string{"get", "list", "watch", "create", "update", "delete", "deletecollection", "bind", "escalate", "impersonate"}
	tab.Namespaces = []string{"", "ns1", "ns2", "kube-system"}
	tab.Paths = []string{"/healthz", "/version", "/api", "/apis/apps/v1", "/metrics", "/logs/x", "/logs", "/openapi/v2", "/livez/ping", "/.well-known/openid-configuration"}
	tab.PathVerbs = []string{"get", "post"}

	// The objects the authorizer reads: bootstrap, aggregated, extras.
	crs := all
	crbs := append(append([]*rbacv1.ClusterRoleBinding(nil), boot.ClusterRoleBindings...), tab.ClusterRoleBindings...)
	roles := append(append([]*rbacv1.Role(nil), boot.Roles...), tab.Roles...)
	rbs := append(append([]*rbacv1.RoleBinding(nil), boot.RoleBindings...), tab.RoleBindings...)
	// client-go listers over indexers, as kube-apiserver backs its
	// authorizer (its errors are the real NotFound errors).
	index := func(objs ...any) cache.Indexer {
		i := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		for _, o := range objs {
			if err := i.Add(o); err != nil {
				t.Fatal(err)
			}
		}
		return i
	}
	var ro, rbo, cro, crbo []any
	for _, o := range roles {
		ro = append(ro, o)
	}
	for _, o := range rbs {
		rbo = append(rbo, o)
	}
	for _, o := range crs {
		cro = append(cro, o)
	}
	for _, o := range crbs {
		crbo = append(crbo, o)
	}
	rbacAuthz := rbac.New(
		&rbac.RoleGetter{Lister: rbaclisters.NewRoleLister(index(ro...))},
		sortedRoleBindings{rbaclisters.NewRoleBindingLister(index(rbo...))},
		&rbac.ClusterRoleGetter{Lister: rbaclisters.NewClusterRoleLister(index(cro...))},
		sortedClusterRoleBindings{rbaclisters.NewClusterRoleBindingLister(index(crbo...))})
	chain, err := union.New(
		union.NamedAuthorizer{AuthorizerName: "kubernetes.io/system-privileged-group", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
		union.NamedAuthorizer{AuthorizerName: "rbac", Authorizer: rbacAuthz},
	)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	var decisions, reasonOf []byte
	record := func(d authorizer.Decision, reason string) {
		i, ok := reasons[reason]
		if !ok {
			i = len(tab.Reasons)
			reasons[reason] = i
			tab.Reasons = append(tab.Reasons, reason)
		}
		if i >= 36 {
			t.Fatalf("more than 36 reasons")
		}
		decisions = append(decisions, byte('0'+int(d)))
		reasonOf = append(reasonOf, strconv.FormatInt(int64(i), 36)[0])
	}
	ctx := context.Background()
	for ui, u := range tab.Users {
		info := &user.DefaultInfo{Name: u.Name, Groups: u.Groups}
		for _, r := range tab.Resources {
			for _, v := range tab.Verbs {
				for _, ns := range tab.Namespaces {
					for _, name := range append([]string{""}, r.Names...) {
						d, reason, _ := chain.Authorize(ctx, authorizer.AttributesRecord{User: info, Verb: v, APIGroup: r.Group, APIVersion: "v1",
							Resource: r.Resource, Subresource: r.Subresource, Namespace: ns, Name: name, ResourceRequest: true})
						record(d, reason)
					}
				}
			}
		}
		for _, p := range tab.Paths {
			for _, v := range tab.PathVerbs {
				d, reason, _ := chain.Authorize(ctx, authorizer.AttributesRecord{User: info, Verb: v, Path: p})
				record(d, reason)
			}
		}
		for _, ns := range []string{"ns1", "ns2", "kube-system"} {
			rr, nr, _, err := rbacAuthz.RulesFor(ctx, info, ns)
			tr := TableRules{User: ui, Namespace: ns, Resource: []string{}, NonResource: []string{}}
			for _, x := range rr {
				pr := rbacv1.PolicyRule{Verbs: x.GetVerbs(), APIGroups: x.GetAPIGroups(), Resources: x.GetResources(), ResourceNames: x.GetResourceNames()}
				tr.Resource = append(tr.Resource, pr.String())
			}
			for _, x := range nr {
				pr := rbacv1.PolicyRule{Verbs: x.GetVerbs(), NonResourceURLs: x.GetNonResourceURLs()}
				tr.NonResource = append(tr.NonResource, pr.String())
			}
			if err != nil {
				tr.Error = err.Error()
			}
			tab.Rules = append(tab.Rules, tr)
		}
	}
	tab.Decisions, tab.ReasonOf = string(decisions), string(reasonOf)
	t.Logf("%d queries, %d allowed, %d reasons", len(tab.Decisions), strings.Count(tab.Decisions, "1"), len(tab.Reasons))
	out, err := json.MarshalIndent(tab, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	writeOrCompare(t, "../../internal/authz/testdata/can-i.json", out)
}

// sortedRoleBindings lists bindings by name: an indexer lists in map
// order, which would make the binding named in an allow reason vary
// between runs when two bindings allow a request (regis lists by name).
type sortedRoleBindings struct{ l rbaclisters.RoleBindingLister }

func (s sortedRoleBindings) ListRoleBindings(_ context.Context, ns string) ([]*rbacv1.RoleBinding, error) {
	out, err := s.l.RoleBindings(ns).List(labels.Everything())
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

type sortedClusterRoleBindings struct {
	l rbaclisters.ClusterRoleBindingLister
}

func (s sortedClusterRoleBindings) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	out, err := s.l.List(labels.Everything())
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
