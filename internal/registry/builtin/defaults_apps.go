package builtin

import (
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaults of k8s.io/kubernetes pkg/apis/{apps,batch,...}/v1/defaults.go
// and of the strategies' PrepareForCreate (v1.37).

func defaultDeployment(o runtime.Object) {
	d := o.(*appsv1.Deployment)
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptr(int32(1))
	}
	st := &d.Spec.Strategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if st.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = ptr(intstr.FromString("25%"))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = ptr(intstr.FromString("25%"))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr(int32(10))
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = ptr(int32(600))
	}
	defaultPodTemplateSpec(&d.Spec.Template)
}

func defaultReplicaSet(o runtime.Object) {
	r := o.(*appsv1.ReplicaSet)
	if r.Spec.Replicas == nil {
		r.Spec.Replicas = ptr(int32(1))
	}
	defaultPodTemplateSpec(&r.Spec.Template)
}

func defaultStatefulSet(o runtime.Object) {
	s := o.(*appsv1.StatefulSet)
	if s.Spec.PodManagementPolicy == "" {
		s.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.Spec.UpdateStrategy.Type == "" {
		s.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.Spec.UpdateStrategy.RollingUpdate == nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		ru := s.Spec.UpdateStrategy.RollingUpdate
		if ru.Partition == nil {
			ru.Partition = ptr(int32(0))
		}
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = ptr(intstr.FromInt32(1))
		}
	}
	if s.Spec.PersistentVolumeClaimRetentionPolicy == nil {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	p := s.Spec.PersistentVolumeClaimRetentionPolicy
	if p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Spec.Replicas == nil {
		s.Spec.Replicas = ptr(int32(1))
	}
	if s.Spec.RevisionHistoryLimit == nil {
		s.Spec.RevisionHistoryLimit = ptr(int32(10))
	}
	for i := range s.Spec.VolumeClaimTemplates {
		c := &s.Spec.VolumeClaimTemplates[i]
		defaultPVCSpec(&c.Spec)
		if c.Status.Phase == "" {
			c.Status.Phase = corev1.ClaimPending
		}
	}
	setClaimTemplateKinds(s)
	defaultPodTemplateSpec(&s.Spec.Template)
}

// setClaimTemplateKinds is upstream's conversion into v1
// (Convert_apps_StatefulSetSpec_To_v1_StatefulSetSpec): each claim
// template's apiVersion and kind are set, whatever was sent.
func setClaimTemplateKinds(s *appsv1.StatefulSet) {
	for i := range s.Spec.VolumeClaimTemplates {
		c := &s.Spec.VolumeClaimTemplates[i]
		c.APIVersion, c.Kind = "v1", "PersistentVolumeClaim"
	}
}

func defaultDaemonSet(o runtime.Object) {
	d := o.(*appsv1.DaemonSet)
	// Upstream's v1 conversion always writes the template generation as
	// this annotation, 0 before the strategy sets it: so the manager of a
	// create owns it, as the manager of a write that changes it.
	if _, ok := d.Annotations[daemonSetTemplateGeneration]; !ok {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[daemonSetTemplateGeneration] = "0"
	}
	st := &d.Spec.UpdateStrategy
	if st.Type == "" {
		st.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if st.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if st.RollingUpdate == nil {
			st.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if st.RollingUpdate.MaxUnavailable == nil {
			st.RollingUpdate.MaxUnavailable = ptr(intstr.FromInt32(1))
		}
		if st.RollingUpdate.MaxSurge == nil {
			st.RollingUpdate.MaxSurge = ptr(intstr.FromInt32(0))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr(int32(10))
	}
	defaultPodTemplateSpec(&d.Spec.Template)
}

// daemonSetTemplateGeneration is the annotation upstream's daemon set
// strategy keeps equal to the generation of the template.
const daemonSetTemplateGeneration = "deprecated.daemonset.template.generation"

func prepareDaemonSet(o runtime.Object) {
	d := o.(*appsv1.DaemonSet)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[daemonSetTemplateGeneration] = "1"
}

func prepareDaemonSetUpdate(o, old runtime.Object) {
	d, prev := o.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
	gen := prev.Annotations[daemonSetTemplateGeneration]
	if !equalJSON(d.Spec.Template, prev.Spec.Template) {
		n, _ := strconv.ParseInt(gen, 10, 64)
		gen = strconv.FormatInt(n+1, 10)
	}
	if gen != "" {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[daemonSetTemplateGeneration] = gen
	}
}

// defaultJob is SetDefaults_Job: a job without labels gets its template's.
// Upstream shares the template's label map rather than copying it, so
// that the labels prepareJob then adds to the template show in the job's
// labels too; so does regis.
func defaultJob(o runtime.Object) {
	j := o.(*batchv1.Job)
	defaultJobSpec(&j.Spec)
	if l := j.Spec.Template.Labels; l != nil && len(j.Labels) == 0 {
		j.Labels = l
	}
}

func defaultJobSpec(s *batchv1.JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr(int32(1))
		s.Parallelism = ptr(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr(int32(1))
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr(int32(2147483647))
		} else {
			s.BackoffLimit = ptr(int32(6))
		}
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.PodReplacementPolicy == nil {
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = ptr(batchv1.Failed)
		} else {
			s.PodReplacementPolicy = ptr(batchv1.TerminatingOrFailed)
		}
	}
	if s.ManualSelector == nil {
		s.ManualSelector = ptr(false)
	}
	defaultPodTemplateSpec(&s.Template)
}

// prepareJob generates the job's selector and the template labels that
// match it, as upstream's job strategy does unless manualSelector is true.
func prepareJob(o runtime.Object) {
	j := o.(*batchv1.Job)
	j.Status = batchv1.JobStatus{}
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	uid := string(j.UID)
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	l := j.Spec.Template.Labels
	l["batch.kubernetes.io/controller-uid"] = uid
	l["batch.kubernetes.io/job-name"] = j.Name
	l["controller-uid"] = uid
	l["job-name"] = j.Name
	j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": uid}}
}

func defaultCronJob(o runtime.Object) {
	c := o.(*batchv1.CronJob)
	if c.Spec.ConcurrencyPolicy == "" {
		c.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if c.Spec.Suspend == nil {
		c.Spec.Suspend = ptr(false)
	}
	if c.Spec.SuccessfulJobsHistoryLimit == nil {
		c.Spec.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if c.Spec.FailedJobsHistoryLimit == nil {
		c.Spec.FailedJobsHistoryLimit = ptr(int32(1))
	}
	defaultPodTemplateSpec(&c.Spec.JobTemplate.Spec.Template)
}

func defaultEndpointSlice(o runtime.Object) {
	e := o.(*discoveryv1.EndpointSlice)
	for i := range e.Ports {
		if e.Ports[i].Name == nil {
			e.Ports[i].Name = ptr("")
		}
		if e.Ports[i].Protocol == nil {
			e.Ports[i].Protocol = ptr(corev1.ProtocolTCP)
		}
	}
}

func defaultNetworkPolicy(o runtime.Object) {
	n := o.(*networkingv1.NetworkPolicy)
	for _, r := range n.Spec.Ingress {
		for i := range r.Ports {
			if r.Ports[i].Protocol == nil {
				r.Ports[i].Protocol = ptr(corev1.ProtocolTCP)
			}
		}
	}
	for _, r := range n.Spec.Egress {
		for i := range r.Ports {
			if r.Ports[i].Protocol == nil {
				r.Ports[i].Protocol = ptr(corev1.ProtocolTCP)
			}
		}
	}
	if len(n.Spec.PolicyTypes) == 0 {
		n.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(n.Spec.Egress) != 0 {
			n.Spec.PolicyTypes = append(n.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
}

// defaultRoleBinding and defaultClusterRoleBinding are upstream's
// SetDefaults_RoleBinding/ClusterRoleBinding: an empty roleRef.apiGroup
// is rbac.authorization.k8s.io; subjects as SetDefaults_Subject.
func defaultRoleBinding(o runtime.Object) {
	b := o.(*rbacv1.RoleBinding)
	defaultRoleRef(&b.RoleRef)
	defaultSubjects(b.Subjects)
}

func defaultClusterRoleBinding(o runtime.Object) {
	b := o.(*rbacv1.ClusterRoleBinding)
	defaultRoleRef(&b.RoleRef)
	defaultSubjects(b.Subjects)
}

func defaultRoleRef(ref *rbacv1.RoleRef) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
}

func defaultSubjects(ss []rbacv1.Subject) {
	for i := range ss {
		s := &ss[i]
		if s.APIGroup == "" {
			switch s.Kind {
			case rbacv1.UserKind, rbacv1.GroupKind:
				s.APIGroup = rbacv1.GroupName
			}
		}
	}
}

func defaultStorageClass(o runtime.Object) {
	s := o.(*storagev1.StorageClass)
	if s.ReclaimPolicy == nil {
		s.ReclaimPolicy = ptr(corev1.PersistentVolumeReclaimDelete)
	}
	if s.VolumeBindingMode == nil {
		s.VolumeBindingMode = ptr(storagev1.VolumeBindingImmediate)
	}
}

// prepareDeploymentUpdate bumps the generation of a deployment whose
// annotations change, as upstream's strategy (they are copied to its
// replica sets), when a spec change has not bumped it already.
func prepareDeploymentUpdate(obj, old runtime.Object) {
	d, prev := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	if d.Generation == prev.Generation && !maps.Equal(d.Annotations, prev.Annotations) {
		d.Generation = prev.Generation + 1
	}
}
