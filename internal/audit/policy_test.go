package audit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	upstream "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/regis-dev/regis/internal/audit"
	"github.com/regis-dev/regis/internal/authz"
)

const policyYAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
omitManagedFields: true
rules:
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: RequestResponse
  userGroups: ["auditors"]
  resources:
  - group: ""
    resources: ["pods/log", "*/status"]
- level: Request
  omitManagedFields: false
  resources:
  - group: "apps"
    resources: ["deployments/*"]
  - group: "*"
    resources: ["configmaps"]
    resourceNames: ["special"]
- level: Metadata
  namespaces: ["kube-system"]
  omitStages: ["ResponseStarted"]
- level: Metadata
  resources:
  - group: ""
- level: Request
  verbs: ["get"]
  nonResourceURLs: ["/api*"]
`

// TestEvaluateAsUpstream compares each request's level, stages and
// managed fields choice with upstream's policy checker on the same
// policy.
func TestEvaluateAsUpstream(t *testing.T) {
	ours, err := audit.LoadPolicy([]byte(policyYAML))
	if err != nil {
		t.Fatal(err)
	}
	theirsPolicy, err := upstream.LoadPolicyFromBytes([]byte(policyYAML))
	if err != nil {
		t.Fatal(err)
	}
	theirs := upstream.NewPolicyRuleEvaluator(theirsPolicy)
	users := []*authz.User{
		nil,
		{Name: "system:kube-proxy", Groups: []string{"system:authenticated"}},
		{Name: "alice", Groups: []string{"auditors", "system:authenticated"}},
		{Name: "bob", Groups: []string{"system:authenticated"}},
	}
	var reqs []authz.Attributes
	for _, verb := range []string{"get", "list", "watch", "create", "patch"} {
		for _, res := range []struct{ group, resource, sub, ns, name string }{
			{"", "pods", "", "default", "p"}, {"", "pods", "log", "default", "p"}, {"", "pods", "status", "kube-system", "p"},
			{"", "nodes", "status", "", "n"}, {"apps", "deployments", "", "default", "d"}, {"apps", "deployments", "scale", "default", "d"},
			{"", "configmaps", "", "default", "special"}, {"", "configmaps", "", "default", "other"}, {"batch", "configmaps", "", "x", "special"},
			{"batch", "jobs", "", "kube-system", "j"}, {"batch", "jobs", "", "default", "j"}, {"", "secrets", "", "", ""},
		} {
			reqs = append(reqs, authz.Attributes{Verb: verb, ResourceRequest: true, APIGroup: res.group, APIVersion: "v1",
				Resource: res.resource, Subresource: res.sub, Namespace: res.ns, Name: res.name})
		}
		for _, p := range []string{"/healthz", "/healthz/etcd", "/version", "/api", "/apis/apps", "/metrics"} {
			reqs = append(reqs, authz.Attributes{Verb: verb, Path: p})
		}
	}
	n := 0
	for _, u := range users {
		for _, a := range reqs {
			a.User = u
			got := ours.Evaluate(&a)
			want := theirs.EvaluatePolicyRule(upstreamAttrs(&a))
			if string(got.Level) != string(want.Level) || got.OmitManagedFields != want.OmitManagedFields || !sameStages(got, want.OmitStages) {
				t.Errorf("%+v as %v: got %+v, upstream %+v", a, u, got, want)
			}
			n++
		}
	}
	t.Logf("%d requests evaluated as upstream", n)
}

func sameStages[S ~string](got audit.RequestConfig, want []S) bool {
	if len(got.OmitStages) != len(want) {
		return false
	}
	for _, w := range want {
		found := false
		for _, g := range got.OmitStages {
			found = found || string(g) == string(w)
		}
		if !found {
			return false
		}
	}
	return true
}

func upstreamAttrs(a *authz.Attributes) authorizer.Attributes {
	r := authorizer.AttributesRecord{Verb: a.Verb, ResourceRequest: a.ResourceRequest, Path: a.Path, Namespace: a.Namespace,
		APIGroup: a.APIGroup, APIVersion: a.APIVersion, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
	if a.User != nil {
		r.User = &user.DefaultInfo{Name: a.User.Name, Groups: a.User.Groups}
	}
	return r
}

// TestLoadErrorsAsUpstream: a policy that does not load is refused with
// upstream's message.
func TestLoadErrorsAsUpstream(t *testing.T) {
	for name, body := range map[string]string{
		"bad level":     "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n",
		"no rules":      "apiVersion: audit.k8s.io/v1\nkind: Policy\n",
		"old version":   "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: None\n",
		"no kind":       "rules:\n- level: None\n",
		"bad stage":     "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Sometimes]\nrules:\n- level: None\n",
		"bad resources": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  resources: [{group: '', resources: ['pods/*/x']}]\n  nonResourceURLs: ['/x*y']\n",
		"not yaml":      "{{{",
		"unknown field": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  bogus: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.yaml")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := audit.LoadPolicyFile(path)
			_, want := upstream.LoadPolicyFromFile(path)
			switch {
			case (err == nil) != (want == nil):
				t.Fatalf("got %v, upstream %v", err, want)
			case err != nil && err.Error() != want.Error():
				t.Errorf("got  %v\nwant %v", err, want)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	if _, err := audit.LoadPolicyFile(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "failed to read file path") {
		t.Errorf("missing file: %v", err)
	}
}
