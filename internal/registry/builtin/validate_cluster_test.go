package builtin_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

const qualifiedNameMsg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

const labelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

func TestNamespaceValidation(t *testing.T) {
	runVerdicts(t, []verdictCase{
		{name: "bad finalizer", resource: "namespaces", obj: "metadata: {name: n}\nspec: {finalizers: [\"bad finalizer\"]}",
			want: []string{`spec.finalizers: Invalid value: "bad finalizer": name is neither a standard finalizer name nor is it fully qualified`,
				`spec.finalizers: Invalid value: "bad finalizer": ` + qualifiedNameMsg}},
		{name: "unqualified finalizer", resource: "namespaces", obj: "metadata: {name: n}\nspec: {finalizers: [custom]}",
			want: []string{`spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified`}},
		{name: "plain", resource: "namespaces", obj: "metadata: {name: n}"},
		{name: "labels and annotations", resource: "namespaces",
			obj: "metadata: {name: team-a, labels: {team: a, pod-security.kubernetes.io/enforce: baseline}, annotations: {owner: me}}"},
		{name: "standard and qualified finalizers", resource: "namespaces",
			obj: "metadata: {name: n}\nspec: {finalizers: [kubernetes, example.com/cleanup, orphan]}"},
		{name: "status update Terminating without deletion", resource: "namespaces",
			old:  "metadata: {name: n}",
			obj:  "metadata: {name: n, resourceVersion: \"5\"}\nstatus: {phase: Terminating}",
			want: []string{`status.Phase: Invalid value: "Terminating": may only be 'Active' if ` + "`deletionTimestamp`" + ` is empty`}},
		{name: "update keeps the stored finalizers", resource: "namespaces",
			old: "metadata: {name: n}",
			obj: "metadata: {name: n, resourceVersion: \"5\", labels: {a: b}}\nspec: {finalizers: [bad]}"},
	})
}

// TestNamespaceFinalize validates as the store does on a write to
// /finalize: the new finalizers on the stored namespace, Validate only.
func TestNamespaceFinalize(t *testing.T) {
	r := row(t, "namespaces")
	deleted := metav1.Now()
	ns := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "7", DeletionTimestamp: &deleted},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/x", "bad one"}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
	want := []string{
		`spec.finalizers[1]: Invalid value: "bad one": ` + qualifiedNameMsg,
		`spec.finalizers[1]: Invalid value: "bad one": name is neither a standard finalizer name nor is it fully qualified`,
	}
	if diff := cmp.Diff(want, messages(r.Validate(ns))); diff != "" {
		t.Errorf("causes (-upstream +regis):\n%s", diff)
	}
	ns.Spec.Finalizers = nil
	if errs := r.Validate(ns); len(errs) != 0 {
		t.Errorf("finalizers removed: %v", errs)
	}
	ns.Status.Phase = corev1.NamespaceActive
	want = []string{`status.Phase: Invalid value: "Active": may only be 'Terminating' if ` + "`deletionTimestamp`" + ` is not empty`}
	if diff := cmp.Diff(want, messages(r.Validate(ns))); diff != "" {
		t.Errorf("causes (-upstream +regis):\n%s", diff)
	}
}

func row(t *testing.T, resource string) *registry.Resource {
	t.Helper()
	i := slices.IndexFunc(builtin.Resources(), func(r *registry.Resource) bool {
		return r.Group+"/"+r.Resource == resource || r.Group == "" && r.Resource == resource
	})
	if i < 0 {
		t.Fatalf("no row %q", resource)
	}
	return builtin.Resources()[i]
}

