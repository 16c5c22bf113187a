package builtin

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The rest of upstream's pod warnings: ports and pod affinity.

// portAt is where a container port is.
type portAt struct {
	container containerPath
	index     int
}

// field is the port's field path (spec.containers[0].ports[1]), built for
// a warning only.
func (a portAt) field() *field.Path { return a.container.path().Child("ports").Index(a.index) }

// portBlock is a container port and where it is.
type portBlock struct {
	portAt
	port corev1.ContainerPort
}

// portKey is a port's number and protocol (upstream keys its map by
// "number/protocol").
type portKey struct {
	number   int32
	protocol corev1.Protocol
}

// maxQuietPorts is the most ports portsQuiet compares pairwise.
const maxQuietPorts = 16

// portsQuiet reports, without building maps or paths, that portWarnings
// and portNameWarnings have nothing to say: no host IP without a host
// port, no two ports of one number and protocol, no port name used twice.
// False may also mean that there are too many ports to tell.
func portsQuiet(spec *corev1.PodSpec) bool {
	var ports [maxQuietPorts]*corev1.ContainerPort
	n := 0
	add := func(c *corev1.Container) bool {
		for i := range c.Ports {
			p := &c.Ports[i]
			if n == maxQuietPorts || p.HostIP != "" && p.HostPort == 0 {
				return false
			}
			for _, o := range ports[:n] {
				if o.ContainerPort == p.ContainerPort && o.Protocol == p.Protocol || p.Name != "" && o.Name == p.Name {
					return false
				}
			}
			ports[n] = p
			n++
		}
		return true
	}
	for i := range spec.InitContainers {
		if !add(&spec.InitContainers[i]) {
			return false
		}
	}
	for i := range spec.Containers {
		if !add(&spec.Containers[i]) {
			return false
		}
	}
	for i := range spec.EphemeralContainers {
		if !add((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon)) {
			return false
		}
	}
	return true
}

// portWarnings warns about a host IP without a host port and about
// container ports, across all containers, that collide with an earlier one
// of the same number and protocol.
func portWarnings(spec *corev1.PodSpec, specPath *field.Path) []string {
	var w []string
	all := map[portKey][]portBlock{}
	visitContainers(spec, specPath, func(c *corev1.Container, p containerPath) {
		for i, port := range c.Ports {
			b := portBlock{portAt{p, i}, port}
			if port.HostIP != "" && port.HostPort == 0 {
				w = append(w, fmt.Sprintf("%s: hostIP set without hostPort: %+v", b.field(), port))
			}
			k := portKey{port.ContainerPort, port.Protocol}
			for _, other := range all[k] {
				w = append(w, portCollision(b, other)...)
			}
			all[k] = append(all[k], b)
		}
	})
	return w
}

// portCollision says how port b collides with an earlier port of the same
// number and protocol, if it does.
func portCollision(b, other portBlock) []string {
	port := b.port
	a, o := port.HostIP == "", other.port.HostIP == ""
	switch {
	case port.HostIP == other.port.HostIP && port.HostPort == other.port.HostPort:
		return []string{fmt.Sprintf("%s: duplicate port definition with %s", b.field(), other.field())}
	case port.HostPort == 0 || other.port.HostPort == 0:
		return []string{fmt.Sprintf("%s: overlapping port definition with %s", b.field(), other.field())}
	case port.HostPort == other.port.HostPort && (a || o) && !(a && o):
		return []string{fmt.Sprintf("%s: dangerously ambiguous port definition with %s", b.field(), other.field())}
	}
	return nil
}

// portNameWarnings warns about a port name used by an earlier port.
func portNameWarnings(spec *corev1.PodSpec, specPath *field.Path) []string {
	var w []string
	var names map[string]portAt
	visitContainers(spec, specPath, func(c *corev1.Container, p containerPath) {
		for i, port := range c.Ports {
			if port.Name == "" {
				continue
			}
			b := portAt{p, i}
			if other, ok := names[port.Name]; ok {
				o := other.field()
				w = append(w, fmt.Sprintf("%s: duplicate port name %q with %s, services and probes that select ports by name will use %s",
					b.field(), port.Name, o, o))
			} else {
				if names == nil {
					names = map[string]portAt{}
				}
				names[port.Name] = b
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
