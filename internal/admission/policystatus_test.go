package admission_test

import (
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/regis-dev/regis/registest"
)

// TestPolicyTypeChecking: a policy's expressions are type checked against
// the schemas of the kinds it matches, as upstream's e2e "should type
// check validation expressions" expects.
func TestPolicyTypeChecking(t *testing.T) {
	srv, err := registest.Start(t.Context(), registest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	vaps := kubernetes.NewForConfigOrDie(srv.Config()).AdmissionregistrationV1().ValidatingAdmissionPolicies()
	policy := func(name string, v admissionregistrationv1.Validation) *admissionregistrationv1.ValidatingAdmissionPolicy {
		p, err := vaps.Create(t.Context(), &admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
					RuleWithOperations: admissionregistrationv1.RuleWithOperations{
						Operations: []admissionregistrationv1.OperationType{"CREATE"},
						Rule:       admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
					},
				}}},
				Validations: []admissionregistrationv1.Validation{v},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for p.Status.TypeChecking == nil {
			if time.Now().After(deadline) {
				t.Fatalf("policy %s: no typeChecking after 20s", name)
			}
			time.Sleep(50 * time.Millisecond)
			if p, err = vaps.Get(t.Context(), name, metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if p.Status.ObservedGeneration != p.Generation {
			t.Errorf("observedGeneration %d, generation %d", p.Status.ObservedGeneration, p.Generation)
		}
		return p
	}
	if p := policy("correct", admissionregistrationv1.Validation{Expression: "object.spec.replicas > 1"}); len(p.Status.TypeChecking.ExpressionWarnings) != 0 {
		t.Errorf("warnings for a correct policy: %+v", p.Status.TypeChecking.ExpressionWarnings)
	}
	// request and namespaceObject are typed as upstream's.
	typed := policy("typed", admissionregistrationv1.Validation{
		Expression:        "request.userInfo.username != '' && namespaceObject.metadata.labels['team'] == 'a'",
		MessageExpression: "request.userName + namespaceObject.metadata.nosuch",
	})
	if w := typed.Status.TypeChecking.ExpressionWarnings; len(w) != 1 || w[0].FieldRef != "spec.validations[0].messageExpression" ||
		!strings.Contains(w[0].Warning, "undefined field 'userName'") || !strings.Contains(w[0].Warning, "undefined field 'nosuch'") {
		t.Errorf("request and namespaceObject: warnings %+v", w)
	}
	p := policy("confused", admissionregistrationv1.Validation{
		Expression:        "object.spec.replicas > '1'",
		MessageExpression: "'wants replicas > 1, got ' + object.spec.replicas",
	})
	w := p.Status.TypeChecking.ExpressionWarnings
	if len(w) != 2 {
		t.Fatalf("warnings %+v, want 2", w)
	}
	for i, want := range []struct{ ref, text string }{
		{"spec.validations[0].expression", "found no matching overload for '_>_' applied to '(int, string)'"},
		{"spec.validations[0].messageExpression", "found no matching overload for '_+_' applied to '(string, int)'"},
	} {
		if w[i].FieldRef != want.ref || !strings.Contains(w[i].Warning, want.text) || !strings.HasPrefix(w[i].Warning, "apps/v1, Kind=Deployment: ") {
			t.Errorf("warning %d: %+v, want %s: %s", i, w[i], want.ref, want.text)
		}
	}
	for _, mf := range p.ManagedFields {
		if mf.Subresource == "status" && mf.Manager != "validatingadmissionpolicy-status" {
			t.Errorf("status written by %s", mf.Manager)
		}
	}
}
