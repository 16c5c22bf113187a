package builtin

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/regis-dev/regis/internal/registry"
)

// The printer columns of kubectl's usual output, after k8s.io/kubernetes
// pkg/printers/internalversion/printers.go (v1.37). The NAME column is
// added by the Table builder; AGE is a column here where upstream puts it
// in the middle of the row.

var podColumns = []registry.Column{
	{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic.",
		Cell: func(o runtime.Object) any {
			p := o.(*corev1.Pod)
			ready := 0
			for _, c := range p.Status.ContainerStatuses {
				if c.Ready {
					ready++
				}
			}
			return fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
		}},
	{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod.",
		Cell: func(o runtime.Object) any { return podStatus(o.(*corev1.Pod)) }},
	{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
		Cell: func(o runtime.Object) any {
			n := int32(0)
			for _, c := range o.(*corev1.Pod).Status.ContainerStatuses {
				n += c.RestartCount
			}
			return strconv.Itoa(int(n))
		}},
	registry.AgeColumn,
	{Name: "IP", Type: "string", Priority: 1, Description: "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
		Cell: func(o runtime.Object) any { return orNone(o.(*corev1.Pod).Status.PodIP) }},
	{Name: "Node", Type: "string", Priority: 1, Description: "NodeName is a request to schedule this pod onto a specific node.",
		Cell: func(o runtime.Object) any { return orNone(o.(*corev1.Pod).Spec.NodeName) }},
	{Name: "Nominated Node", Type: "string", Priority: 1, Description: "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
		Cell: func(o runtime.Object) any { return orNone(o.(*corev1.Pod).Status.NominatedNodeName) }},
	{Name: "Readiness Gates", Type: "string", Priority: 1, Description: "If specified, all readiness gates will be evaluated for pod readiness.",
		Cell: func(o runtime.Object) any {
			p := o.(*corev1.Pod)
			if len(p.Spec.ReadinessGates) == 0 {
				return "<none>"
			}
			return fmt.Sprintf("0/%d", len(p.Spec.ReadinessGates))
		}},
}

func podStatus(p *corev1.Pod) string {
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil && c.State.Waiting.Reason != "":
			reason = c.State.Waiting.Reason
		case c.State.Terminated != nil && c.State.Terminated.Reason != "":
			reason = c.State.Terminated.Reason
		}
	}
	if p.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	return reason
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func containersAndImages(spec *corev1.PodSpec) (string, string) {
	var names, images []string
	for _, c := range spec.Containers {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

func workloadWide(spec func(runtime.Object) (*corev1.PodSpec, *metav1.LabelSelector), selector bool) []registry.Column {
	cols := []registry.Column{
		{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template.",
			Cell: func(o runtime.Object) any { s, _ := spec(o); n, _ := containersAndImages(s); return n }},
		{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template.",
			Cell: func(o runtime.Object) any { s, _ := spec(o); _, i := containersAndImages(s); return i }},
	}
	if selector {
		cols = append(cols, registry.Column{Name: "Selector", Type: "string", Priority: 1, Description: "Label selector for pods.",
			Cell: func(o runtime.Object) any { _, sel := spec(o); return orNone(selectorString(sel)) }})
	}
	return cols
}

var deploymentColumns = append([]registry.Column{
	{Name: "Ready", Type: "string", Description: "Number of the pod with ready state",
		Cell: func(o runtime.Object) any {
			d := o.(*appsv1.Deployment)
			return fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref32(d.Spec.Replicas))
		}},
	{Name: "Up-to-date", Type: "string", Description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.Deployment).Status.UpdatedReplicas) }},
	{Name: "Available", Type: "string", Description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.Deployment).Status.AvailableReplicas) }},
	registry.AgeColumn,
}, workloadWide(func(o runtime.Object) (*corev1.PodSpec, *metav1.LabelSelector) {
	d := o.(*appsv1.Deployment)
	return &d.Spec.Template.Spec, d.Spec.Selector
}, true)...)

