package main

import (
	"fmt"
	"io"
	"strings"
)

// need is a group of conformance tests that cannot pass on an API server
// alone: they fail against the oracle kube-apiserver started the same way
// (make e2e-oracle E2EFLAGS=-all), waiting for what no component makes.
type need struct {
	// prefix starts the full name of each test of the group.
	prefix string
	reason string
}

// What the tests wait for. Without a kubelet no pod ever runs (nor
// reports a status); the controllers are kube-controller-manager's.
const (
	kubelet      = "a pod that runs (a kubelet)"
	webhookPod   = "a webhook server in a pod of a Deployment (deployment controller, kubelet)"
	samplePod    = "the sample API server in a pod of a Deployment (deployment controller, kubelet)"
	deployment   = "the deployment and replica set controllers, and a kubelet"
	replicaSet   = "the replica set controller and a kubelet"
	rc           = "the replication controller manager and a kubelet"
	job          = "the job controller and a kubelet"
	cronJob      = "the cronjob and job controllers"
	daemonSet    = "the daemon set controller and a kubelet"
	statefulSet  = "the stateful set controller and a kubelet"
	disruption   = "the disruption controller (a PodDisruptionBudget's status)"
	quota        = "the resource quota controller (a ResourceQuota's status)"
	gcOfPods     = "the replication controller or deployment controllers make the dependents the garbage collector deletes"
	gcCircle     = "the garbage collector (kube-apiserver has none; regis has one)"
	defaultSA    = "the service account controller (the test waits for a namespace's default service account)"
	rootCA       = "the root CA publisher controller (kube-root-ca.crt in every namespace)"
	saAdmission  = "the ServiceAccount admission plugin, off as in oracle/diff (no controller makes the default service accounts it needs)"
	reconciler   = "the kubernetes service's Endpoints, written by kube-apiserver's endpoint reconciler, off as in oracle/diff and envtest (--endpoint-reconciler-type=none)"
	endpoints    = "the endpoints controller"
	endpointSlc  = "the endpoint slice controller"
	mirroring    = "the endpoint slice mirroring controller"
	twoNodes     = "two schedulable nodes (there is one fake node)"
	scheduler    = "the scheduler and a kubelet"
	taints       = "the taint eviction controller and a kubelet"
	pvcProtect   = "the PVC protection controller (removes the kubernetes.io/pvc-protection finalizer)"
	vacProtect   = "the VolumeAttributesClass protection controller (removes its finalizer)"
	kubectlPods  = "a pod that runs, or the replication controller manager (kubectl on running pods)"
	servicePods  = "pods that run behind the service (a kubelet, the endpoints controllers)"
	dnsPods      = "a pod that runs and resolves names (a kubelet, cluster DNS)"
	nsController = "the service account controller (a namespace's default service account), then the namespace controller"
)

