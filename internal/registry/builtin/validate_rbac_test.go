package builtin_test

import "testing"

func TestRBACValidation(t *testing.T) {
	const binding = "metadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: User, name: alice}]"
	runVerdicts(t, []verdictCase{
		{name: "role without verbs", resource: "rbac.authorization.k8s.io/roles",
			obj:  "metadata: {name: r}\nrules: [{apiGroups: [\"\"], resources: [pods]}]",
			want: []string{"rules[0].verbs: Required value"}},
		{name: "role", resource: "rbac.authorization.k8s.io/roles",
			obj: "metadata: {name: r}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]"},
		{name: "namespaced non-resource URL", resource: "rbac.authorization.k8s.io/roles",
			obj:  "metadata: {name: r}\nrules: [{nonResourceURLs: [/healthz], verbs: [get]}]",
			want: []string{`rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs`}},
		{name: "cluster role without groups", resource: "rbac.authorization.k8s.io/clusterroles",
			obj:  "metadata: {name: r}\nrules: [{resources: [pods], verbs: [get]}]",
			want: []string{"rules[0].apiGroups: Required value: resource rules must supply at least one api group"}},
		{name: "binding", resource: "rbac.authorization.k8s.io/rolebindings", obj: binding},
		{name: "binding bad kinds", resource: "rbac.authorization.k8s.io/rolebindings",
			obj: "metadata: {name: rb}\nroleRef: {apiGroup: x, kind: Pod, name: r}\nsubjects: [{kind: Robot, name: alice}]",
			want: []string{
				`roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"`,
				`roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"`,
				`subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`,
			}},
		{name: "cluster binding to a role", resource: "rbac.authorization.k8s.io/clusterrolebindings",
			obj: "metadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: ServiceAccount, name: default}]",
			want: []string{
				`roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`,
				"subjects[0].namespace: Required value",
			}},
		{name: "change roleRef", resource: "rbac.authorization.k8s.io/rolebindings", old: binding,
			obj:  "metadata: {name: rb}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: other}\nsubjects: [{kind: User, name: alice}]",
			want: []string{`roleRef: Invalid value: {"APIGroup":"rbac.authorization.k8s.io","Kind":"Role","Name":"other"}: field is immutable`}},
	})
}

func TestLeaseValidation(t *testing.T) {
	runVerdicts(t, []verdictCase{
		{name: "zero duration", resource: "coordination.k8s.io/leases",
			obj: "metadata: {name: l}\nspec: {leaseDurationSeconds: 0}", want: []string{"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"}},
		{name: "negative transitions", resource: "coordination.k8s.io/leases",
			obj: "metadata: {name: l}\nspec: {leaseTransitions: -1}", want: []string{"spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"}},
		{name: "preferred holder dropped", resource: "coordination.k8s.io/leases",
			obj: "metadata: {name: l}\nspec: {preferredHolder: x}"},
	})
}
