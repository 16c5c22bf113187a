package builtin

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The defaulting functions of this file follow k8s.io/kubernetes
// pkg/apis/core/v1/defaults.go (v1.37): only the fields a client or
// controller reads back are set, and they are set as kube-apiserver sets
// them, so a stored object is byte for byte what upstream stores.

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func ptr[T any](v T) *T { return &v }

func defaultNamespace(o runtime.Object) {
	ns := o.(*corev1.Namespace)
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
	// The NamespaceDefaultLabelName defaulter: the label always names the
	// namespace.
	if ns.Name != "" {
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
	}
}

func prepareNamespace(o runtime.Object) {
	ns := o.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if !containsFinalizer(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
	defaultNamespace(ns) // the name may come from generateName
}

func prepareNamespaceUpdate(o, old runtime.Object) {
	ns, prev := o.(*corev1.Namespace), old.(*corev1.Namespace)
	ns.Spec.Finalizers = prev.Spec.Finalizers
}

func containsFinalizer(fs []corev1.FinalizerName, f corev1.FinalizerName) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func defaultPod(o runtime.Object) {
	p := o.(*corev1.Pod)
	// SetDefaults_Pod (not SetDefaults_PodSpec: pod templates keep theirs).
	if g := p.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		p.Spec.TerminationGracePeriodSeconds = ptr(int64(1))
	}
	defaultPodSpec(&p.Spec)
	if p.Spec.EnableServiceLinks == nil {
		p.Spec.EnableServiceLinks = ptr(corev1.DefaultEnableServiceLinks)
	}
	// Requests default to limits (SetDefaults_Pod).
	for i := range p.Spec.Containers {
		defaultRequestsFromLimits(&p.Spec.Containers[i].Resources)
	}
	for i := range p.Spec.InitContainers {
		defaultRequestsFromLimits(&p.Spec.InitContainers[i].Resources)
	}
}

func defaultRequestsFromLimits(r *corev1.ResourceRequirements) {
	if r.Limits == nil {
		return
	}
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	for k, v := range r.Limits {
		if _, ok := r.Requests[k]; !ok {
			r.Requests[k] = v.DeepCopy()
		}
	}
}

// preparePod is what the pod strategy (AppArmor profiles from the
// annotations, the status) and the default admission plugins (Priority,
// DefaultTolerationSeconds) add on create; the warnings of the AppArmor
// annotations it copies, which upstream adds there, before validation.
func preparePod(o runtime.Object) []string {
	p := o.(*corev1.Pod)
	warnings := applyAppArmorVersionSkew(p)
	p.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOS(&p.Spec)}
	if p.Spec.Priority == nil && p.Spec.PriorityClassName == "" {
		p.Spec.Priority = ptr(int32(0))
	}
	if p.Spec.PreemptionPolicy == nil {
		p.Spec.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	}
	addToleration(p, "node.kubernetes.io/not-ready")
	addToleration(p, "node.kubernetes.io/unreachable")
	return warnings
}

// addToleration adds the DefaultTolerationSeconds admission plugin's
// toleration for key unless the pod tolerates the taint already.
func addToleration(p *corev1.Pod, key string) {
	for _, t := range p.Spec.Tolerations {
		if (t.Key == key || t.Key == "" && t.Operator == corev1.TolerationOpExists) &&
			(t.Effect == "" || t.Effect == corev1.TaintEffectNoExecute) {
			return
		}
	}
	p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{
		Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute,
		TolerationSeconds: ptr(int64(300)),
	})
}

// podQOS computes the pod's QoS class as the kubelet's qos package does for
// the common cases: Guaranteed when every container has equal cpu and
// memory requests and limits, BestEffort when none has any, else Burstable.
func podQOS(spec *corev1.PodSpec) corev1.PodQOSClass {
	any, guaranteed := false, true
	for i := range len(spec.InitContainers) + len(spec.Containers) {
		c := containerAt(spec, i)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() || hasLim && !lim.IsZero() {
				any = true
			}
			if !hasLim || !hasReq || req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	default:
		return corev1.PodQOSBurstable
	}
}

// containerAt is the i-th of a pod's init containers then containers.
func containerAt(spec *corev1.PodSpec, i int) *corev1.Container {
	if i < len(spec.InitContainers) {
		return &spec.InitContainers[i]
	}
	return &spec.Containers[i-len(spec.InitContainers)]
}

func defaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	defaultPodSpec(&t.Spec)
}

func defaultPodSpec(s *corev1.PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = corev1.DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = corev1.RestartPolicyAlways
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &corev1.PodSecurityContext{}
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr(int64(corev1.DefaultTerminationGracePeriodSeconds))
	}
	if s.SchedulerName == "" {
		s.SchedulerName = corev1.DefaultSchedulerName
	}
	if s.HostNetwork {
		for i := range s.Containers {
			defaultHostPorts(s.Containers[i].Ports)
		}
		for i := range s.InitContainers {
			defaultHostPorts(s.InitContainers[i].Ports)
		}
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i])
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i])
	}
	for i := range s.EphemeralContainers {
		c := (*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon)
		defaultContainer(c)
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
}

func defaultHostPorts(ports []corev1.ContainerPort) {
	for i := range ports {
		if ports[i].HostPort == 0 {
			ports[i].HostPort = ports[i].ContainerPort
		}
	}
}

