package apiserver

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func ptr[T any](v T) *T { return &v }

// bigPod is a pod with many fields: containers with ports, env,
// resources, probes and mounts, init and ephemeral containers, volumes,
// tolerations, affinity, a security context.
func bigPod() *corev1.Pod {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 5}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "default", Labels: map[string]string{"app": "web", "tier": "fe"},
			Annotations: map[string]string{"a": "b", "c": ""}, Finalizers: []string{"example.com/f"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u-1", Controller: ptr(true)}}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox", Command: []string{"true"}}},
			Containers: []corev1.Container{{
				Name: "c", Image: "busybox", Command: []string{"sh", "-c"}, Args: []string{"sleep 1"}, WorkingDir: "/w",
				Ports: []corev1.ContainerPort{{ContainerPort: 80, Name: "http"}, {ContainerPort: 443, Protocol: "TCP", Name: "https"}, {ContainerPort: 53, Protocol: "UDP"}},
				Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "C", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}},
				EnvFrom:        []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
				Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("1Gi")}, Requests: corev1.ResourceList{"cpu": resource.MustParse("100m")}},
				VolumeMounts:   []corev1.VolumeMount{{Name: "data", MountPath: "/data"}, {Name: "cfg", MountPath: "/cfg", ReadOnly: true}},
				LivenessProbe:  probe,
				ReadinessProbe: probe,
				Lifecycle:      &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sleep", "5"}}}},
				SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
					AllowPrivilegeEscalation: ptr(false)},
			}, {Name: "side", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: "busybox"}, TargetContainerName: "c"}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"},
					Items: []corev1.KeyToPath{{Key: "a", Path: "a"}}}}}},
			Tolerations:  []corev1.Toleration{{Key: "k", Operator: "Exists", Effect: "NoSchedule"}, {Key: "t", Operator: "Equal", Value: "v", TolerationSeconds: ptr(int64(30))}},
			NodeSelector: map[string]string{"disk": "ssd"},
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: "In", Values: []string{"a", "b"}}}}}}},
				PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 10,
					PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}}},
			SecurityContext:           &corev1.PodSecurityContext{FSGroup: ptr(int64(2000)), Sysctls: []corev1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}}},
			ImagePullSecrets:          []corev1.LocalObjectReference{{Name: "pull"}},
			HostAliases:               []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"a.local"}}},
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
			ReadinessGates:            []corev1.PodReadinessGate{{ConditionType: "example.com/ready"}},
			DNSConfig:                 &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr("2")}}},
		},
	}
}

func podWith(f func(*corev1.Pod)) *corev1.Pod {
	p := bigPod()
	f(p)
	return p
}

