package registry_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
)

// A row's ValidateCreate runs on create only, its errors after Validate's:
// an ingress's class annotation must match spec.ingressClassName when it
// is created (upstream's ValidateIngressCreate), not when it is updated.
func TestValidateCreateRunsOnCreateOnly(t *testing.T) {
	f := newFixture(t)
	s := f.store(t, "networking.k8s.io", "ingresses")
	ingress := func(name, annotation string, rules bool) *networkingv1.Ingress {
		class := "a"
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kubernetes.io/ingress.class": annotation}},
			Spec:       networkingv1.IngressSpec{IngressClassName: &class},
		}
		if rules {
			ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "s", Port: networkingv1.ServiceBackendPort{Number: 80}}}
		}
		return ing
	}

	_, err := s.Create(t.Context(), testNS, ingress("bad", "b", false), registry.CreateOptions{})
	st := wantStatus(t, err, 422, metav1.StatusReasonInvalid)
	var fields []string
	for _, c := range st.Details.Causes {
		fields = append(fields, c.Field)
	}
	if want := []string{"spec", "annotations.kubernetes.io/ingress.class"}; len(fields) != 2 || fields[0] != want[0] || fields[1] != want[1] {
		t.Errorf("create: causes on %q, want %q (Validate's, then ValidateCreate's)", fields, want)
	}

	create(t, s, ingress("good", "a", true))
	got := update[*networkingv1.Ingress](t, s, "good", edit(func(ing *networkingv1.Ingress) {
		ing.Annotations["kubernetes.io/ingress.class"] = "b"
	}), registry.UpdateOptions{})
	if v := got.Annotations["kubernetes.io/ingress.class"]; v != "b" {
		t.Errorf("update: annotation %q, want b (the check is for creates)", v)
	}
}
