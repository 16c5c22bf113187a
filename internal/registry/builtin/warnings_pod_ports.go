package builtin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The rest of upstream's pod warnings: ports and pod affinity.

type portBlock struct {
	field *field.Path
	port  corev1.ContainerPort
}

// portWarnings warns about a host IP without a host port and about
// container ports, across all containers, that collide with an earlier one
// of the same number and protocol.
func portWarnings(spec *corev1.PodSpec, specPath *field.Path) []string {
	var w []string
	all := map[string][]portBlock{}
	visitContainers(spec, specPath, func(c *corev1.Container, p *field.Path) {
		for i, port := range c.Ports {
			fp := p.Child("ports").Index(i)
			if port.HostIP != "" && port.HostPort == 0 {
				w = append(w, fmt.Sprintf("%s: hostIP set without hostPort: %+v", fp, port))
			}
			k := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
			for _, other := range all[k] {
				w = append(w, portCollision(fp, port, other)...)
			}
			all[k] = append(all[k], portBlock{field: fp, port: port})
		}
	})
	return w
}

// portCollision says how port, at fp, collides with an earlier port of
// the same number and protocol, if it does.
func portCollision(fp *field.Path, port corev1.ContainerPort, other portBlock) []string {
	a, b := port.HostIP == "", other.port.HostIP == ""
	switch {
	case port.HostIP == other.port.HostIP && port.HostPort == other.port.HostPort:
		return []string{fmt.Sprintf("%s: duplicate port definition with %s", fp, other.field)}
	case port.HostPort == 0 || other.port.HostPort == 0:
		return []string{fmt.Sprintf("%s: overlapping port definition with %s", fp, other.field)}
	case port.HostPort == other.port.HostPort && (a || b) && !(a && b):
		return []string{fmt.Sprintf("%s: dangerously ambiguous port definition with %s", fp, other.field)}
	}
	return nil
}

// portNameWarnings warns about a port name used by an earlier port.
func portNameWarnings(spec *corev1.PodSpec, specPath *field.Path) []string {
	var w []string
	names := map[string]*field.Path{}
	visitContainers(spec, specPath, func(c *corev1.Container, p *field.Path) {
		for i, port := range c.Ports {
			if port.Name == "" {
				continue
			}
			fp := p.Child("ports").Index(i)
			if other, ok := names[port.Name]; ok {
				w = append(w, fmt.Sprintf("%s: duplicate port name %q with %s, services and probes that select ports by name will use %s",
					fp, port.Name, other, other))
			} else {
				names[port.Name] = fp
			}
		}
	})
	return w
}

// podAffinityWarnings warns about pod (anti-)affinity terms whose null
// label selector matches no pod.
func podAffinityWarnings(path *field.Path, affinity *corev1.Affinity) []string {
	if affinity == nil {
		return nil
	}
	var w []string
	terms := func(name string, required []corev1.PodAffinityTerm, preferred []corev1.WeightedPodAffinityTerm) {
		p := path.Child("spec", "affinity", name)
		for i, t := range required {
			if t.LabelSelector == nil {
				w = append(w, fmt.Sprintf("%s: a null labelSelector results in matching no pod",
					p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i).Child("labelSelector")))
			}
		}
		for i, t := range preferred {
			if t.PodAffinityTerm.LabelSelector == nil {
				w = append(w, fmt.Sprintf("%s: a null labelSelector results in matching no pod",
					p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i).Child("podAffinityTerm", "labelSelector")))
			}
		}
	}
	if a := affinity.PodAffinity; a != nil {
		terms("podAffinity", a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if a := affinity.PodAntiAffinity; a != nil {
		terms("podAntiAffinity", a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return w
}
