package builtin

import (
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/registry"
)

// Containers and the pod spec fields around them
// (k8s.io/kubernetes pkg/apis/core/validation, v1.37).

// validateContainers is upstream's validateContainerCommon with the name
// uniqueness of validateContainers; names collects the names across the
// regular and init containers, so that a duplicate is reported where
// upstream reports it (regular containers are checked first).
func validateContainers(cs []corev1.Container, vols sets.Set[string], path *field.Path, names sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	for i := range cs {
		c := &cs[i]
		p := func() *field.Path { return path.Index(i) } // for an error only
		errs = append(errs, uniqueLabel(func() *field.Path { return p().Child("name") }, c.Name, names)...)
		if c.Image == "" {
			errs = append(errs, field.Required(p().Child("image"), ""))
		}
		switch c.TerminationMessagePolicy {
		case corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
		case "":
			errs = append(errs, field.Required(p().Child("terminationMessagePolicy"), ""))
		default:
			errs = append(errs, field.NotSupported(p().Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
				[]corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}))
		}
		errs = append(errs, withPath(func(p *field.Path) field.ErrorList { return validateContainerPorts(c.Ports, p) }, p, "ports")...)
		errs = append(errs, withPath(func(p *field.Path) field.ErrorList { return validateEnv(c.Env, p) }, p, "env")...)
		errs = append(errs, withPath(func(p *field.Path) field.ErrorList { return validateVolumeMounts(c.VolumeMounts, vols, p) }, p, "volumeMounts")...)
		switch c.ImagePullPolicy {
		case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		case "":
			errs = append(errs, field.Required(p().Child("imagePullPolicy"), ""))
		default:
			errs = append(errs, field.NotSupported(p().Child("imagePullPolicy"), c.ImagePullPolicy,
				[]corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}))
		}
		errs = append(errs, withPath(func(p *field.Path) field.ErrorList { return validateResourceRequirements(&c.Resources, p) }, p, "resources")...)
		for _, probe := range []struct {
			name string
			p    *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
			if h := probe.p; h != nil && h.Exec == nil && h.HTTPGet == nil && h.TCPSocket == nil && h.GRPC == nil {
				errs = append(errs, field.Required(p().Child(probe.name), "must specify a handler type"))
			}
		}
		errs = append(errs, withPath(func(p *field.Path) field.ErrorList { return validateSecurityContext(c.SecurityContext, p) }, p, "securityContext")...)
	}
	return errs
}

// withPath runs check with no path and, only when it finds something,
// again with the path of child under parent(): the checks it runs are
// pure and use their path for their errors only, so a valid value costs
// no path.
func withPath(check func(*field.Path) field.ErrorList, parent func() *field.Path, child string) field.ErrorList {
	if errs := check(nil); len(errs) == 0 {
		return nil
	}
	return check(parent().Child(child))
}

func validateContainerPorts(ports []corev1.ContainerPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for j, port := range ports {
		pp := func() *field.Path { return path.Index(j) } // for an error only
		if port.Name != "" {
			for _, msg := range registry.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp().Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp().Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp().Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(pp().Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp().Child("hostPort"), port.HostPort, msg))
			}
		}
		switch port.Protocol {
		case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		case "":
			errs = append(errs, field.Required(pp().Child("protocol"), ""))
		default:
			errs = append(errs, field.NotSupported(pp().Child("protocol"), port.Protocol,
				[]corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}))
		}
	}
	return errs
}

// validateEnv checks the names with the relaxed rule (the
// RelaxedEnvironmentVariableValidation feature is GA).
func validateEnv(env []corev1.EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for j, e := range env {
		p := func() *field.Path { return path.Index(j) } // for an error only
		if e.Name == "" {
			errs = append(errs, field.Required(p().Child("name"), ""))
			continue
		}
		for _, msg := range validation.IsRelaxedEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(p().Child("name"), e.Name, msg))
		}
	}
	return errs
}

