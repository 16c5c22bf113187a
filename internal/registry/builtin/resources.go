package builtin

import (
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// EventTTL is how long events are kept: kube-apiserver's --event-ttl default.
const EventTTL = 3600

// Resources returns the resource table of the built-in resources regis
// serves, sorted by group then resource. Each call returns new rows, which
// the caller may modify.
func Resources() []*registry.Resource {
	rs := []*registry.Resource{
		// core/v1
		{Version: "v1", Resource: "namespaces", Kind: "Namespace", ShortNames: []string{"ns"},
			New: newFn[corev1.Namespace], NewList: newFn[corev1.NamespaceList],
			NameValidation: apivalidation.NameIsDNSLabel, Status: true,
			Fields: func(o runtime.Object) fields.Set {
				return fields.Set{"status.phase": string(o.(*corev1.Namespace).Status.Phase)}
			},
			Default: defaultNamespace, PrepareForCreate: prepareNamespace, PrepareForUpdate: prepareNamespaceUpdate,
			NoDeleteCollection: true, AdmitDelete: admitNamespaceDelete,
			Validate: validateNamespace, ValidateCreate: validateNamespaceCreate, ValidateUpdate: validateNamespaceUpdate,
			Columns: namespaceColumns},
		{Version: "v1", Resource: "pods", Kind: "Pod", Namespaced: true, ShortNames: []string{"po"}, Categories: []string{"all"},
			New: newFn[corev1.Pod], NewList: newFn[corev1.PodList], Status: true, Generation: true,
			ReturnDeletedObject: true,
			Fields:              podFields, Default: defaultPod, PrepareForCreateWarnings: preparePod, Validate: validatePod, ValidateCreate: validatePodCreate,
			ValidateUpdate: validatePodUpdate, Columns: podColumns, GracePeriod: podGracePeriod,
			WarningsOnCreate: podWarningsOnCreate, WarningsOnStatusUpdate: podStatusWarnings,
			Subresources: []registry.SubresourceRule{podStream("attach"), podBinding, podEphemeralContainers, podEviction,
				podStream("exec"), podLog, podStream("portforward"), podProxy, podResize}},
		{Version: "v1", Resource: "services", Kind: "Service", Namespaced: true, ShortNames: []string{"svc"}, Categories: []string{"all"},
			New: newFn[corev1.Service], NewList: newFn[corev1.ServiceList], Status: true,
			NameValidation: apivalidation.NameIsDNS1035Label,
			Fields: func(o runtime.Object) fields.Set {
				s := o.(*corev1.Service)
				return fields.Set{"spec.clusterIP": s.Spec.ClusterIP, "spec.type": string(s.Spec.Type)}
			},
			Default: defaultService, PrepareForCreate: prepareService, PrepareForUpdate: prepareServiceUpdate,
			Allocate: DefaultServiceNetwork().allocateServiceIPs, AfterDelete: DefaultServiceNetwork().releaseService,
			Validate: validateService, ValidateUpdate: validateServiceUpdate, Columns: serviceColumns, ReturnDeletedObject: true,
			WarningsOnCreate: serviceWarnings, WarningsOnUpdate: onUpdate(serviceWarnings), WarningsOnStatusUpdate: serviceStatusWarnings,
			Subresources: []registry.SubresourceRule{serviceProxy}},
		{Version: "v1", Resource: "endpoints", Kind: "Endpoints", Namespaced: true, ShortNames: []string{"ep"},
			Deprecation: "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice",
			New:         newFn[corev1.Endpoints], NewList: newFn[corev1.EndpointsList], AllowCreateOnUpdate: true,
			Default: defaultEndpoints, Columns: endpointsColumns,
			WarningsOnCreate: endpointsWarnings, WarningsOnUpdate: onUpdate(endpointsWarnings)},
		{Version: "v1", Resource: "nodes", Kind: "Node", ShortNames: []string{"no"},
			New: newFn[corev1.Node], NewList: newFn[corev1.NodeList], Status: true, StatusOnCreate: true,
			Fields: func(o runtime.Object) fields.Set {
				return fields.Set{"spec.unschedulable": strconv.FormatBool(o.(*corev1.Node).Spec.Unschedulable)}
			},
			Default: defaultNode, PrepareForCreate: prepareNode, PrepareForUpdate: prepareNodeUpdate,
			PrepareForStatusUpdate: prepareNodeStatusUpdate, Validate: validateNode, ValidateCreate: validateNodeCreate,
			ValidateUpdate: validateNodeUpdate, Columns: nodeColumns,
			WarningsOnCreate: nodeWarnings, WarningsOnUpdate: onUpdate(nodeWarnings),
			Subresources: []registry.SubresourceRule{nodeProxy}},
		{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true,
			New: newFn[corev1.Secret], NewList: newFn[corev1.SecretList],
			Fields:  func(o runtime.Object) fields.Set { return fields.Set{"type": string(o.(*corev1.Secret).Type)} },
			Default: defaultSecret, Validate: validateSecret, ValidateUpdate: validateSecretUpdate, ValidateUpdateFirst: true,
			Columns: secretColumns, WarningsOnCreate: secretWarnings, WarningsOnUpdate: onUpdate(secretWarnings)},
		{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true, ShortNames: []string{"cm"},
			New: newFn[corev1.ConfigMap], NewList: newFn[corev1.ConfigMapList], Validate: validateConfigMap,
			ValidateUpdate: validateConfigMapUpdate, ValidateUpdateFirst: true, Columns: configMapColumns},
		{Version: "v1", Resource: "serviceaccounts", Kind: "ServiceAccount", Namespaced: true, ShortNames: []string{"sa"},
			ReturnDeletedObject: true,
			New:                 newFn[corev1.ServiceAccount], NewList: newFn[corev1.ServiceAccountList], AllowCreateOnUpdate: true,
			WarningsOnCreate: serviceAccountWarningsOnCreate, WarningsOnUpdate: serviceAccountWarningsOnUpdate},
		{Version: "v1", Resource: "events", Kind: "Event", Namespaced: true, ShortNames: []string{"ev"},
			New: newFn[corev1.Event], NewList: newFn[corev1.EventList], AllowCreateOnUpdate: true, TTL: EventTTL,
			NameValidation: pathSegmentName, Fields: eventFields, Columns: eventColumns},
		{Version: "v1", Resource: "persistentvolumes", Kind: "PersistentVolume", ShortNames: []string{"pv"},
			ReturnDeletedObject: true,
			New:                 newFn[corev1.PersistentVolume], NewList: newFn[corev1.PersistentVolumeList], Status: true,
			Default: defaultPersistentVolume, PrepareForCreate: preparePersistentVolume,
			Validate: validatePersistentVolume, ValidateUpdate: validatePersistentVolumeUpdate,
			WarningsOnCreate: persistentVolumeWarnings, WarningsOnUpdate: onUpdate(persistentVolumeWarnings)},
		{Version: "v1", Resource: "persistentvolumeclaims", Kind: "PersistentVolumeClaim", Namespaced: true, ShortNames: []string{"pvc"},
			ReturnDeletedObject: true,
			New:                 newFn[corev1.PersistentVolumeClaim], NewList: newFn[corev1.PersistentVolumeClaimList], Status: true,
			Default: defaultPersistentVolumeClaim, PrepareForCreate: preparePersistentVolumeClaim,
			PrepareForUpdate: preparePersistentVolumeClaimUpdate, Validate: validatePersistentVolumeClaim,
			ValidateUpdate:   validatePersistentVolumeClaimUpdate,
			WarningsOnCreate: persistentVolumeClaimWarnings, WarningsOnUpdate: onUpdate(persistentVolumeClaimWarnings)},
		{Version: "v1", Resource: "limitranges", Kind: "LimitRange", Namespaced: true, ShortNames: []string{"limits"},
			New: newFn[corev1.LimitRange], NewList: newFn[corev1.LimitRangeList], AllowCreateOnUpdate: true,
			Default: defaultLimitRange, Validate: validateLimitRange},
		{Version: "v1", Resource: "resourcequotas", Kind: "ResourceQuota", Namespaced: true, ShortNames: []string{"quota"},
			ReturnDeletedObject: true,
			New:                 newFn[corev1.ResourceQuota], NewList: newFn[corev1.ResourceQuotaList], Status: true,
			Validate: validateResourceQuota, ValidateUpdate: validateResourceQuotaUpdate,
			WarningsOnCreate: resourceQuotaWarningsOnCreate},
		{Version: "v1", Resource: "replicationcontrollers", Kind: "ReplicationController", Namespaced: true,
			ShortNames: []string{"rc"}, Categories: []string{"all"},
			New: newFn[corev1.ReplicationController], NewList: newFn[corev1.ReplicationControllerList],
			Status: true, Generation: true, Scale: rcScale, DefaultPropagation: metav1.DeletePropagationOrphan,
			Fields: func(o runtime.Object) fields.Set {
				return fields.Set{"status.replicas": strconv.Itoa(int(o.(*corev1.ReplicationController).Status.Replicas))}
			},
			Default: defaultReplicationController, Validate: validateReplicationController, Columns: rcColumns,
			WarningsOnCreate: replicationControllerWarningsOnCreate, WarningsOnUpdate: replicationControllerWarningsOnUpdate},
		{Version: "v1", Resource: "podtemplates", Kind: "PodTemplate", Namespaced: true,
			ReturnDeletedObject: true,
			New:                 newFn[corev1.PodTemplate], NewList: newFn[corev1.PodTemplateList], Generation: true,
			Default:          func(o runtime.Object) { defaultPodTemplateSpec(&o.(*corev1.PodTemplate).Template) },
			WarningsOnCreate: podTemplateWarningsOnCreate, WarningsOnUpdate: podTemplateWarningsOnUpdate},

		// apps/v1
		{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true,
			ShortNames: []string{"deploy"}, Categories: []string{"all"},
			New: newFn[appsv1.Deployment], NewList: newFn[appsv1.DeploymentList], Status: true, Generation: true,
			Scale: deploymentScale, Default: defaultDeployment, Validate: validateDeployment,
			PrepareForUpdate: prepareDeploymentUpdate,
			ValidateUpdate:   validateSelectorImmutable, Columns: deploymentColumns,
			WarningsOnCreate: deploymentWarningsOnCreate, WarningsOnUpdate: deploymentWarningsOnUpdate},
		{Group: "apps", Version: "v1", Resource: "replicasets", Kind: "ReplicaSet", Namespaced: true,
			ShortNames: []string{"rs"}, Categories: []string{"all"},
			New: newFn[appsv1.ReplicaSet], NewList: newFn[appsv1.ReplicaSetList], Status: true, Generation: true,
			Scale: replicaSetScale,
			Fields: func(o runtime.Object) fields.Set {
				return fields.Set{"status.replicas": strconv.Itoa(int(o.(*appsv1.ReplicaSet).Status.Replicas))}
			},
			Default: defaultReplicaSet, Validate: validateReplicaSet, ValidateUpdate: validateSelectorImmutable,
			Columns: replicaSetColumns, WarningsOnCreate: replicaSetWarningsOnCreate, WarningsOnUpdate: replicaSetWarningsOnUpdate},
		{Group: "apps", Version: "v1", Resource: "statefulsets", Kind: "StatefulSet", Namespaced: true,
			ShortNames: []string{"sts"}, Categories: []string{"all"},
			New: newFn[appsv1.StatefulSet], NewList: newFn[appsv1.StatefulSetList], Status: true, Generation: true,
			Scale: statefulSetScale, Default: defaultStatefulSet, Validate: validateStatefulSet,
			ValidateUpdate: validateStatefulSetUpdate, Columns: statefulSetColumns,
			WarningsOnCreate: statefulSetWarningsOnCreate, WarningsOnUpdate: statefulSetWarningsOnUpdate},
		{Group: "apps", Version: "v1", Resource: "daemonsets", Kind: "DaemonSet", Namespaced: true,
			ShortNames: []string{"ds"}, Categories: []string{"all"},
			New: newFn[appsv1.DaemonSet], NewList: newFn[appsv1.DaemonSetList], Status: true, Generation: true,
			Default: defaultDaemonSet, PrepareForCreate: prepareDaemonSet, PrepareForUpdate: prepareDaemonSetUpdate,
			Validate: validateDaemonSet, ValidateUpdate: validateSelectorImmutable, Columns: daemonSetColumns,
			WarningsOnCreate: daemonSetWarningsOnCreate, WarningsOnUpdate: daemonSetWarningsOnUpdate},
		{Group: "apps", Version: "v1", Resource: "controllerrevisions", Kind: "ControllerRevision", Namespaced: true,
			New: newFn[appsv1.ControllerRevision], NewList: newFn[appsv1.ControllerRevisionList]},

		// batch/v1
		{Group: "batch", Version: "v1", Resource: "jobs", Kind: "Job", Namespaced: true, Categories: []string{"all"},
			New: newFn[batchv1.Job], NewList: newFn[batchv1.JobList], Status: true, Generation: true,
			DefaultPropagation: metav1.DeletePropagationOrphan, DeleteWarning: jobDeleteWarning,
			Fields: func(o runtime.Object) fields.Set {
				return fields.Set{"status.successful": strconv.Itoa(int(o.(*batchv1.Job).Status.Succeeded))}
			},
			Default: defaultJob, PrepareForCreate: prepareJob, Validate: validateJob, ValidateCreate: validateJobName, ValidateUpdate: validateJobUpdate,
			Columns: jobColumns, WarningsOnCreate: jobWarningsOnCreate, WarningsOnUpdate: jobWarningsOnUpdate},
		{Group: "batch", Version: "v1", Resource: "cronjobs", Kind: "CronJob", Namespaced: true,
			ShortNames: []string{"cj"}, Categories: []string{"all"},
			New: newFn[batchv1.CronJob], NewList: newFn[batchv1.CronJobList], Status: true, Generation: true,
			Default: defaultCronJob, Validate: validateCronJob, Columns: cronJobColumns, NameValidation: cronJobName,
			WarningsOnCreate: cronJobWarningsOnCreate, WarningsOnUpdate: cronJobWarningsOnUpdate},

		// coordination.k8s.io/v1
		{Group: "coordination.k8s.io", Version: "v1", Resource: "leases", Kind: "Lease", Namespaced: true,
			New: newFn[coordinationv1.Lease], NewList: newFn[coordinationv1.LeaseList], AllowCreateOnUpdate: true,
			RequireResourceVersion: true, PrepareForCreate: prepareLease, PrepareForUpdate: prepareLeaseUpdate,
			Validate: validateLease, Columns: leaseColumns},

		// discovery.k8s.io/v1
		{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices", Kind: "EndpointSlice", Namespaced: true,
			New: newFn[discoveryv1.EndpointSlice], NewList: newFn[discoveryv1.EndpointSliceList], Generation: true,
			Default: defaultEndpointSlice, PrepareForCreate: prepareEndpointSlice, PrepareForUpdate: prepareEndpointSliceUpdate,
			Validate: validateEndpointSlice, ValidateUpdate: validateEndpointSliceUpdate,
			WarningsOnCreate: endpointSliceWarningsOnCreate, WarningsOnUpdate: onUpdate(endpointSliceIPWarnings)},

		// networking.k8s.io/v1
		{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses", Kind: "Ingress", Namespaced: true,
			ShortNames: []string{"ing"},
			New:        newFn[networkingv1.Ingress], NewList: newFn[networkingv1.IngressList], Status: true, Generation: true,
			Validate: validateIngress, ValidateCreate: validateIngressCreate, ValidateUpdate: validateIngressUpdate,
			WarningsOnCreate: ingressWarningsOnCreate, WarningsOnStatusUpdate: ingressStatusWarnings},
		{Group: "networking.k8s.io", Version: "v1", Resource: "ipaddresses", Kind: "IPAddress",
			ShortNames: []string{"ip"},
			New:        newFn[networkingv1.IPAddress], NewList: newFn[networkingv1.IPAddressList],
			NameValidation: validateIPAddressName},
		{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs", Kind: "ServiceCIDR",
			New: newFn[networkingv1.ServiceCIDR], NewList: newFn[networkingv1.ServiceCIDRList], Status: true},
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies", Kind: "NetworkPolicy", Namespaced: true,
			ShortNames: []string{"netpol"},
			New:        newFn[networkingv1.NetworkPolicy], NewList: newFn[networkingv1.NetworkPolicyList], Generation: true,
			Default: defaultNetworkPolicy, Validate: validateNetworkPolicy, ValidateUpdate: validateNetworkPolicyUpdate,
			WarningsOnCreate: networkPolicyWarnings, WarningsOnUpdate: onUpdate(networkPolicyWarnings)},

		// policy/v1
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets", Kind: "PodDisruptionBudget", Namespaced: true,
			ShortNames: []string{"pdb"},
			New:        newFn[policyv1.PodDisruptionBudget], NewList: newFn[policyv1.PodDisruptionBudgetList],
			Status: true, Generation: true, RequireResourceVersion: true,
			PrepareForCreate: preparePodDisruptionBudget, PrepareForUpdate: preparePodDisruptionBudgetUpdate,
			Validate: validatePodDisruptionBudget, ValidateCreate: validatePodDisruptionBudgetCreate,
			ValidateUpdate: validatePodDisruptionBudgetUpdate},

		// rbac.authorization.k8s.io/v1
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles", Kind: "Role", Namespaced: true,
			New: newFn[rbacv1.Role], NewList: newFn[rbacv1.RoleList], AllowCreateOnUpdate: true,
			NameValidation: pathSegmentName, Validate: validateRole},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings", Kind: "RoleBinding", Namespaced: true,
			New: newFn[rbacv1.RoleBinding], NewList: newFn[rbacv1.RoleBindingList], AllowCreateOnUpdate: true,
			NameValidation: pathSegmentName, Default: defaultRoleBinding,
			Validate: validateRoleBinding, ValidateUpdate: validateRoleRefImmutable},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles", Kind: "ClusterRole",
			New: newFn[rbacv1.ClusterRole], NewList: newFn[rbacv1.ClusterRoleList], AllowCreateOnUpdate: true,
			NameValidation: pathSegmentName, Validate: validateClusterRole},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings", Kind: "ClusterRoleBinding",
			New: newFn[rbacv1.ClusterRoleBinding], NewList: newFn[rbacv1.ClusterRoleBindingList], AllowCreateOnUpdate: true,
			NameValidation: pathSegmentName, Default: defaultClusterRoleBinding,
			Validate: validateClusterRoleBinding, ValidateUpdate: validateRoleRefImmutable},

		// storage.k8s.io/v1
		{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses", Kind: "StorageClass", ShortNames: []string{"sc"},
			ReturnDeletedObject: true,
			New:                 newFn[storagev1.StorageClass], NewList: newFn[storagev1.StorageClassList],
			Default: defaultStorageClass, Validate: validateStorageClass, ValidateUpdate: validateStorageClassUpdate,
			WarningsOnCreate: storageClassWarnings, WarningsOnUpdate: onUpdate(storageClassWarnings)},
	}
	rs = append(rs, eventsV1())
	rs = append(rs, groupRows()...)
	withStatusMetadata(rs)
	withFinalizerNames(rs)
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Group != rs[j].Group {
			return rs[i].Group < rs[j].Group
		}
		return rs[i].Resource < rs[j].Resource
	})
	return rs
}

