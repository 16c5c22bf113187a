package builtin

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// The warnings about pods and pod templates: upstream's pkg/api/pod
// warnings.go (GetWarningsForPod, GetWarningsForPodTemplate), which every
// workload strategy uses with its template's path.

// podWarningsOnCreate is the pod strategy's WarningsOnCreate (the
// AppArmor warnings of its PrepareForCreate are preparePod's). Upstream
// warns about nothing on a pod update.
func podWarningsOnCreate(o runtime.Object) []string {
	pod := o.(*corev1.Pod)
	var warnings []string
	if msgs := registry.IsDNS1123Label(pod.Name); len(msgs) != 0 {
		warnings = append(warnings, fmt.Sprintf("metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: %v", msgs))
	}
	return append(warnings, podSpecWarnings(nil, &pod.Spec, &pod.ObjectMeta)...)
}

// podTemplateWarnings is GetWarningsForPodTemplate: the pod warnings of a
// template, their paths under path.
func podTemplateWarnings(path *field.Path, t *corev1.PodTemplateSpec) []string {
	if t == nil {
		return nil
	}
	return podSpecWarnings(path, &t.Spec, &t.ObjectMeta)
}

// deprecatedPodAnnotations are the pod annotations upstream warns about,
// in its order.
var deprecatedPodAnnotations = []struct{ key, message string }{
	{`scheduler.alpha.kubernetes.io/critical-pod`, `non-functional in v1.16+; use the "priorityClassName" field instead`},
	{`security.alpha.kubernetes.io/sysctls`, `non-functional in v1.11+; use the "sysctls" field instead`},
	{`security.alpha.kubernetes.io/unsafe-sysctls`, `non-functional in v1.11+; use the "sysctls" field instead`},
}

// podSpecWarnings is upstream's warningsForPodSpecAndMeta: path is nil
// for a pod and the template's path for a template.
func podSpecWarnings(path *field.Path, spec *corev1.PodSpec, meta *metav1.ObjectMeta) []string {
	var w []string
	w = append(w, podNodeLabelWarnings(path, spec)...)
	for _, d := range deprecatedPodAnnotations {
		if _, ok := meta.Annotations[d.key]; ok {
			w = append(w, fmt.Sprintf("%s: %s", path.Child("metadata", "annotations").Key(d.key), d.message))
		}
	}
	w = append(w, podVolumeWarnings(path, spec.Volumes)...)
	w = append(w, overlappingPathWarnings(spec.Volumes)...)
	w = append(w, podDuplicateWarnings(path, spec)...)
	for _, r := range []corev1.ResourceName{corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if _, ok := spec.Overhead[r]; ok { // the path is built for a warning only
			w = append(w, fractionalWarning(path.Child("spec", "overhead"), spec.Overhead, r)...)
		}
	}
	if spec.SecurityContext == nil || spec.SecurityContext.SeccompProfile == nil {
		if _, ok := meta.Annotations[corev1.SeccompPodAnnotationKey]; ok {
			w = append(w, fmt.Sprintf(`%s: non-functional in v1.27+; use the "seccompProfile" field instead`,
				path.Child("metadata", "annotations").Key(corev1.SeccompPodAnnotationKey)))
		}
	}
	specPath := path.Child("spec")
	visitContainers(spec, specPath, func(c *corev1.Container, p containerPath) {
		w = append(w, containerWarnings(path, spec, meta, c, p)...)
	})
	if !portsQuiet(spec) {
		w = append(w, portWarnings(spec, specPath)...)
		w = append(w, portNameWarnings(spec, specPath)...)
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		w = append(w, fmt.Sprintf("%s: must be >= 0; negative values are invalid and will be treated as 1", path.Child("spec", "terminationGracePeriodSeconds")))
	}
	w = append(w, podAffinityWarnings(path, spec.Affinity)...)
	if spec.DNSConfig != nil {
		for i, ns := range spec.DNSConfig.Nameservers {
			w = append(w, ipWarnings(path.Child("spec", "dnsConfig", "nameservers").Index(i), ns)...)
		}
	}
	for i, a := range spec.HostAliases {
		w = append(w, ipWarnings(path.Child("spec", "hostAliases").Index(i).Child("ip"), a.IP)...)
	}
	return w
}