func validateVolumeMounts(mounts []corev1.VolumeMount, vols sets.Set[string], path *field.Path) field.ErrorList {
	var errs field.ErrorList
	points := sets.New[string]()
	for j, m := range mounts {
		p := func() *field.Path { return path.Index(j) } // for an error only
		if m.Name == "" {
			errs = append(errs, field.Required(p().Child("name"), ""))
		}
		if !vols.Has(m.Name) {
			errs = append(errs, field.NotFound(p().Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(p().Child("mountPath"), ""))
		}
		if points.Has(m.MountPath) {
			errs = append(errs, field.Invalid(p().Child("mountPath"), m.MountPath, "must be unique"))
		}
		points.Insert(m.MountPath)
	}
	return errs
}

// validateResourceRequirements is upstream's
// ValidateContainerResourceRequirements without resource claims.
func validateResourceRequirements(r *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	var limPath, reqPath *field.Path // none when path is nil (see withPath)
	if path != nil {
		limPath, reqPath = path.Child("limits"), path.Child("requests")
	}
	key := func(p *field.Path, name corev1.ResourceName) *field.Path {
		if p == nil {
			return nil
		}
		return p.Key(string(name))
	}
	for name, q := range r.Limits {
		p := key(limPath, name)
		errs = append(errs, validateContainerResourceName(name, p)...)
		errs = append(errs, validateQuantityValue(name, q, p)...)
	}
	for name, q := range r.Requests {
		p := key(reqPath, name)
		errs = append(errs, validateContainerResourceName(name, p)...)
		errs = append(errs, validateQuantityValue(name, q, p)...)
		limit, ok := r.Limits[name]
		switch {
		case ok && q.Cmp(limit) != 0 && !overcommitAllowed(name):
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case ok && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !ok && !overcommitAllowed(name):
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	return errs
}

func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func overcommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePages(name)
}

func isExtendedResourceName(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(registry.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// standardResources is upstream's helper.standardResources.
var standardResources = sets.New[corev1.ResourceName](
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims, corev1.ResourceStorage,
	corev1.ResourceRequestsStorage, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

var integerResources = sets.New[corev1.ResourceName](
	corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceSecrets, corev1.ResourceConfigMaps, corev1.ResourcePersistentVolumeClaims,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

// validateResourceName is upstream's validateResourceName: a qualified
// name, standard when unqualified.
func validateResourceName(name corev1.ResourceName, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range registry.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	if !strings.Contains(string(name), "/") && !standardResources.Has(name) &&
		!strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix) && !isHugePages(name) {
		errs = append(errs, field.Invalid(path, name, "must be a standard resource type or fully qualified"))
	}
	return errs
}

func validateContainerResourceName(name corev1.ResourceName, path *field.Path) field.ErrorList {
	errs := validateResourceName(name, path)
	if !strings.Contains(string(name), "/") {
		if name != corev1.ResourceCPU && name != corev1.ResourceMemory && name != corev1.ResourceEphemeralStorage && !isHugePages(name) {
			errs = append(errs, field.Invalid(path, name, "must be a standard resource for containers"))
		}
	} else if !isNativeResource(name) && !isExtendedResourceName(name) {
		errs = append(errs, field.Invalid(path, name, "doesn't follow extended resource name standard"))
	}
	return errs
}

// validateQuantityValue is upstream's ValidateResourceQuantityValue.
func validateQuantityValue(name corev1.ResourceName, q resource.Quantity, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(path, q.String(), apivalidation.IsNegativeErrorMsg))
	}
	if (integerResources.Has(name) || isExtendedResourceName(name)) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(path, q, "must be an integer"))
	}
	return errs
}

// validateSecurityContext is the part of upstream's
// ValidateSecurityContext that applies without Windows. kube-apiserver's --allow-privileged defaults to false.
func validateSecurityContext(sc *corev1.SecurityContext, path *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.Privileged != nil && *sc.Privileged {
		errs = append(errs, field.Forbidden(path.Child("privileged"), privilegedRefused))
	}
	if sc.RunAsUser != nil {
		for _, msg := range validation.IsValidUserID(*sc.RunAsUser) {
			errs = append(errs, field.Invalid(path.Child("runAsUser"), *sc.RunAsUser, msg))
		}
	}
	if sc.RunAsGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.RunAsGroup) {
			errs = append(errs, field.Invalid(path.Child("runAsGroup"), *sc.RunAsGroup, msg))
		}
	}
	return append(errs, validateAppArmorProfile(sc.AppArmorProfile, path.Child("appArmorProfile"))...)
}

// validatePodSpecFields checks the pod spec's own fields beyond
// containers, volumes and policies.
func validatePodSpecFields(s *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.NodeSelector) > 0 {
		errs = append(errs, metav1validation.ValidateLabels(s.NodeSelector, path.Child("nodeSelector"))...)
	}
	if s.ServiceAccountName != "" {
		for _, msg := range registry.IsDNS1123Subdomain(s.ServiceAccountName) { // apivalidation.NameIsDNSSubdomain
			errs = append(errs, field.Invalid(path.Child("serviceAccountName"), s.ServiceAccountName, msg))
		}
	}
	if s.NodeName != "" {
		for _, msg := range registry.IsDNS1123Subdomain(s.NodeName) { // apivalidation.NameIsDNSSubdomain
			errs = append(errs, field.Invalid(path.Child("nodeName"), s.NodeName, msg))
		}
	}
	if v := s.ActiveDeadlineSeconds; v != nil && (*v < 1 || *v > math.MaxInt32) {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *v, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	if sc := s.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
		errs = append(errs, validateAppArmorProfile(sc.AppArmorProfile, path.Child("securityContext", "appArmorProfile"))...)
	}
	for _, f := range []struct{ name, value string }{{"hostname", s.Hostname}, {"subdomain", s.Subdomain}} {
		if f.value == "" {
			continue
		}
		for _, msg := range registry.IsDNS1123Label(f.value) {
			errs = append(errs, field.Invalid(path.Child(f.name), f.value, msg))
		}
	}
	return errs
}

// uniqueLabel checks a name that must be a DNS label unique among its
// siblings (containers, volumes), and adds it to seen.
func uniqueLabel(path func() *field.Path, name string, seen sets.Set[string]) field.ErrorList {
	defer seen.Insert(name)
	switch {
	case name == "":
		return field.ErrorList{field.Required(path(), "")}
	case seen.Has(name):
		return field.ErrorList{field.Duplicate(path(), name)}
	}
	var errs field.ErrorList
	for _, msg := range registry.IsDNS1123Label(name) {
		errs = append(errs, field.Invalid(path(), name, msg))
	}
	return errs
}
