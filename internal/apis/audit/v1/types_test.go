package v1_test

import (
	"encoding/json"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	internal "k8s.io/apiserver/pkg/apis/audit"
	upstream "k8s.io/apiserver/pkg/apis/audit/v1"

	auditv1 "github.com/regis-dev/regis/internal/apis/audit/v1"
)

// TestJSONAsUpstream: an event and a policy with every field set encode
// to upstream's bytes, and upstream's bytes decode to the same values.
func TestJSONAsUpstream(t *testing.T) {
	now := metav1.NewMicroTime(time.Date(2026, 12, 7, 16, 0, 0, 123456000, time.UTC))
	u := authnv1.UserInfo{Username: "alice", UID: "u1", Groups: []string{"g"}, Extra: map[string]authnv1.ExtraValue{"k": {"v"}}}
	ev := upstream.Event{
		TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: "audit.k8s.io/v1"},
		Level:    upstream.LevelRequestResponse, AuditID: "id", Stage: upstream.StageResponseComplete,
		RequestURI: "/api/v1/pods", Verb: "create", User: u, ImpersonatedUser: &u,
		AuthenticationMetadata: &upstream.AuthenticationMetadata{ImpersonationConstraint: "c"},
		SourceIPs:              []string{"127.0.0.1"}, UserAgent: "ua",
		ObjectRef: &upstream.ObjectReference{Resource: "pods", Namespace: "ns", Name: "p", UID: "x", APIGroup: "g",
			APIVersion: "v1", ResourceVersion: "5", Subresource: "status"},
		ResponseStatus:           &metav1.Status{Code: 201},
		RequestObject:            &runtime.Unknown{Raw: []byte(`{"a":1}`)},
		ResponseObject:           &runtime.Unknown{Raw: []byte(`{"b":2}`)},
		RequestReceivedTimestamp: now, StageTimestamp: now, Annotations: map[string]string{"a": "b"},
	}
	omit := true
	pol := upstream.Policy{
		TypeMeta: metav1.TypeMeta{Kind: "Policy", APIVersion: "audit.k8s.io/v1"}, ObjectMeta: metav1.ObjectMeta{Name: "p"},
		OmitStages: []upstream.Stage{upstream.StageRequestReceived}, OmitManagedFields: true,
		Rules: []upstream.PolicyRule{{Level: upstream.LevelMetadata, Users: []string{"u"}, UserGroups: []string{"g"}, Verbs: []string{"get"},
			Resources:  []upstream.GroupResources{{Group: "apps", Resources: []string{"deployments"}, ResourceNames: []string{"d"}}},
			Namespaces: []string{"ns"}, NonResourceURLs: []string{"/x"}, OmitStages: []upstream.Stage{upstream.StagePanic}, OmitManagedFields: &omit}},
	}
	same(t, &ev, &auditv1.Event{})
	same(t, &pol, &auditv1.Policy{})
	copied := decode(t, &pol, &auditv1.Policy{}).DeepCopyObject()
	if a, b := encode(t, copied), encode(t, &pol); a != b {
		t.Errorf("deep copy:\n%s\nupstream:\n%s", a, b)
	}
}

func same[T any](t *testing.T, theirs any, ours *T) {
	t.Helper()
	want := encode(t, theirs)
	if got := encode(t, decode(t, theirs, ours)); got != want {
		t.Errorf("ours:\n%s\nupstream:\n%s", got, want)
	}
}

func decode[T any](t *testing.T, theirs any, ours *T) *T {
	t.Helper()
	if err := json.Unmarshal([]byte(encode(t, theirs)), ours); err != nil {
		t.Fatal(err)
	}
	return ours
}

func encode(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLevelOrder: levels order as upstream's, an unknown one as None.
func TestLevelOrder(t *testing.T) {
	all := append(auditv1.Levels, "bogus")
	for _, a := range all {
		for _, b := range all {
			if got, want := a.GreaterOrEqual(b), internal.Level(a).GreaterOrEqual(internal.Level(b)); got != want {
				t.Errorf("%s >= %s: %v, upstream %v", a, b, got, want)
			}
		}
	}
}