func trackCases(t *testing.T) []trackCase {
	replicas := int32(3)
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: bigPod().Spec}},
		Status: appsv1.DeploymentStatus{Replicas: 3, Conditions: []appsv1.DeploymentCondition{{Type: "Available", Status: "True"}}},
	}
	deploy.Spec.Template.Spec.EphemeralContainers = nil
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Type: corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}, {Name: "dns", Port: 53, Protocol: "UDP"}}},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}}},
	}
	cases := []trackCase{
		{name: "pod-big", resource: podsGVR, obj: bigPod(), manager: "kubectl-create", fast: true},
		{name: "pod-small", resource: podsGVR, obj: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, manager: "Go-http-client", fast: true},
		{name: "pod-status", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5", PodIPs: []corev1.PodIP{{IP: "10.0.0.5"}},
				Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Ready: true, Image: "busybox"}}}
		}), manager: "kubelet", fast: true},
		{name: "pod-no-manager", resource: podsGVR, obj: bigPod(), manager: "", fast: true},
		{name: "pod-manager-unicode", resource: podsGVR, obj: bigPod(), manager: "kübectl <x> \u2028 \"q\"", fast: true},
		{name: "pod-manager-invalid-utf8", resource: podsGVR, obj: bigPod(), manager: "bad\xffname", fast: false},
		{name: "pod-duplicate-env", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "A", Value: "2"})
		}), manager: "m", fast: false},
		{name: "pod-duplicate-containers", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, p.Spec.Containers[0], p.Spec.Containers[0])
		}), manager: "m", fast: false},
		{name: "pod-empty-lists", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.Spec.Containers[0].Args = []string{}
			p.Finalizers = []string{}
			p.Spec.NodeSelector = map[string]string{}
			p.Labels = map[string]string{}
		}), manager: "m", fast: true},
		{name: "pod-user-managed-fields", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "other", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1",
				FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:nodeSelector":{}}}`)}}}
		}), manager: "m", fast: false},
		{name: "pod-user-managed-fields-two", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.ManagedFields = []metav1.ManagedFieldsEntry{
				{Manager: "a", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{"f:tier":{}}}}`)}},
				{Manager: "m", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:hostname":{}}}`)}}}
		}), manager: "m", fast: false},
		{name: "pod-user-managed-fields-invalid", resource: podsGVR, obj: podWith(func(p *corev1.Pod) {
			p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "x", Operation: "Bogus"}}
		}), manager: "m", fast: false},
		{name: "pod-user-managed-fields-reset", resource: podsGVR, obj: podWith(func(p *corev1.Pod) { p.ManagedFields = []metav1.ManagedFieldsEntry{} }), manager: "m", fast: true},
		{name: "pod-user-managed-fields-empty-entry", resource: podsGVR, obj: podWith(func(p *corev1.Pod) { p.ManagedFields = []metav1.ManagedFieldsEntry{{}} }), manager: "m", fast: true},
		{name: "deployment", resource: gvr("apps", "v1", "deployments"), obj: deploy, manager: "kubectl-client-side-apply", fast: true},
		{name: "statefulset", resource: gvr("apps", "v1", "statefulsets"), obj: &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ss", Namespace: "default"},
			Spec: appsv1.StatefulSetSpec{ServiceName: "s", Selector: deploy.Spec.Selector, Template: deploy.Spec.Template,
				VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce"}, Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}}}}}}}, manager: "m", fast: true},
		{name: "daemonset", resource: gvr("apps", "v1", "daemonsets"), obj: &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "default"},
			Spec: appsv1.DaemonSetSpec{Selector: deploy.Spec.Selector, Template: deploy.Spec.Template}}, manager: "m", fast: true},
		{name: "service", resource: gvr("", "v1", "services"), obj: svc, manager: "m", fast: true},
		{name: "configmap", resource: gvr("", "v1", "configmaps"), obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default"},
			Data: map[string]string{"a": "1", "b.txt": strings.Repeat("x", 100)}, BinaryData: map[string][]byte{"bin": {0, 1, 2}}}, manager: "m", fast: true},
		{name: "configmap-name-only", resource: gvr("", "v1", "configmaps"), obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default"}}, manager: "m", fast: true, none: true},
		{name: "secret", resource: gvr("", "v1", "secrets"), obj: &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Type: corev1.SecretTypeOpaque,
			StringData: map[string]string{"k": "v"}, Data: map[string][]byte{"d": []byte("x")}}, manager: "m", fast: true},
		{name: "namespace", resource: gvr("", "v1", "namespaces"), obj: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Labels: map[string]string{"a": "b"}},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, manager: "m", fast: true},
		{name: "node", resource: gvr("", "v1", "nodes"), obj: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
			Spec:   corev1.NodeSpec{PodCIDR: "10.0.0.0/24", Taints: []corev1.Taint{{Key: "k", Effect: "NoSchedule"}}},
			Status: corev1.NodeStatus{Capacity: corev1.ResourceList{"cpu": resource.MustParse("4")}, Addresses: []corev1.NodeAddress{{Type: "InternalIP", Address: "10.0.0.1"}}}}, manager: "kubelet", fast: true},
		{name: "pvc", resource: gvr("", "v1", "persistentvolumeclaims"), obj: &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteOnce"}, Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}}}}, manager: "m", fast: true},
		{name: "job", resource: gvr("batch", "v1", "jobs"), obj: &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "default"},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: "Never", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}, manager: "m", fast: true},
		{name: "cronjob", resource: gvr("batch", "v1", "cronjobs"), obj: &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "cj", Namespace: "default"},
			Spec: batchv1.CronJobSpec{Schedule: "* * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: "Never", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}}}, manager: "m", fast: true},
		{name: "hpa", resource: gvr("autoscaling", "v2", "horizontalpodautoscalers"), obj: &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "d", APIVersion: "apps/v1"}, MaxReplicas: 5,
				Metrics: []autoscalingv2.MetricSpec{{Type: "Resource", Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{Type: "Utilization", AverageUtilization: ptr(int32(50))}}}}}}, manager: "m", fast: true},
		{name: "ingress", resource: gvr("networking.k8s.io", "v1", "ingresses"), obj: &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "i", Namespace: "default"},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "a.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "s", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}, manager: "m", fast: true},
		{name: "networkpolicy", resource: gvr("networking.k8s.io", "v1", "networkpolicies"), obj: &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "np", Namespace: "default"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "In", Values: []string{"x"}}}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}}}}}}}, manager: "m", fast: true},
		{name: "role", resource: gvr("rbac.authorization.k8s.io", "v1", "roles"), obj: &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "default"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}}}, manager: "m", fast: true},
		{name: "rolebinding", resource: gvr("rbac.authorization.k8s.io", "v1", "rolebindings"), obj: &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "rb", Namespace: "default"},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "r"}, Subjects: []rbacv1.Subject{{Kind: "User", Name: "u"}}}, manager: "m", fast: true},
		{name: "event", resource: gvr("", "v1", "events"), obj: &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"}, Reason: "Started", Message: "m", Count: 1}, manager: "m", fast: true},
	}
	return append(cases, fleetCases(t)...)
}

func fleetCases(t *testing.T) []trackCase {
	return []trackCase{
		{name: "cr", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f","namespace":"default","labels":{"a":"b"}},"spec":{"size":3,"name":"n","port":"http",
			"labels":{"x":"y"},"tags":["a","b"],"args":["1","2"],"ports":[{"name":"a","number":1},{"name":"b"}],"selector":{"app":"web"},
			"extra":{"any":{"deep":[1,{"x":2}]},"s":"t"},"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"a":1}}}}`), manager: "m", fast: true},
		{name: "cr-status", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"size":1},"status":{"ready":true,"count":2}}`), manager: "m", fast: true},
		{name: "cr-empty", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"}}`), manager: "m", fast: true, none: true},
		{name: "cr-int-port", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"port":80,"extra":{}}}`), manager: "m", fast: true},
		{name: "cr-missing-key", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"ports":[{"number":1}]}}`), manager: "m", fast: false, none: true},
		{name: "cr-wrong-type", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"size":"three"}}`), manager: "m", fast: false, none: true},
		{name: "cr-wrong-type-atomic", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"selector":{"app":1}}}`), manager: "m", fast: false, none: true},
		{name: "cr-pruned", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"size":1,"bogus":2},"bogus":{"a":1}}`), manager: "m", fast: true},
		{name: "cr-duplicate-set", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"tags":["a","a"]}}`), manager: "m", fast: false},
		{name: "cr-set-of-maps", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":{"tags":[{"a":1}]}}`), manager: "m", fast: false, none: true},
		{name: "cr-null-spec", resource: fleetGVR, obj: fleet(t, `{"metadata":{"name":"f"},"spec":null}`), manager: "m", fast: true, none: true},
	}
}