func TestPodDisruptionBudgetValidation(t *testing.T) {
	const res = "policy/poddisruptionbudgets"
	pdb := func(spec string) string { return "metadata: {name: p}\nspec: " + spec }
	const percentMsg = `a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`
	runVerdicts(t, []verdictCase{
		{name: "both", resource: res, obj: pdb("{minAvailable: 1, maxUnavailable: 1}"),
			want: []string{`spec: Invalid value: {"MinAvailable":1,"Selector":null,"MaxUnavailable":1,"UnhealthyPodEvictionPolicy":null}: minAvailable and maxUnavailable cannot be both set`}},
		{name: "negative", resource: res, obj: pdb("{minAvailable: -1}"),
			want: []string{"spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"}},
		{name: "above 100%", resource: res, obj: pdb("{maxUnavailable: 150%}"),
			want: []string{`spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%`}},
		{name: "bad eviction policy", resource: res, obj: pdb("{minAvailable: 1, unhealthyPodEvictionPolicy: Sometimes}"),
			want: []string{`spec.unhealthyPodEvictionPolicy: Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"`}},
		{name: "bad selector", resource: res, obj: pdb("{minAvailable: 1, selector: {matchExpressions: [{key: a, operator: Near}]}}"),
			want: []string{`spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`}},
		{name: "not a percent", resource: res, obj: pdb("{minAvailable: half}"),
			want: []string{`spec.minAvailable: Invalid value: "half": ` + percentMsg}},
		{name: "percent without sign", resource: res, obj: pdb("{minAvailable: \"150\"}"),
			want: []string{`spec.minAvailable: Invalid value: "150": ` + percentMsg}},
		{name: "bad label value", resource: res, obj: pdb("{minAvailable: 1, selector: {matchLabels: {app: \"bad value\"}}}"),
			want: []string{`spec.selector.matchLabels: Invalid value: "bad value": ` + labelValueMsg}},
		{name: "minAvailable", resource: res, obj: pdb("{minAvailable: 2, selector: {matchLabels: {app: web}}}")},
		{name: "maxUnavailable percent", resource: res,
			obj: pdb("{maxUnavailable: 50%, unhealthyPodEvictionPolicy: AlwaysAllow, selector: {matchExpressions: [{key: app, operator: In, values: [web]}]}}")},
		{name: "100% and empty selector", resource: res, obj: pdb("{minAvailable: 100%, selector: {}, unhealthyPodEvictionPolicy: IfHealthyBudget}")},
		{name: "update keeps invalid label values", resource: res,
			old: pdb("{minAvailable: 1, selector: {matchExpressions: [{key: app, operator: In, values: [\"bad value\"]}]}}"),
			obj: "metadata: {name: p, resourceVersion: \"3\"}\nspec: {minAvailable: 2, selector: {matchExpressions: [{key: app, operator: In, values: [\"bad value\", \"x y\"]}]}}"},
		{name: "create with an invalid label value in expressions", resource: res,
			obj:  pdb("{minAvailable: 1, selector: {matchExpressions: [{key: app, operator: In, values: [\"bad value\"]}]}}"),
			want: []string{`spec.selector.matchExpressions[0].values[0]: Invalid value: "bad value": ` + labelValueMsg}},
		{name: "update to both", resource: res, old: pdb("{minAvailable: 1}"),
			obj:  "metadata: {name: p, resourceVersion: \"3\"}\nspec: {minAvailable: 1, maxUnavailable: 1}",
			want: []string{`spec: Invalid value: {"MinAvailable":1,"Selector":null,"MaxUnavailable":1,"UnhealthyPodEvictionPolicy":null}: minAvailable and maxUnavailable cannot be both set`}},
		{name: "update to an invalid label value", resource: res, old: pdb("{minAvailable: 1, selector: {matchLabels: {app: web}}}"),
			obj:  "metadata: {name: p, resourceVersion: \"3\"}\nspec: {minAvailable: 1, selector: {matchLabels: {app: \"bad value\"}}}",
			want: []string{`spec.selector.matchLabels: Invalid value: "bad value": ` + labelValueMsg}},
		{name: "status update negative", resource: res, old: pdb("{minAvailable: 1}"),
			obj: "metadata: {name: p, resourceVersion: \"3\"}\nspec: {minAvailable: 1}\nstatus: {expectedPods: -1, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, " +
				"conditions: [{type: DisruptionAllowed, status: Maybe, reason: SufficientPods, lastTransitionTime: \"2024-01-01T00:00:00Z\"}]}",
			want: []string{
				`status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"`,
				"status.expectedPods: Invalid value: -1: must be greater than or equal to 0"}},
	})
}
