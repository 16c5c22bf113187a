package bootstrap

import rbacv1 "k8s.io/api/rbac/v1"

// clusterRoleBindingSpecs bind the cluster roles (upstream's
// ClusterRoleBindings and ControllerRoleBindings).
func clusterRoleBindingSpecs() []bindingSpec {
	return []bindingSpec{
		{Name: "cluster-admin", Subjects: []rbacv1.Subject{group("system:masters")}},
		{Name: "system:basic-user", Subjects: []rbacv1.Subject{group("system:authenticated")}},
		{Name: "system:cluster-trust-bundle-discovery", Subjects: []rbacv1.Subject{group("system:serviceaccounts")}},
		{Name: "system:controller:attachdetach-controller", Subjects: []rbacv1.Subject{sa("kube-system", "attachdetach-controller")}},
		{Name: "system:controller:certificate-controller", Subjects: []rbacv1.Subject{sa("kube-system", "certificate-controller")}},
		{Name: "system:controller:clusterrole-aggregation-controller", Subjects: []rbacv1.Subject{sa("kube-system", "clusterrole-aggregation-controller")}},
		{Name: "system:controller:cronjob-controller", Subjects: []rbacv1.Subject{sa("kube-system", "cronjob-controller")}},
		{Name: "system:controller:daemon-set-controller", Subjects: []rbacv1.Subject{sa("kube-system", "daemon-set-controller")}},
		{Name: "system:controller:deployment-controller", Subjects: []rbacv1.Subject{sa("kube-system", "deployment-controller")}},
		{Name: "system:controller:device-taint-eviction-controller", Subjects: []rbacv1.Subject{sa("kube-system", "device-taint-eviction-controller")}},
		{Name: "system:controller:disruption-controller", Subjects: []rbacv1.Subject{sa("kube-system", "disruption-controller")}},
		{Name: "system:controller:endpoint-controller", Subjects: []rbacv1.Subject{sa("kube-system", "endpoint-controller")}},
		{Name: "system:controller:endpointslice-controller", Subjects: []rbacv1.Subject{sa("kube-system", "endpointslice-controller")}},
		{Name: "system:controller:endpointslicemirroring-controller", Subjects: []rbacv1.Subject{sa("kube-system", "endpointslicemirroring-controller")}},
		{Name: "system:controller:ephemeral-volume-controller", Subjects: []rbacv1.Subject{sa("kube-system", "ephemeral-volume-controller")}},
		{Name: "system:controller:expand-controller", Subjects: []rbacv1.Subject{sa("kube-system", "expand-controller")}},
		{Name: "system:controller:generic-garbage-collector", Subjects: []rbacv1.Subject{sa("kube-system", "generic-garbage-collector")}},
		{Name: "system:controller:horizontal-pod-autoscaler", Subjects: []rbacv1.Subject{sa("kube-system", "horizontal-pod-autoscaler")}},
		{Name: "system:controller:job-controller", Subjects: []rbacv1.Subject{sa("kube-system", "job-controller")}},
		{Name: "system:controller:kube-apiserver-serving-clustertrustbundle-publisher", Subjects: []rbacv1.Subject{sa("kube-system", "kube-apiserver-serving-clustertrustbundle-publisher")}},
		{Name: "system:controller:legacy-service-account-token-cleaner", Subjects: []rbacv1.Subject{sa("kube-system", "legacy-service-account-token-cleaner")}},
		{Name: "system:controller:namespace-controller", Subjects: []rbacv1.Subject{sa("kube-system", "namespace-controller")}},
		{Name: "system:controller:node-controller", Subjects: []rbacv1.Subject{sa("kube-system", "node-controller")}},
		{Name: "system:controller:persistent-volume-binder", Subjects: []rbacv1.Subject{sa("kube-system", "persistent-volume-binder")}},
		{Name: "system:controller:pod-garbage-collector", Subjects: []rbacv1.Subject{sa("kube-system", "pod-garbage-collector")}},
		{Name: "system:controller:podcertificaterequestcleaner", Subjects: []rbacv1.Subject{sa("kube-system", "podcertificaterequestcleaner")}},
		{Name: "system:controller:pv-protection-controller", Subjects: []rbacv1.Subject{sa("kube-system", "pv-protection-controller")}},
		{Name: "system:controller:pvc-protection-controller", Subjects: []rbacv1.Subject{sa("kube-system", "pvc-protection-controller")}},
		{Name: "system:controller:replicaset-controller", Subjects: []rbacv1.Subject{sa("kube-system", "replicaset-controller")}},
		{Name: "system:controller:replication-controller", Subjects: []rbacv1.Subject{sa("kube-system", "replication-controller")}},
		{Name: "system:controller:resource-claim-controller", Subjects: []rbacv1.Subject{sa("kube-system", "resource-claim-controller")}},
		{Name: "system:controller:resourcequota-controller", Subjects: []rbacv1.Subject{sa("kube-system", "resourcequota-controller")}},
		{Name: "system:controller:root-ca-cert-publisher", Subjects: []rbacv1.Subject{sa("kube-system", "root-ca-cert-publisher")}},
		{Name: "system:controller:route-controller", Subjects: []rbacv1.Subject{sa("kube-system", "route-controller")}},
		{Name: "system:controller:selinux-warning-controller", Subjects: []rbacv1.Subject{sa("kube-system", "selinux-warning-controller")}},
		{Name: "system:controller:service-account-controller", Subjects: []rbacv1.Subject{sa("kube-system", "service-account-controller")}},
		{Name: "system:controller:service-cidrs-controller", Subjects: []rbacv1.Subject{sa("kube-system", "service-cidrs-controller")}},
		{Name: "system:controller:service-controller", Subjects: []rbacv1.Subject{sa("kube-system", "service-controller")}},
		{Name: "system:controller:statefulset-controller", Subjects: []rbacv1.Subject{sa("kube-system", "statefulset-controller")}},
		{Name: "system:controller:storage-version-migrator-controller", Subjects: []rbacv1.Subject{sa("kube-system", "storage-version-migrator-controller")}},
		{Name: "system:controller:ttl-after-finished-controller", Subjects: []rbacv1.Subject{sa("kube-system", "ttl-after-finished-controller")}},
		{Name: "system:controller:ttl-controller", Subjects: []rbacv1.Subject{sa("kube-system", "ttl-controller")}},
		{Name: "system:controller:validatingadmissionpolicy-status-controller", Subjects: []rbacv1.Subject{sa("kube-system", "validatingadmissionpolicy-status-controller")}},
		{Name: "system:controller:volumeattributesclass-protection-controller", Subjects: []rbacv1.Subject{sa("kube-system", "volumeattributesclass-protection-controller")}},
		{Name: "system:discovery", Subjects: []rbacv1.Subject{group("system:authenticated")}},
		{Name: "system:kube-controller-manager", Subjects: []rbacv1.Subject{user("system:kube-controller-manager")}},
		{Name: "system:kube-dns", Subjects: []rbacv1.Subject{sa("kube-system", "kube-dns")}},
		{Name: "system:kube-scheduler", Subjects: []rbacv1.Subject{user("system:kube-scheduler")}},
		{Name: "system:monitoring", Subjects: []rbacv1.Subject{group("system:monitoring")}},
		{Name: "system:node"},
		{Name: "system:node-proxier", Subjects: []rbacv1.Subject{user("system:kube-proxy")}},
		{Name: "system:public-info-viewer", Subjects: []rbacv1.Subject{group("system:authenticated"), group("system:unauthenticated")}},
		{Name: "system:service-account-issuer-discovery", Subjects: []rbacv1.Subject{group("system:serviceaccounts")}},
		{Name: "system:volume-scheduler", Subjects: []rbacv1.Subject{user("system:kube-scheduler")}},
	}
}