// needs are left out of make e2e and make e2e-oracle (run them with -all).
var needs = []need{
	{"[sig-api-machinery] AdmissionWebhook ", webhookPod},
	{"[sig-api-machinery] Aggregator ", samplePod},
	{"[sig-api-machinery] CustomResourceConversionWebhook ", webhookPod},
	{"[sig-api-machinery] CustomResourceFieldSelectors ", webhookPod},
	{"[sig-api-machinery] Garbage collector should not be blocked by dependency circle", gcCircle},
	{"[sig-api-machinery] Garbage collector ", gcOfPods},
	{"[sig-api-machinery] Namespaces should ensure that all ", nsController},
	{"[sig-api-machinery] OrderedNamespaceDeletion ", nsController},
	{"[sig-api-machinery] ResourceQuota should apply changes to a resourcequota status", quota},
	{"[sig-api-machinery] ResourceQuota should create a ResourceQuota and ", quota},
	{"[sig-api-machinery] ResourceQuota should verify ", quota},
	{"[sig-apps] ControllerRevision ", daemonSet},
	{"[sig-apps] CronJob should not schedule new jobs", cronJob},
	{"[sig-apps] CronJob should replace", cronJob},
	{"[sig-apps] CronJob should schedule", cronJob},
	{"[sig-apps] Daemon set ", daemonSet},
	{"[sig-apps] Deployment ", deployment},
	{"[sig-apps] DisruptionController ", disruption},
	{"[sig-apps] Job ", job},
	{"[sig-apps] ReplicaSet ", replicaSet},
	{"[sig-apps] ReplicationController ", rc},
	{"[sig-apps] StatefulSet ", statefulSet},
	{"[sig-architecture] Conformance Tests should have at least two untainted nodes", twoNodes},
	{"[sig-auth] Projected PodCertificate [FeatureGate:PodCertificateRequest] [FeatureGate:ClusterTrustBundle] [FeatureGate:ClusterTrustBundleProjection] MaxExpirationSeconds validations should issue", kubelet},
	{"[sig-auth] Projected PodCertificate [FeatureGate:PodCertificateRequest] [FeatureGate:ClusterTrustBundle] [FeatureGate:ClusterTrustBundleProjection] should ", kubelet},
	{"[sig-auth] ServiceAccounts ServiceAccountIssuerDiscovery ", kubelet},
	{"[sig-auth] ServiceAccounts should allow opting out of API token automount", saAdmission},
	{"[sig-auth] ServiceAccounts should guarantee kube-root-ca.crt", rootCA},
	{"[sig-auth] ServiceAccounts should mount an API token into pods", kubelet},
	{"[sig-auth] ServiceAccounts should mount projected service account token", saAdmission},
	{"[sig-auth] [FeatureGate:ClusterTrustBundle] [FeatureGate:ClusterTrustBundleProjection] should ", kubelet},
	{"[sig-cli] Kubectl client Guestbook ", kubectlPods},
	{"[sig-cli] Kubectl client Kubectl describe ", kubectlPods},
	{"[sig-cli] Kubectl client Kubectl expose ", kubectlPods},
	{"[sig-cli] Kubectl client Kubectl label ", kubectlPods},
	{"[sig-cli] Kubectl client Kubectl patch ", kubectlPods},
	{"[sig-cli] Kubectl client Kubectl replace ", kubectlPods},
	{"[sig-cli] Kubectl client Update Demo ", kubectlPods},
	{"[sig-cli] Kubectl logs ", kubectlPods},
	{"[sig-network] API Server should have Endpoints and EndpointSlices pointing to API Server", reconciler},
	{"[sig-network] DNS ", dnsPods},
	{"[sig-network] EndpointSlice should create ", endpointSlc},
	{"[sig-network] EndpointSlice should support a Service with ", servicePods},
	{"[sig-network] EndpointSliceMirroring ", mirroring},
	{"[sig-network] EndpointsController ", endpoints},
	{"[sig-network] HostPort ", scheduler},
	{"[sig-network] Networking ", kubelet},
	{"[sig-network] Proxy ", servicePods},
	{"[sig-network] Service endpoints latency", servicePods},
	{"[sig-network] Services should be able to ", servicePods},
	{"[sig-network] Services should have session affinity", servicePods},
	{"[sig-network] Services should serve ", servicePods},
	{"[sig-node] ConfigMap should be consumable ", kubelet},
	{"[sig-node] Container Lifecycle Hook ", kubelet},
	{"[sig-node] Container Runtime ", kubelet},
	{"[sig-node] Containers ", kubelet},
	{"[sig-node] Downward API ", kubelet},
	{"[sig-node] Ephemeral Containers ", kubelet},
	{"[sig-node] ImageVolume ", kubelet},
	{"[sig-node] InitContainer ", kubelet},
	{"[sig-node] Kubelet when scheduling a busybox command in a pod", kubelet},
	{"[sig-node] Kubelet when scheduling a busybox command that always fails in a pod should have", kubelet},
	{"[sig-node] Kubelet when scheduling a read only busybox container", kubelet},
	{"[sig-node] Kubelet when scheduling an agnhost Pod", kubelet},
	{"[sig-node] KubeletManagedEtcHosts ", kubelet},
	{"[sig-node] NoExecuteTaintManager ", taints},
	{"[sig-node] Pod InPlace Resize ", kubelet},
	{"[sig-node] Pods Extended (pod generation) ", kubelet},
	{"[sig-node] Pods should ", kubelet},
	{"[sig-node] PreStop ", kubelet},
	{"[sig-node] Probing container should ", kubelet},
	{"[sig-node] Probing container with readiness probe should not be ready", kubelet},
	{"[sig-node] RuntimeClass should schedule ", scheduler},
	{"[sig-node] Secrets should be consumable ", kubelet},
	{"[sig-node] Security Context ", kubelet},
	{"[sig-node] Sysctls [LinuxOnly] should support sysctls", kubelet},
	{"[sig-node] Variable Expansion ", kubelet},
	{"[sig-scheduling] SchedulerPredicates ", scheduler},
	{"[sig-scheduling] SchedulerPreemption PreemptionExecutionPath ", scheduler},
	{"[sig-scheduling] SchedulerPreemption validates ", scheduler},
	{"[sig-storage] ConfigMap binary data", kubelet},
	{"[sig-storage] ConfigMap optional updates", kubelet},
	{"[sig-storage] ConfigMap should be consumable", kubelet},
	{"[sig-storage] ConfigMap updates", kubelet},
	{"[sig-storage] Downward API volume ", kubelet},
	{"[sig-storage] EmptyDir ", kubelet},
	{"[sig-storage] PersistentVolumes CSI Conformance should run through the lifecycle of a PV and a PVC", pvcProtect},
	{"[sig-storage] Projected ", kubelet},
	{"[sig-storage] Secrets optional updates", kubelet},
	{"[sig-storage] Secrets should be able to mount", kubelet},
	{"[sig-storage] Secrets should be consumable", kubelet},
	{"[sig-storage] Subpath ", kubelet},
	{"[sig-storage] VolumeAttributesClass ", vacProtect},
}

