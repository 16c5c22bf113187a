package builtin_test

import "testing"

// Core's ValidateObjectMeta refuses an unqualified metadata finalizer that
// is not a standard one; the groups validated with apimachinery's alone
// accept it.
func TestFinalizerNames(t *testing.T) {
	const (
		meta = "metadata: {name: x, finalizers: [custom, example.com/ok, orphan, foregroundDeletion, kubernetes]}\n"
		msg  = `metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified`
	)
	runVerdicts(t, []verdictCase{
		{name: "configmap", resource: "configmaps", obj: meta, want: []string{msg}},
		{name: "namespace", resource: "namespaces", obj: meta, want: []string{msg}},
		{name: "role", resource: "rbac.authorization.k8s.io/roles", obj: meta + "rules: []", want: []string{msg}},
		{name: "secret update", resource: "secrets", old: "metadata: {name: x}", obj: "metadata: {name: x, finalizers: [custom]}",
			want: []string{msg}},
		{name: "lease", resource: "coordination.k8s.io/leases", obj: meta},
		{name: "pdb", resource: "policy/poddisruptionbudgets", obj: meta + "spec: {minAvailable: 1}"},
		{name: "runtimeclass", resource: "node.k8s.io/runtimeclasses", obj: meta + "handler: h"},
		{name: "webhook configuration", resource: "admissionregistration.k8s.io/validatingwebhookconfigurations", obj: meta},
	})
}