// roleSpecs are the roles of kube-system and kube-public (upstream's
// NamespaceRoles).
func roleSpecs() []roleSpec {
	return []roleSpec{
		{Namespace: "kube-public", Name: "system:controller:bootstrap-signer", Rules: []rbacv1.PolicyRule{
			rule(read, g(""), "configmaps"),
			named(v("update"), g(""), s("configmaps"), "cluster-info"),
			rule(v("create", "patch", "update"), g("", "events.k8s.io"), "events"),
		}},
		{Namespace: "kube-system", Name: "extension-apiserver-authentication-reader", Rules: []rbacv1.PolicyRule{
			named(read, g(""), s("configmaps"), "extension-apiserver-authentication"),
		}},
		{Namespace: "kube-system", Name: "system::leader-locking-kube-controller-manager", Rules: []rbacv1.PolicyRule{
			rule(v("create", "get", "list", "update", "watch"), g("coordination.k8s.io"), "leases"),
			rule(v("create", "get", "list", "update", "watch"), g("coordination.k8s.io"), "leasecandidates"),
		}},
		{Namespace: "kube-system", Name: "system::leader-locking-kube-scheduler", Rules: []rbacv1.PolicyRule{
			rule(v("create", "get", "list", "update", "watch"), g("coordination.k8s.io"), "leases"),
			rule(v("create", "get", "list", "update", "watch"), g("coordination.k8s.io"), "leasecandidates"),
		}},
		{Namespace: "kube-system", Name: "system:controller:bootstrap-signer", Rules: []rbacv1.PolicyRule{
			rule(read, g(""), "secrets"),
		}},
		{Namespace: "kube-system", Name: "system:controller:cloud-provider", Rules: []rbacv1.PolicyRule{
			rule(v("create", "get", "list", "watch"), g(""), "configmaps"),
		}},
		{Namespace: "kube-system", Name: "system:controller:token-cleaner", Rules: []rbacv1.PolicyRule{
			rule(v("delete", "get", "list", "watch"), g(""), "secrets"),
			rule(v("create", "patch", "update"), g("", "events.k8s.io"), "events"),
		}},
	}
}

// roleBindingSpecs bind the namespaced roles (upstream's
// NamespaceRoleBindings).
func roleBindingSpecs() []bindingSpec {
	return []bindingSpec{
		{Namespace: "kube-public", Name: "system:controller:bootstrap-signer", Subjects: []rbacv1.Subject{sa("kube-system", "bootstrap-signer")}},
		{Namespace: "kube-system", Name: "system::extension-apiserver-authentication-reader", Role: "extension-apiserver-authentication-reader", Subjects: []rbacv1.Subject{user("system:kube-controller-manager"), user("system:kube-scheduler")}},
		{Namespace: "kube-system", Name: "system::leader-locking-kube-controller-manager", Subjects: []rbacv1.Subject{user("system:kube-controller-manager"), sa("kube-system", "kube-controller-manager"), sa("kube-system", "leader-election-controller")}},
		{Namespace: "kube-system", Name: "system::leader-locking-kube-scheduler", Subjects: []rbacv1.Subject{user("system:kube-scheduler"), sa("kube-system", "kube-scheduler")}},
		{Namespace: "kube-system", Name: "system:controller:bootstrap-signer", Subjects: []rbacv1.Subject{sa("kube-system", "bootstrap-signer")}},
		{Namespace: "kube-system", Name: "system:controller:cloud-provider", Subjects: []rbacv1.Subject{sa("kube-system", "cloud-provider")}},
		{Namespace: "kube-system", Name: "system:controller:token-cleaner", Subjects: []rbacv1.Subject{sa("kube-system", "token-cleaner")}},
	}
}