// newFn returns a constructor of *T as a runtime.Object.
func newFn[T any, PT interface {
	*T
	runtime.Object
}]() runtime.Object {
	return PT(new(T))
}

// pathSegmentName accepts any name that is a safe path segment (RBAC
// objects, events).
func pathSegmentName(name string, prefix bool) []string {
	return content.IsPathSegmentName(name)
}

func podFields(o runtime.Object) fields.Set {
	p := o.(*corev1.Pod)
	return fields.Set{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             p.Status.PodIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

func eventFields(o runtime.Object) fields.Set {
	e := o.(*corev1.Event)
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return fields.Set{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             string(e.InvolvedObject.UID),
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}
}

var deploymentScale = &registry.ScaleRule{
	Replicas: func(o runtime.Object) (int32, int32, string) {
		d := o.(*appsv1.Deployment)
		return deref32(d.Spec.Replicas), d.Status.Replicas, selectorString(d.Spec.Selector)
	},
	SetReplicas: func(o runtime.Object, n int32) { o.(*appsv1.Deployment).Spec.Replicas = &n },
}

var replicaSetScale = &registry.ScaleRule{
	Replicas: func(o runtime.Object) (int32, int32, string) {
		r := o.(*appsv1.ReplicaSet)
		return deref32(r.Spec.Replicas), r.Status.Replicas, selectorString(r.Spec.Selector)
	},
	SetReplicas: func(o runtime.Object, n int32) { o.(*appsv1.ReplicaSet).Spec.Replicas = &n },
}

var statefulSetScale = &registry.ScaleRule{
	Replicas: func(o runtime.Object) (int32, int32, string) {
		s := o.(*appsv1.StatefulSet)
		return deref32(s.Spec.Replicas), s.Status.Replicas, selectorString(s.Spec.Selector)
	},
	SetReplicas: func(o runtime.Object, n int32) { o.(*appsv1.StatefulSet).Spec.Replicas = &n },
}

var rcScale = &registry.ScaleRule{
	Replicas: func(o runtime.Object) (int32, int32, string) {
		r := o.(*corev1.ReplicationController)
		return deref32(r.Spec.Replicas), r.Status.Replicas, labels.SelectorFromSet(r.Spec.Selector).String()
	},
	SetReplicas: func(o runtime.Object, n int32) { o.(*corev1.ReplicationController).Spec.Replicas = &n },
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// selectorString renders a label selector as a scale's status.selector.
func selectorString(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return ""
	}
	return sel.String()
}

// jobDeleteWarning is upstream's warning on a job delete that names no
// propagation policy.
const jobDeleteWarning = "child pods are preserved by default when jobs are deleted; " +
	"set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"
