package controller

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The API Priority and Fairness configuration kube-apiserver keeps: the
// objects of k8s.io/apiserver pkg/apis/flowcontrol/bootstrap/default.go,
// written here as data. Mandatory ones are always put back as they are;
// suggested ones while their autoupdate-spec annotation says "true".

// The names of upstream's users and groups (k8s.io/apiserver
// pkg/authentication/user and serviceaccount).
const (
	groupMasters         = "system:masters"
	groupNodes           = "system:nodes"
	groupUnauthenticated = "system:unauthenticated"
	groupAuthenticated   = "system:authenticated"
	groupServiceAccounts = "system:serviceaccounts"
	userControllerMgr    = "system:kube-controller-manager"
	userScheduler        = "system:kube-scheduler"
)

// mandatoryPriorityLevels and mandatoryFlowSchemas are upstream's
// Mandatory* lists, in their order.
func mandatoryPriorityLevels() []*flowcontrolv1.PriorityLevelConfiguration {
	return []*flowcontrolv1.PriorityLevelConfiguration{
		limitedLevel(flowcontrolv1.PriorityLevelConfigurationNameCatchAll, 5, 0, nil),
		newPriorityLevel(flowcontrolv1.PriorityLevelConfigurationNameExempt, flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementExempt,
			Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{
				NominalConcurrencyShares: ptrTo[int32](0), LendablePercent: ptrTo[int32](0)},
		}),
	}
}

func mandatoryFlowSchemas() []*flowcontrolv1.FlowSchema {
	return []*flowcontrolv1.FlowSchema{
		newFlowSchema(flowcontrolv1.FlowSchemaNameExempt, flowcontrolv1.PriorityLevelConfigurationNameExempt, 1, "",
			everything(groups(groupMasters))),
		newFlowSchema(flowcontrolv1.FlowSchemaNameCatchAll, flowcontrolv1.PriorityLevelConfigurationNameCatchAll, 10000,
			flowcontrolv1.FlowDistinguisherMethodByUserType, everything(groups(groupUnauthenticated, groupAuthenticated))),
	}
}

// suggestedPriorityLevels and suggestedFlowSchemas are upstream's
// Suggested* lists, in their order.
func suggestedPriorityLevels() []*flowcontrolv1.PriorityLevelConfiguration {
	return []*flowcontrolv1.PriorityLevelConfiguration{
		limitedLevel("system", 30, 33, queuing(64, 6)),
		limitedLevel("node-high", 40, 25, queuing(64, 6)),
		limitedLevel("leader-election", 10, 0, queuing(16, 4)),
		limitedLevel("workload-high", 40, 50, queuing(128, 6)),
		limitedLevel("workload-low", 100, 90, queuing(128, 6)),
		limitedLevel("global-default", 20, 50, queuing(128, 6)),
	}
}