// needOf returns why name cannot pass on an API server alone, or "".
func needOf(name string) string {
	for _, n := range needs {
		if strings.HasPrefix(name, n.prefix) {
			return n.reason
		}
	}
	return ""
}

// printNeeds prints needs as a markdown table.
func printNeeds(w io.Writer) {
	fmt.Fprintln(w, "| Tests (full names start with) | Need |")
	fmt.Fprintln(w, "|---|---|")
	for _, n := range needs {
		fmt.Fprintf(w, "| `%s` | %s |\n", n.prefix, n.reason)
	}
}

// checkNeeds checks needs against the oracle's results of a run with
// -all: a test of needs that passes there is listed wrongly, and a test
// that fails there and is not in needs is a failure to look into.
func checkNeeds(w io.Writer, oraclePath string) error {
	oracle, err := readResults(oraclePath)
	if err != nil {
		return err
	}
	var wrong, unexplained int
	for _, name := range sortedNames(oracle) {
		r := oracle[name]
		switch need := needOf(name); {
		case r.State == "passed" && need != "":
			wrong++
			fmt.Fprintf(w, "passes on the oracle, listed as needing %s: %s\n", need, name)
		case r.State != "passed" && need == "":
			unexplained++
			fmt.Fprintf(w, "fails on the oracle, not in needs.go: %s\n  %s\n", name, r.summary())
		}
	}
	fmt.Fprintf(w, "%d tests: %d listed in needs.go but passing, %d failing but not listed\n", len(oracle), wrong, unexplained)
	if wrong+unexplained > 0 {
		return fmt.Errorf("needs.go does not match %s", oraclePath)
	}
	return nil
}