// podNodeLabelWarnings warns about deprecated node labels in the node
// selector, node affinity and topology spread constraints, and about
// spread constraints that match no pod.
func podNodeLabelWarnings(path *field.Path, spec *corev1.PodSpec) []string {
	var w []string
	for _, k := range sortedKeys(spec.NodeSelector) {
		if msg, ok := deprecatedNodeLabels[k]; ok {
			w = append(w, fmt.Sprintf("%s: %s", path.Child("spec", "nodeSelector").Key(k), msg))
		}
	}
	if spec.Affinity != nil && spec.Affinity.NodeAffinity != nil {
		n := spec.Affinity.NodeAffinity
		if n.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			terms := path.Child("spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
			for i, term := range n.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
				w = append(w, nodeSelectorTermWarnings(term, false, terms.Index(i))...)
			}
		}
		preferred := path.Child("spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution")
		for i, term := range n.PreferredDuringSchedulingIgnoredDuringExecution {
			w = append(w, nodeSelectorTermWarnings(term.Preference, true, preferred.Index(i).Child("preference"))...)
		}
	}
	for i, t := range spec.TopologySpreadConstraints {
		p := path.Child("spec", "topologySpreadConstraints").Index(i)
		if msg, ok := deprecatedNodeLabels[t.TopologyKey]; ok {
			w = append(w, fmt.Sprintf("%s: %s is %s", p.Child("topologyKey"), t.TopologyKey, msg))
		}
		if t.LabelSelector == nil {
			w = append(w, fmt.Sprintf("%s: a null labelSelector results in matching no pod", p.Child("labelSelector")))
		}
	}
	return w
}

// podVolumeWarnings warns about deprecated and removed volume plugins and
// fractional storage in ephemeral volumes' claim templates.
func podVolumeWarnings(path *field.Path, volumes []corev1.Volume) []string {
	var w []string
	for i, v := range volumes {
		p := func() *field.Path { return path.Child("spec", "volumes").Index(i) } // for a warning only
		deprecated := func(set bool, name, msg string) {
			if set {
				w = append(w, fmt.Sprintf("%s: %s", p().Child(name), msg))
			}
		}
		deprecated(v.PhotonPersistentDisk != nil, "photonPersistentDisk", "deprecated in v1.11, non-functional in v1.16+")
		// The GitRepoVolumeDriver gate is off, and locked so, in 1.37.
		deprecated(v.GitRepo != nil, "gitRepo", "deprecated in v1.11, and disabled by default in v1.33+")
		deprecated(v.ScaleIO != nil, "scaleIO", "deprecated in v1.16, non-functional in v1.22+")
		deprecated(v.Flocker != nil, "flocker", "deprecated in v1.22, non-functional in v1.25+")
		deprecated(v.StorageOS != nil, "storageOS", "deprecated in v1.22, non-functional in v1.25+")
		deprecated(v.Quobyte != nil, "quobyte", "deprecated in v1.22, non-functional in v1.25+")
		deprecated(v.Glusterfs != nil, "glusterfs", "deprecated in v1.25, non-functional in v1.26+")
		if v.Ephemeral != nil && v.Ephemeral.VolumeClaimTemplate != nil {
			w = append(w, pvcSpecWarnings(p().Child("ephemeral", "volumeClaimTemplate", "spec"), &v.Ephemeral.VolumeClaimTemplate.Spec)...)
		}
		deprecated(v.CephFS != nil, "cephfs", "deprecated in v1.28, non-functional in v1.31+")
		deprecated(v.RBD != nil, "rbd", "deprecated in v1.28, non-functional in v1.31+")
	}
	return w
}

// podDuplicateWarnings warns about duplicate host alias IPs, duplicate
// image pull secrets and image pull secrets without a name.
func podDuplicateWarnings(path *field.Path, spec *corev1.PodSpec) []string {
	var w []string
	if len(spec.HostAliases) > 1 {
		seen := sets.New[string]()
		for i, a := range spec.HostAliases {
			if seen.Has(a.IP) {
				w = append(w, fmt.Sprintf("%s: duplicate ip %q", path.Child("spec", "hostAliases").Index(i).Child("ip"), a.IP))
			}
			seen.Insert(a.IP)
		}
	}
	secrets := func() *field.Path { return path.Child("spec", "imagePullSecrets") } // for a warning only
	if len(spec.ImagePullSecrets) > 1 {
		seen := sets.New[string]()
		for i, s := range spec.ImagePullSecrets {
			if seen.Has(s.Name) {
				w = append(w, fmt.Sprintf("%s: duplicate name %q", secrets().Index(i).Child("name"), s.Name))
			}
			seen.Insert(s.Name)
		}
	}
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			w = append(w, fmt.Sprintf("%s: invalid empty name %q", secrets().Index(i).Child("name"), s.Name))
		}
	}
	return w
}