func suggestedFlowSchemas() []*flowcontrolv1.FlowSchema {
	byUser, byNamespace := flowcontrolv1.FlowDistinguisherMethodByUserType, flowcontrolv1.FlowDistinguisherMethodByNamespaceType
	allClients := groups(groupUnauthenticated, groupAuthenticated)
	leases := func(verbs ...string) flowcontrolv1.ResourcePolicyRule {
		return flowcontrolv1.ResourcePolicyRule{Verbs: verbs, APIGroups: []string{"coordination.k8s.io"},
			Resources: []string{"leases"}, Namespaces: []string{flowcontrolv1.NamespaceEvery}}
	}
	return []*flowcontrolv1.FlowSchema{
		newFlowSchema("system-nodes", "system", 500, byUser, everything(groups(groupNodes))),
		newFlowSchema("system-node-high", "node-high", 400, byUser, flowcontrolv1.PolicyRulesWithSubjects{
			Subjects: groups(groupNodes),
			ResourceRules: []flowcontrolv1.ResourcePolicyRule{
				{Verbs: []string{flowcontrolv1.VerbAll}, APIGroups: []string{""}, Resources: []string{"nodes", "nodes/status"},
					Namespaces: []string{flowcontrolv1.NamespaceEvery}, ClusterScope: true},
				leases(flowcontrolv1.VerbAll),
			},
		}),
		newFlowSchema("probes", flowcontrolv1.PriorityLevelConfigurationNameExempt, 2, "", flowcontrolv1.PolicyRulesWithSubjects{
			Subjects: allClients,
			NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{
				{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/readyz", "/livez"}}},
		}),
		newFlowSchema("system-leader-election", "leader-election", 100, byUser, flowcontrolv1.PolicyRulesWithSubjects{
			Subjects:      append(users(userControllerMgr, userScheduler), kubeSystemServiceAccounts()...),
			ResourceRules: []flowcontrolv1.ResourcePolicyRule{leases("get", "create", "update")},
		}),
		newFlowSchema("kube-controller-manager", "workload-high", 800, byNamespace, everything(users(userControllerMgr))),
		newFlowSchema("kube-scheduler", "workload-high", 800, byNamespace, everything(users(userScheduler))),
		newFlowSchema("kube-system-service-accounts", "workload-high", 900, byNamespace, everything(kubeSystemServiceAccounts())),
		newFlowSchema("service-accounts", "workload-low", 9000, byUser, everything(groups(groupServiceAccounts))),
		newFlowSchema("global-default", "global-default", 9900, byUser, everything(allClients)),
	}
}

// newPriorityLevel and newFlowSchema are upstream's constructors: every
// object carries autoupdate-spec "true".
func newPriorityLevel(name string, spec flowcontrolv1.PriorityLevelConfigurationSpec) *flowcontrolv1.PriorityLevelConfiguration {
	return &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: autoUpdated(name), Spec: spec}
}

func newFlowSchema(name, level string, precedence int32, dm flowcontrolv1.FlowDistinguisherMethodType, rules ...flowcontrolv1.PolicyRulesWithSubjects) *flowcontrolv1.FlowSchema {
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: autoUpdated(name), Spec: flowcontrolv1.FlowSchemaSpec{
		PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: level},
		MatchingPrecedence:         precedence,
		Rules:                      rules,
	}}
	if dm != "" {
		fs.Spec.DistinguisherMethod = &flowcontrolv1.FlowDistinguisherMethod{Type: dm}
	}
	return fs
}

func autoUpdated(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "true"}}
}

// limitedLevel is a Limited priority level: it queues with q, or rejects
// when q is nil.
func limitedLevel(name string, shares, lendable int32, q *flowcontrolv1.QueuingConfiguration) *flowcontrolv1.PriorityLevelConfiguration {
	resp := flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}
	if q != nil {
		resp = flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: q}
	}
	return newPriorityLevel(name, flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited,
		Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			NominalConcurrencyShares: ptrTo(shares), LendablePercent: ptrTo(lendable), LimitResponse: resp},
	})
}

// queuing is a queuing configuration with upstream's queue length of 50.
func queuing(queues, handSize int32) *flowcontrolv1.QueuingConfiguration {
	return &flowcontrolv1.QueuingConfiguration{Queues: queues, HandSize: handSize, QueueLengthLimit: 50}
}

// everything is the rule of subjects over every request: every verb of
// every resource, cluster-scoped or in any namespace, and every
// non-resource URL.
func everything(subjects []flowcontrolv1.Subject) flowcontrolv1.PolicyRulesWithSubjects {
	all := []string{flowcontrolv1.VerbAll}
	return flowcontrolv1.PolicyRulesWithSubjects{
		Subjects: subjects,
		ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: all, APIGroups: []string{flowcontrolv1.APIGroupAll},
			Resources: []string{flowcontrolv1.ResourceAll}, Namespaces: []string{flowcontrolv1.NamespaceEvery}, ClusterScope: true}},
		NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: all, NonResourceURLs: []string{flowcontrolv1.NonResourceAll}}},
	}
}

func groups(names ...string) []flowcontrolv1.Subject {
	out := make([]flowcontrolv1.Subject, len(names))
	for i, n := range names {
		out[i] = flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: n}}
	}
	return out
}

func users(names ...string) []flowcontrolv1.Subject {
	out := make([]flowcontrolv1.Subject, len(names))
	for i, n := range names {
		out[i] = flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: n}}
	}
	return out
}

// kubeSystemServiceAccounts is every service account of kube-system.
func kubeSystemServiceAccounts() []flowcontrolv1.Subject {
	return []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindServiceAccount,
		ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Name: flowcontrolv1.NameAll, Namespace: metav1.NamespaceSystem}}}
}

func ptrTo[T any](v T) *T { return &v }