func defaultContainer(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if f := c.Env[i].ValueFrom; f != nil {
			defaultFieldRef(f.FieldRef)
			if f.FileKeyRef != nil && f.FileKeyRef.Optional == nil {
				f.FileKeyRef.Optional = ptr(false)
			}
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(p)
	}
	if c.Lifecycle != nil {
		for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil && h.HTTPGet != nil && h.HTTPGet.Scheme == "" {
				h.HTTPGet.Scheme = corev1.URISchemeHTTP
			}
		}
	}
}

// defaultPullPolicy is Always for an image without a tag or tagged
// latest, IfNotPresent otherwise (a digest counts as a tag).
func defaultPullPolicy(image string) corev1.PullPolicy {
	if strings.Contains(image, "@") {
		return corev1.PullIfNotPresent
	}
	name := image
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	i := strings.LastIndex(name, ":")
	if i < 0 || name[i+1:] == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

func defaultProbe(p *corev1.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if p.HTTPGet != nil && p.HTTPGet.Scheme == "" {
		p.HTTPGet.Scheme = corev1.URISchemeHTTP
	}
	if p.GRPC != nil && p.GRPC.Service == nil {
		p.GRPC.Service = ptr("")
	}
}

func defaultVolume(v *corev1.Volume) {
	s := &v.VolumeSource
	if *s == (corev1.VolumeSource{}) {
		s.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	mode := int32(corev1.SecretVolumeSourceDefaultMode)
	switch {
	case s.Secret != nil && s.Secret.DefaultMode == nil:
		s.Secret.DefaultMode = ptr(mode)
	case s.ConfigMap != nil && s.ConfigMap.DefaultMode == nil:
		s.ConfigMap.DefaultMode = ptr(mode)
	case s.Projected != nil && s.Projected.DefaultMode == nil:
		s.Projected.DefaultMode = ptr(mode)
	case s.DownwardAPI != nil && s.DownwardAPI.DefaultMode == nil:
		s.DownwardAPI.DefaultMode = ptr(mode)
	case s.HostPath != nil && s.HostPath.Type == nil:
		s.HostPath.Type = ptr(corev1.HostPathUnset)
	}
	defaultPodVolumeSources(s)
	if s.Image != nil && s.Image.PullPolicy == "" { // ImageVolume is GA
		s.Image.PullPolicy = corev1.PullIfNotPresent
		if s.Image.Reference != "" {
			s.Image.PullPolicy = defaultPullPolicy(s.Image.Reference)
		}
	}
	if s.DownwardAPI != nil {
		defaultDownwardAPIItems(s.DownwardAPI.Items)
	}
	if s.Projected != nil {
		for i := range s.Projected.Sources {
			src := &s.Projected.Sources[i]
			if t := src.ServiceAccountToken; t != nil && t.ExpirationSeconds == nil {
				t.ExpirationSeconds = ptr(int64(3600))
			}
			if src.DownwardAPI != nil {
				defaultDownwardAPIItems(src.DownwardAPI.Items)
			}
		}
	}
	if e := s.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		defaultPVCSpec(&e.VolumeClaimTemplate.Spec)
	}
}

// defaultDownwardAPIItems is SetDefaults_ObjectFieldSelector on each
// item's field reference: apiVersion v1.
func defaultDownwardAPIItems(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		defaultFieldRef(items[i].FieldRef)
	}
}

func defaultFieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil && f.APIVersion == "" {
		f.APIVersion = "v1"
	}
}

// defaultService is upstream's SetDefaults_Service.
func defaultService(o runtime.Object) {
	s := o.(*corev1.Service)
	if s.Spec.SessionAffinity == "" {
		s.Spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch s.Spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		s.Spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		if c := s.Spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(corev1.DefaultClientIPServiceAffinitySeconds))},
			}
		}
	}
	if s.Spec.Type == "" {
		s.Spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range s.Spec.Ports {
		p := &s.Spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if externallyAccessible(s) && s.Spec.ExternalTrafficPolicy == "" {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP:
		if s.Spec.InternalTrafficPolicy == nil {
			s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyCluster)
		}
	}
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return
	}
	if s.Spec.AllocateLoadBalancerNodePorts == nil {
		s.Spec.AllocateLoadBalancerNodePorts = ptr(true)
	}
	for i, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" && in.IPMode == nil {
			s.Status.LoadBalancer.Ingress[i].IPMode = ptr(corev1.LoadBalancerIPModeVIP)
		}
	}
}

// externallyAccessible is upstream's service.ExternallyAccessible: a
// node port or load balancer service, or a cluster IP one with external
// IPs.
func externallyAccessible(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer || s.Spec.Type == corev1.ServiceTypeNodePort ||
		(s.Spec.Type == corev1.ServiceTypeClusterIP && len(s.Spec.ExternalIPs) > 0)
}

func defaultEndpoints(o runtime.Object) {
	e := o.(*corev1.Endpoints)
	for i := range e.Subsets {
		for j := range e.Subsets[i].Ports {
			if e.Subsets[i].Ports[j].Protocol == "" {
				e.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
			}
		}
	}
}

func defaultSecret(o runtime.Object) {
	s := o.(*corev1.Secret)
	// stringData is write-only: merged into data (winning over it), never
	// stored, as upstream's conversion to the internal type does.
	for k, v := range s.StringData {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
}

func defaultReplicationController(o runtime.Object) {
	rc := o.(*corev1.ReplicationController)
	if t := rc.Spec.Template; t != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = copyMap(t.Labels)
		}
		if len(rc.Labels) == 0 {
			rc.Labels = copyMap(t.Labels)
		}
		defaultPodTemplateSpec(t)
	}
	if rc.Spec.Replicas == nil {
		rc.Spec.Replicas = ptr(int32(1))
	}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
