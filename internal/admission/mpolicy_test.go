package admission_test

import (
	"errors"
	"testing"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "nginx"}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}}}}}
}

// MutatingAdmissionPolicies as the conformance tests use them: an apply
// configuration adds an annotation and sets the replicas, a JSONPatch
// adds a label; deployments of another namespace are untouched.
func TestMutatingAdmissionPolicy(t *testing.T) {
	cs, _ := start(t)
	ctx := t.Context()
	namespace(t, cs, "adm", map[string]string{"mutate": "true"})
	namespace(t, cs, "other", nil)
	api := cs.AdmissionregistrationV1()
	_, err := api.MutatingAdmissionPolicies().Create(ctx, &admissionregv1.MutatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "mutate-deployments"},
		Spec: admissionregv1.MutatingAdmissionPolicySpec{
			MatchConstraints: &admissionregv1.MatchResources{ResourceRules: []admissionregv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregv1.RuleWithOperations{Operations: []admissionregv1.OperationType{admissionregv1.Create},
					Rule: admissionregv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}}}}}},
			Mutations: []admissionregv1.Mutation{
				{PatchType: admissionregv1.PatchTypeApplyConfiguration, ApplyConfiguration: &admissionregv1.ApplyConfiguration{
					Expression: `Object{metadata: Object.metadata{annotations: {"mutated-by": "admission-policy"}}, spec: Object.spec{replicas: 1337}}`}},
				{PatchType: admissionregv1.PatchTypeJSONPatch, JSONPatch: &admissionregv1.JSONPatch{
					Expression: `[JSONPatch{op: "add", path: "/metadata/labels/" + jsonpatch.escapeKey("example.com/patched"), value: "yes"}]`}},
			},
			ReinvocationPolicy: admissionregv1.NeverReinvocationPolicy,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.MutatingAdmissionPolicyBindings().Create(ctx, &admissionregv1.MutatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "mutate-deployments"},
		Spec: admissionregv1.MutatingAdmissionPolicyBindingSpec{PolicyName: "mutate-deployments",
			MatchResources: &admissionregv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"mutate": "true"}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got *appsv1.Deployment
	eventually(t, "the policy mutates", func() error {
		got, err = cs.AppsV1().Deployments("adm").Create(ctx, deployment("probe", 1), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if got.Annotations["mutated-by"] != "admission-policy" {
			return errors.New("not mutated yet")
		}
		return nil
	})
	if *got.Spec.Replicas != 1337 || got.Labels["example.com/patched"] != "yes" || got.Labels["app"] != "nginx" {
		t.Errorf("mutated deployment: replicas %d, labels %v", *got.Spec.Replicas, got.Labels)
	}
	if len(got.Spec.Template.Spec.Containers) != 1 {
		t.Errorf("containers %v", got.Spec.Template.Spec.Containers)
	}
	plain, err := cs.AppsV1().Deployments("other").Create(ctx, deployment("plain", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *plain.Spec.Replicas != 1 || len(plain.Annotations) != 0 {
		t.Errorf("another namespace's deployment was mutated: %+v", plain.ObjectMeta)
	}
}

// A write to /scale is admitted as an UPDATE of deployments/scale whose
// object is the Scale.
func TestScaleAdmission(t *testing.T) {
	cs, _ := start(t)
	ctx := t.Context()
	api := cs.AdmissionregistrationV1()
	_, err := api.ValidatingAdmissionPolicies().Create(ctx, &admissionregv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "max-scale"},
		Spec: admissionregv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregv1.MatchResources{ResourceRules: []admissionregv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregv1.RuleWithOperations{Operations: []admissionregv1.OperationType{admissionregv1.Update},
					Rule: admissionregv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments/scale"}}}}}},
			Validations: []admissionregv1.Validation{{Expression: `object.kind == "Scale" && object.spec.replicas <= 5`, Message: "at most 5"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.ValidatingAdmissionPolicyBindings().Create(ctx, &admissionregv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "max-scale"},
		Spec: admissionregv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "max-scale",
			ValidationActions: []admissionregv1.ValidationAction{admissionregv1.Deny}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, deployment("web", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var denied error
	eventually(t, "the policy denies a scale", func() error {
		sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		sc.Spec.Replicas = 10
		_, denied = cs.AppsV1().Deployments("default").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		if denied == nil {
			return errors.New("not denied yet")
		}
		return nil
	})
	if want := `deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'max-scale' with binding 'max-scale' denied request: at most 5`; denied.Error() != want {
		t.Errorf("denied: %q, want %q", denied.Error(), want)
	}
	sc, err := cs.AppsV1().Deployments("default").GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = 3
	if _, err := cs.AppsV1().Deployments("default").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Errorf("scale to 3: %v", err)
	}
	// The deployment itself is not its /scale.
	d, _ := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	d.Spec.Replicas = ptr(int32(9))
	if _, err := cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Errorf("update of the deployment: %v", err)
	}
}
