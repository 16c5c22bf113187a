package admission_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A ValidatingAdmissionPolicy with params (a config map) denies config
// maps with too many keys in namespaces labelled env=test; a second
// binding only warns; others are untouched.
func TestValidatingAdmissionPolicy(t *testing.T) {
	cs, warns := start(t)
	ctx := t.Context()
	namespace(t, cs, "adm", map[string]string{"env": "test"})
	namespace(t, cs, "other", nil)
	if _, err := cs.CoreV1().ConfigMaps("adm").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "limits"},
		Data: map[string]string{"maxKeys": "2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	api := cs.AdmissionregistrationV1()
	cmRules := []admissionregv1.NamedRuleWithOperations{{RuleWithOperations: admissionregv1.RuleWithOperations{
		Operations: []admissionregv1.OperationType{admissionregv1.Create, admissionregv1.Update},
		Rule:       admissionregv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}}}
	_, err := api.ValidatingAdmissionPolicies().Create(ctx, &admissionregv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "max-keys"},
		Spec: admissionregv1.ValidatingAdmissionPolicySpec{
			ParamKind:        &admissionregv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
			MatchConstraints: &admissionregv1.MatchResources{ResourceRules: cmRules},
			MatchConditions:  []admissionregv1.MatchCondition{{Name: "not-params", Expression: `object.metadata.name != "limits"`}},
			Variables:        []admissionregv1.Variable{{Name: "keys", Expression: `has(object.data) ? object.data.size() : 0`}},
			Validations: []admissionregv1.Validation{{
				Expression:        `variables.keys <= int(params.data.maxKeys)`,
				MessageExpression: `"too many keys: " + string(variables.keys) + " > " + params.data.maxKeys`,
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.ValidatingAdmissionPolicyBindings().Create(ctx, &admissionregv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "max-keys-test"},
		Spec: admissionregv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "max-keys",
			ParamRef:          &admissionregv1.ParamRef{Name: "limits", Namespace: "adm", ParameterNotFoundAction: ptr(admissionregv1.DenyAction)},
			ValidationActions: []admissionregv1.ValidationAction{admissionregv1.Deny},
			MatchResources: &admissionregv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "test"}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.ValidatingAdmissionPolicyBindings().Create(ctx, &admissionregv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "max-keys-warn"},
		Spec: admissionregv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "max-keys",
			ParamRef:          &admissionregv1.ParamRef{Name: "limits", Namespace: "adm", ParameterNotFoundAction: ptr(admissionregv1.AllowAction)},
			ValidationActions: []admissionregv1.ValidationAction{admissionregv1.Warn},
			MatchResources: &admissionregv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "other"}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	big := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "big"}, Data: map[string]string{"a": "1", "b": "2", "c": "3"}}
	var denied error
	eventually(t, "the policy denies", func() error {
		_, denied = cs.CoreV1().ConfigMaps("adm").Create(ctx, big, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if denied == nil {
			return errors.New("not denied yet")
		}
		return nil
	})
	want := `configmaps "big" is forbidden: ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys-test' denied request: too many keys: 3 > 2`
	if denied.Error() != want {
		t.Errorf("denied: %q, want %q", denied.Error(), want)
	}
	if st := apiStatus(denied); st.Code != http.StatusUnprocessableEntity || st.Reason != metav1.StatusReasonInvalid {
		t.Errorf("status %d %s, want 422 Invalid", st.Code, st.Reason)
	}
	small := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "small"}, Data: map[string]string{"a": "1"}}
	if _, err := cs.CoreV1().ConfigMaps("adm").Create(ctx, small, metav1.CreateOptions{}); err != nil {
		t.Errorf("within the limit: %v", err)
	}
	// Another namespace: the Warn binding only warns.
	if _, err := cs.CoreV1().ConfigMaps("other").Create(ctx, big, metav1.CreateOptions{}); err != nil {
		t.Errorf("other namespace: %v", err)
	}
	if w := "Validation failed for ValidatingAdmissionPolicy 'max-keys' with binding 'max-keys-warn': too many keys: 3 > 2"; !warns.has(w) {
		t.Errorf("no warning %q: %v", w, warns.msgs)
	}
	// default matches neither binding.
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, big, metav1.CreateOptions{}); err != nil {
		t.Errorf("default namespace: %v", err)
	}
	// Missing params with parameterNotFoundAction Deny.
	if err := cs.CoreV1().ConfigMaps("adm").Delete(ctx, "limits", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// (The params are read from the watch cache, which may lag the delete.)
	small.Name = "small-2"
	eventually(t, "missing params deny", func() error {
		_, err = cs.CoreV1().ConfigMaps("adm").Create(ctx, small, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil || !strings.Contains(err.Error(), "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction") {
			return fmt.Errorf("params missing: %v", err)
		}
		return nil
	})
}

func ptr[T any](v T) *T { return &v }
