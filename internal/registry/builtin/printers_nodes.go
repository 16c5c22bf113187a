package builtin

import (
	"fmt"
	"sort"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// The cells of nodes' columns.

func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

func nodeRoles(n *corev1.Node) string {
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles = append(roles, r)
			}
		case k == "kubernetes.io/role" && v != "":
			roles = append(roles, v)
		}
	}
	if len(roles) == 0 {
		return "<none>"
	}
	sort.Strings(roles)
	return strings.Join(roles, ",")
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

var namespaceColumns = []registry.Column{
	{Name: "Status", Type: "string", Description: "The status of the namespace",
		Cell: func(o runtime.Object) any { return string(o.(*corev1.Namespace).Status.Phase) }},
	registry.AgeColumn,
}

var secretColumns = []registry.Column{
	{Name: "Type", Type: "string", Description: "Used to facilitate programmatic handling of secret data.",
		Cell: func(o runtime.Object) any { return string(o.(*corev1.Secret).Type) }},
	{Name: "Data", Type: "string", Description: corev1.Secret{}.SwaggerDoc()["data"],
		Cell: func(o runtime.Object) any { return int64(len(o.(*corev1.Secret).Data)) }},
	registry.AgeColumn,
}

var configMapColumns = []registry.Column{
	{Name: "Data", Type: "string", Description: corev1.ConfigMap{}.SwaggerDoc()["data"],
		Cell: func(o runtime.Object) any {
			c := o.(*corev1.ConfigMap)
			return int64(len(c.Data) + len(c.BinaryData))
		}},
	registry.AgeColumn,
}

var endpointsColumns = []registry.Column{
	{Name: "Endpoints", Type: "string", Description: "Endpoints is the list of endpoints.",
		Cell: func(o runtime.Object) any {
			var eps []string
			for _, s := range o.(*corev1.Endpoints).Subsets {
				for _, a := range s.Addresses {
					if len(s.Ports) == 0 {
						eps = append(eps, a.IP)
					}
					for _, p := range s.Ports {
						eps = append(eps, fmt.Sprintf("%s:%d", a.IP, p.Port))
					}
				}
			}
			if len(eps) == 0 {
				return "<none>"
			}
			return strings.Join(eps, ",")
		}},
	registry.AgeColumn,
}

var leaseColumns = []registry.Column{
	{Name: "Holder", Type: "string", Description: "holderIdentity contains the identity of the holder of a current lease.",
		Cell: func(o runtime.Object) any {
			if h := o.(*coordinationv1.Lease).Spec.HolderIdentity; h != nil {
				return *h
			}
			return ""
		}},
	registry.AgeColumn,
}

var eventColumns = []registry.Column{
	{Name: "Last Seen", Type: "string", Description: "lastTimestamp is the time when this Event was last observed.",
		Cell: func(o runtime.Object) any {
			e := o.(*corev1.Event)
			switch {
			case !e.LastTimestamp.IsZero():
				return registry.HumanAge(e.LastTimestamp)
			case !e.EventTime.IsZero():
				return registry.HumanAge(metav1.Time(e.EventTime))
			}
			return registry.HumanAge(e.CreationTimestamp)
		}},
	{Name: "Type", Type: "string", Description: "Type of this event (Normal, Warning), new types could be added in the future.",
		Cell: func(o runtime.Object) any { return o.(*corev1.Event).Type }},
	{Name: "Reason", Type: "string", Description: "The reason the transition into the object's current status.",
		Cell: func(o runtime.Object) any { return o.(*corev1.Event).Reason }},
	{Name: "Object", Type: "string", Description: "The object that this event is about.",
		Cell: func(o runtime.Object) any {
			r := o.(*corev1.Event).InvolvedObject
			return strings.ToLower(r.Kind) + "/" + r.Name
		}},
	{Name: "Message", Type: "string", Description: "A human-readable description of the status of this operation.",
		Cell: func(o runtime.Object) any { return strings.TrimSpace(o.(*corev1.Event).Message) }},
	{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: metav1.ObjectMeta{}.SwaggerDoc()["name"],
		Cell: func(o runtime.Object) any { return o.(*corev1.Event).Name }},
}
