// Package v1 holds the audit.k8s.io/v1 API types kube-apiserver reads and
// writes for auditing: the Policy of --audit-policy-file and the Event of
// its log backend, with the same Go shape and JSON tags as upstream's
// k8s.io/apiserver/pkg/apis/audit/v1, so a policy file and an audit log
// line are upstream's bytes. regis does not depend on upstream's package:
// the types and their DeepCopy methods are written here. The package
// knows nothing of evaluation or validation: internal/audit holds them.
package v1