var replicaSetColumns = append([]registry.Column{
	{Name: "Desired", Type: "integer", Description: "Replicas is the number of desired replicas.",
		Cell: func(o runtime.Object) any { return int64(deref32(o.(*appsv1.ReplicaSet).Spec.Replicas)) }},
	{Name: "Current", Type: "integer", Description: "Replicas is the most recently observed number of replicas.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.ReplicaSet).Status.Replicas) }},
	{Name: "Ready", Type: "integer", Description: "The number of ready replicas for this replica set.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.ReplicaSet).Status.ReadyReplicas) }},
	registry.AgeColumn,
}, workloadWide(func(o runtime.Object) (*corev1.PodSpec, *metav1.LabelSelector) {
	r := o.(*appsv1.ReplicaSet)
	return &r.Spec.Template.Spec, r.Spec.Selector
}, true)...)

var statefulSetColumns = append([]registry.Column{
	{Name: "Ready", Type: "string", Description: "Number of the pod with ready state",
		Cell: func(o runtime.Object) any {
			s := o.(*appsv1.StatefulSet)
			return fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, deref32(s.Spec.Replicas))
		}},
	registry.AgeColumn,
}, workloadWide(func(o runtime.Object) (*corev1.PodSpec, *metav1.LabelSelector) {
	s := o.(*appsv1.StatefulSet)
	return &s.Spec.Template.Spec, s.Spec.Selector
}, false)...)

var daemonSetColumns = append([]registry.Column{
	{Name: "Desired", Type: "integer", Description: "The total number of nodes that should be running the daemon pod.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.DesiredNumberScheduled) }},
	{Name: "Current", Type: "integer", Description: "The number of nodes that are running at least 1 daemon pod.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.CurrentNumberScheduled) }},
	{Name: "Ready", Type: "integer", Description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.NumberReady) }},
	{Name: "Up-to-date", Type: "integer", Description: "The total number of nodes that are running updated daemon pod",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.UpdatedNumberScheduled) }},
	{Name: "Available", Type: "integer", Description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
		Cell: func(o runtime.Object) any { return int64(o.(*appsv1.DaemonSet).Status.NumberAvailable) }},
	{Name: "Node Selector", Type: "string", Description: "NodeSelector is a selector which must be true for the pod to fit on a node.",
		Cell: func(o runtime.Object) any {
			return orNone(labelsString(o.(*appsv1.DaemonSet).Spec.Template.Spec.NodeSelector))
		}},
	registry.AgeColumn,
}, workloadWide(func(o runtime.Object) (*corev1.PodSpec, *metav1.LabelSelector) {
	d := o.(*appsv1.DaemonSet)
	return &d.Spec.Template.Spec, d.Spec.Selector
}, true)...)

var rcColumns = append([]registry.Column{
	{Name: "Desired", Type: "integer", Description: "Replicas is the number of desired replicas.",
		Cell: func(o runtime.Object) any { return int64(deref32(o.(*corev1.ReplicationController).Spec.Replicas)) }},
	{Name: "Current", Type: "integer", Description: "Replicas is the most recently observed number of replicas.",
		Cell: func(o runtime.Object) any { return int64(o.(*corev1.ReplicationController).Status.Replicas) }},
	{Name: "Ready", Type: "integer", Description: "The number of ready replicas for this replication controller.",
		Cell: func(o runtime.Object) any { return int64(o.(*corev1.ReplicationController).Status.ReadyReplicas) }},
	registry.AgeColumn,
}, workloadWide(func(o runtime.Object) (*corev1.PodSpec, *metav1.LabelSelector) {
	r := o.(*corev1.ReplicationController)
	spec := &corev1.PodSpec{}
	if r.Spec.Template != nil {
		spec = &r.Spec.Template.Spec
	}
	return spec, &metav1.LabelSelector{MatchLabels: r.Spec.Selector}
}, true)...)

var jobColumns = []registry.Column{
	{Name: "Status", Type: "string", Description: "Status of the job.",
		Cell: func(o runtime.Object) any { return jobStatus(o.(*batchv1.Job)) }},
	{Name: "Completions", Type: "string", Description: "The desired number of successfully finished pods the job should be run with.",
		Cell: func(o runtime.Object) any {
			j := o.(*batchv1.Job)
			if j.Spec.Completions == nil {
				return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, deref32(j.Spec.Parallelism))
			}
			return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
		}},
	{Name: "Duration", Type: "string", Description: "Time required to complete the job.",
		Cell: func(o runtime.Object) any {
			j := o.(*batchv1.Job)
			if j.Status.StartTime == nil {
				return ""
			}
			end := time.Now()
			if j.Status.CompletionTime != nil {
				end = j.Status.CompletionTime.Time
			}
			return duration.HumanDuration(end.Sub(j.Status.StartTime.Time))
		}},
	registry.AgeColumn,
}

func jobStatus(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return "Complete"
		case batchv1.JobFailed:
			return "Failed"
		case batchv1.JobSuspended:
			return "Suspended"
		}
	}
	if j.DeletionTimestamp != nil {
		return "Terminating"
	}
	return "Running"
}

