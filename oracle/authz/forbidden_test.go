//go:build oracle

package authz

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/etcd"
)

// ForbiddenTable is internal/authz/testdata/forbidden.json: requests of
// limited users to a real kube-apiserver and its 403 answers (code,
// reason, details, message), over the bootstrap policy and the objects
// below.
type ForbiddenTable struct {
	Roles        []*rbacv1.Role        `json:"roles"`
	RoleBindings []*rbacv1.RoleBinding `json:"roleBindings"`
	Cases        []ForbiddenCase       `json:"cases"`
}

// ForbiddenCase is one request and the server's answer.
type ForbiddenCase struct {
	User   string          `json:"user"`
	Groups []string        `json:"groups"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Code   int             `json:"code"`
	Status json.RawMessage `json:"status,omitempty"`
}

func TestForbiddenTable(t *testing.T) {
	bin := os.Getenv("ORACLE_KUBE_APISERVER")
	if bin == "" {
		bin, _ = filepath.Abs("../../bin/oracle/kube-apiserver")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no kube-apiserver at %s: %v", bin, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tab := &ForbiddenTable{
		Roles: []*rbacv1.Role{{ObjectMeta: om("ns1", "pods"), Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}},
		RoleBindings: []*rbacv1.RoleBinding{
			{ObjectMeta: om("ns1", "carol-missing"), RoleRef: ref("Role", "missing"),
				Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "carol"}}},
			{ObjectMeta: om("ns1", "carol-missing-cluster"), RoleRef: ref("ClusterRole", "missing-too"),
				Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "carol"}}},
			{ObjectMeta: om("ns1", "sa-pods"), RoleRef: ref("Role", "pods"),
				Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "builder"}}},
		},
	}
	auth := []string{"system:authenticated"}
	cases := []ForbiddenCase{
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/namespaces/ns1/pods"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/namespaces/ns1/pods/p1"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/namespaces/ns1/pods/p1/log"},
		{User: "alice", Groups: auth, Method: "DELETE", Path: "/api/v1/namespaces/ns1/pods"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/nodes"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/nodes/n1"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/apis/apps/v1/namespaces/ns1/deployments/d/scale"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/pods?watch=true"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/watch/namespaces/ns1/pods/p1"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/metrics"},
		{User: "alice", Groups: auth, Method: "POST", Path: "/healthz"},
		{User: "alice", Groups: auth, Method: "GET", Path: "/api/v1/namespaces/ns1"},
		{User: "carol", Groups: auth, Method: "GET", Path: "/api/v1/namespaces/ns1/pods"},
		{User: "carol", Groups: auth, Method: "GET", Path: "/api/v1/namespaces/ns2/pods"},
		{User: "system:serviceaccount:ns1:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"},
			Method: "GET", Path: "/api/v1/namespaces/ns1/secrets/s"},
		{User: "system:serviceaccount:ns1:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"},
			Method: "GET", Path: "/api/v1/namespaces/ns1/pods/p"},
		{User: "system:serviceaccount:ns1:builder", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"},
			Method: "GET", Path: "/version"},
	}
	var users []tokenUser
	for _, c := range cases {
		users = append(users, tokenUser{c.User, c.Groups})
	}
	cfg := startOracleUsers(t, ctx, bin, dir, e.Endpoint, users)
	admin := kubernetes.NewForConfigOrDie(cfg)
	for _, ns := range []string{"ns1", "ns2"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, nsObj(ns), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range tab.Roles {
		if _, err := admin.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range tab.RoleBindings {
		if _, err := admin.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := rest.TransportFor(&rest.Config{TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	do := func(c *ForbiddenCase) {
		req, _ := http.NewRequestWithContext(ctx, c.Method, cfg.Host+c.Path, nil)
		req.Header.Set("Authorization", "Bearer token-"+c.User)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		c.Code = resp.StatusCode
		c.Status = nil
		if resp.StatusCode == http.StatusForbidden {
			c.Status = body
		}
	}
	// The bindings reach the authorizer through an informer: wait until
	// the service account may get pods.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		probe := ForbiddenCase{User: cases[len(cases)-2].User, Method: "GET", Path: "/api/v1/namespaces/ns1/pods/p"}
		do(&probe)
		if probe.Code == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bindings never effective: %d", probe.Code)
		}
	}
	for i := range cases {
		do(&cases[i])
		t.Logf("%s %s %s: %d %s", cases[i].User, cases[i].Method, cases[i].Path, cases[i].Code, cases[i].Status)
	}
	tab.Cases = cases
	out, err := json.MarshalIndent(tab, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("../../internal/authz/testdata/forbidden.json", append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