// fractionalWarning warns when list holds a fractional byte count of r.
func fractionalWarning(path *field.Path, list corev1.ResourceList, r corev1.ResourceName) []string {
	if q, ok := list[r]; ok && q.MilliValue()%1000 != 0 {
		return []string{fmt.Sprintf("%s: fractional byte value %q is invalid, must be an integer", path.Key(string(r)), q.String())}
	}
	return nil
}

// visitContainers is upstream's pods.VisitContainersWithPath: init
// containers, containers, then ephemeral containers.
func visitContainers(spec *corev1.PodSpec, path *field.Path, visit func(*corev1.Container, containerPath)) {
	for i := range spec.InitContainers {
		visit(&spec.InitContainers[i], containerPath{path, "initContainers", i})
	}
	for i := range spec.Containers {
		visit(&spec.Containers[i], containerPath{path, "containers", i})
	}
	for i := range spec.EphemeralContainers {
		visit((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon), containerPath{path, "ephemeralContainers", i})
	}
}

// containerPath is where visitContainers found a container, its field
// path built only when a message names it.
type containerPath struct {
	spec  *field.Path
	list  string
	index int
}

// path is the container's field path (spec.containers[0]).
func (c containerPath) path() *field.Path { return c.spec.Child(c.list).Index(c.index) }

// containerWarnings are one container's: a seccomp annotation without the
// field, a template's AppArmor annotation without the field, fractional
// memory and storage, and env entries that hide earlier ones.
func containerWarnings(path *field.Path, spec *corev1.PodSpec, meta *metav1.ObjectMeta, c *corev1.Container, cp containerPath) []string {
	var w []string
	annotations := func() *field.Path { return path.Child("metadata", "annotations") } // for a warning only
	if len(meta.Annotations) > 0 && (c.SecurityContext == nil || c.SecurityContext.SeccompProfile == nil) {
		key := corev1.SeccompContainerAnnotationKeyPrefix + c.Name
		if _, ok := meta.Annotations[key]; ok {
			w = append(w, fmt.Sprintf(`%s: non-functional in v1.27+; use the "seccompProfile" field instead`, annotations().Key(key)))
		}
	}
	// A pod's AppArmor warnings come from applyAppArmorVersionSkew instead.
	if path != nil && len(meta.Annotations) > 0 && (c.SecurityContext == nil || c.SecurityContext.AppArmorProfile == nil) {
		key := corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + c.Name
		if value, ok := meta.Annotations[key]; ok {
			var podProfile *corev1.AppArmorProfile
			if spec.SecurityContext != nil {
				podProfile = spec.SecurityContext.AppArmorProfile
			}
			if podProfile == nil || !apiequality.Semantic.DeepEqual(podProfile, appArmorFieldForAnnotation(value)) {
				w = append(w, fmt.Sprintf(`%s: deprecated since v1.30; use the "appArmorProfile" field instead`, annotations().Key(key)))
			}
		}
	}
	for _, r := range []struct {
		list corev1.ResourceList
		kind string
		name corev1.ResourceName
	}{
		{c.Resources.Limits, "limits", corev1.ResourceMemory},
		{c.Resources.Requests, "requests", corev1.ResourceMemory},
		{c.Resources.Limits, "limits", corev1.ResourceEphemeralStorage},
		{c.Resources.Requests, "requests", corev1.ResourceEphemeralStorage},
	} {
		if q, ok := r.list[r.name]; ok && q.MilliValue()%1000 != 0 { // the path is built for a warning only
			w = append(w, fractionalWarning(cp.path().Child("resources", r.kind), r.list, r.name)...)
		}
	}
	return append(w, envWarnings(c.Env, cp)...)
}

// envWarnings warns about an env entry that hides an earlier one of the
// same name, unless its value refers to the earlier one.
func envWarnings(env []corev1.EnvVar, cp containerPath) []string {
	if len(env) < 2 {
		return nil
	}
	var w []string
	seen := sets.New[string]()
	for i, e := range env {
		if !seen.Has(e.Name) {
			seen.Insert(e.Name)
			continue
		}
		ref := fmt.Sprintf("$(%s)", e.Name)
		if e.ValueFrom != nil || e.Value == ref || !strings.Contains(e.Value, ref) {
			w = append(w, fmt.Sprintf("%s: hides previous definition of %q, which may be dropped when using apply", cp.path().Child("env").Index(i), e.Name))
		}
	}
	return w
}