var cronJobColumns = []registry.Column{
	{Name: "Schedule", Type: "string", Description: "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
		Cell: func(o runtime.Object) any { return o.(*batchv1.CronJob).Spec.Schedule }},
	{Name: "Timezone", Type: "string", Description: "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
		Cell: func(o runtime.Object) any {
			if tz := o.(*batchv1.CronJob).Spec.TimeZone; tz != nil {
				return *tz
			}
			return "<none>"
		}},
	{Name: "Suspend", Type: "boolean", Description: "This flag tells the controller to suspend subsequent executions.",
		Cell: func(o runtime.Object) any {
			s := o.(*batchv1.CronJob).Spec.Suspend
			return s != nil && *s
		}},
	{Name: "Active", Type: "integer", Description: "A list of pointers to currently running jobs.",
		Cell: func(o runtime.Object) any { return int64(len(o.(*batchv1.CronJob).Status.Active)) }},
	{Name: "Last Schedule", Type: "string", Description: "Information when was the last time the job was successfully scheduled.",
		Cell: func(o runtime.Object) any {
			if t := o.(*batchv1.CronJob).Status.LastScheduleTime; t != nil {
				return registry.HumanAge(*t)
			}
			return "<none>"
		}},
	registry.AgeColumn,
}

var serviceColumns = []registry.Column{
	{Name: "Type", Type: "string", Description: "type determines how the Service is exposed.",
		Cell: func(o runtime.Object) any { return string(o.(*corev1.Service).Spec.Type) }},
	{Name: "Cluster-IP", Type: "string", Description: "clusterIP is the IP address of the service.",
		Cell: func(o runtime.Object) any { return orNone(o.(*corev1.Service).Spec.ClusterIP) }},
	{Name: "External-IP", Type: "string", Description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
		Cell: func(o runtime.Object) any { return serviceExternalIP(o.(*corev1.Service)) }},
	{Name: "Port(s)", Type: "string", Description: "The list of ports that are exposed by this service.",
		Cell: func(o runtime.Object) any { return servicePorts(o.(*corev1.Service).Spec.Ports) }},
	registry.AgeColumn,
	{Name: "Selector", Type: "string", Priority: 1, Description: "Route service traffic to pods with label keys and values matching this selector.",
		Cell: func(o runtime.Object) any { return orNone(labelsString(o.(*corev1.Service).Spec.Selector)) }},
}

func serviceExternalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		ips = append(ips, s.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	}
	if len(s.Spec.ExternalIPs) > 0 {
		return strings.Join(s.Spec.ExternalIPs, ",")
	}
	return "<none>"
}

func servicePorts(ps []corev1.ServicePort) string {
	if len(ps) == 0 {
		return "<none>"
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		s := fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		if p.NodePort > 0 {
			s = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func labelsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(m))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

var nodeColumns = []registry.Column{
	{Name: "Status", Type: "string", Description: "The status of the node",
		Cell: func(o runtime.Object) any { return nodeStatus(o.(*corev1.Node)) }},
	{Name: "Roles", Type: "string", Description: "The roles of the node",
		Cell: func(o runtime.Object) any { return nodeRoles(o.(*corev1.Node)) }},
	registry.AgeColumn,
	{Name: "Version", Type: "string", Description: "Kubelet Version reported by the node.",
		Cell: func(o runtime.Object) any { return o.(*corev1.Node).Status.NodeInfo.KubeletVersion }},
	{Name: "Internal-IP", Type: "string", Priority: 1, Description: "List of addresses reachable to the node. Queried from cloud provider, if available.",
		Cell: func(o runtime.Object) any { return nodeAddress(o.(*corev1.Node), corev1.NodeInternalIP) }},
	{Name: "External-IP", Type: "string", Priority: 1, Description: "List of addresses reachable to the node. Queried from cloud provider, if available.",
		Cell: func(o runtime.Object) any { return nodeAddress(o.(*corev1.Node), corev1.NodeExternalIP) }},
	{Name: "OS-Image", Type: "string", Priority: 1, Description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
		Cell: func(o runtime.Object) any { return orUnknown(o.(*corev1.Node).Status.NodeInfo.OSImage) }},
	{Name: "Kernel-Version", Type: "string", Priority: 1, Description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
		Cell: func(o runtime.Object) any { return orUnknown(o.(*corev1.Node).Status.NodeInfo.KernelVersion) }},
	{Name: "Container-Runtime", Type: "string", Priority: 1, Description: "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
		Cell: func(o runtime.Object) any { return orUnknown(o.(*corev1.Node).Status.NodeInfo.ContainerRuntimeVersion) }},
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}
