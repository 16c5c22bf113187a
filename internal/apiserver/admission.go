package apiserver

import (
	"net/url"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// connectOptions is the options object of a connection that dynamic
// admission sees (upstream's connect handler decodes it from the query):
// PodExecOptions, PodAttachOptions, PodPortForwardOptions,
// PodProxyOptions, ServiceProxyOptions or NodeProxyOptions. It returns
// nil for what upstream does not admit as a connection (pods/log is a
// get).
func connectOptions(res *registry.Resource, sub, path string, q url.Values) runtime.Object {
	if res.Group != "" {
		return nil
	}
	flag := func(k string) bool { b, _ := strconv.ParseBool(q.Get(k)); return b }
	var obj runtime.Object
	switch res.Resource + "/" + sub {
	case "pods/exec":
		obj = &corev1.PodExecOptions{Stdin: flag("stdin"), Stdout: flag("stdout"), Stderr: flag("stderr"), TTY: flag("tty"),
			Container: q.Get("container"), Command: q["command"]}
	case "pods/attach":
		obj = &corev1.PodAttachOptions{Stdin: flag("stdin"), Stdout: flag("stdout"), Stderr: flag("stderr"), TTY: flag("tty"),
			Container: q.Get("container")}
	case "pods/portforward":
		o := &corev1.PodPortForwardOptions{}
		for _, p := range q["ports"] {
			if n, err := strconv.ParseInt(p, 10, 32); err == nil {
				o.Ports = append(o.Ports, int32(n))
			}
		}
		obj = o
	case "pods/proxy":
		obj = &corev1.PodProxyOptions{Path: path}
	case "services/proxy":
		obj = &corev1.ServiceProxyOptions{Path: path}
	case "nodes/proxy":
		obj = &corev1.NodeProxyOptions{Path: path}
	default:
		return nil
	}
	obj.GetObjectKind().SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kindName(obj)))
	return obj
}

func kindName(obj runtime.Object) string {
	switch obj.(type) {
	case *corev1.PodExecOptions:
		return "PodExecOptions"
	case *corev1.PodAttachOptions:
		return "PodAttachOptions"
	case *corev1.PodPortForwardOptions:
		return "PodPortForwardOptions"
	case *corev1.PodProxyOptions:
		return "PodProxyOptions"
	case *corev1.ServiceProxyOptions:
		return "ServiceProxyOptions"
	}
	return "NodeProxyOptions"
}

// scaleAdmissionView is what dynamic admission sees of a write to /scale:
// the Scale (resource and name of the parent, subresource "scale").
func scaleAdmissionView(st *registry.Store) *registry.AdmissionView {
	return &registry.AdmissionView{Subresource: "scale", Kind: scaleGV.WithKind("Scale"),
		To: func(obj runtime.Object) runtime.Object { return toScale(st, obj) },
		From: func(view, obj runtime.Object) {
			if sc, ok := view.(*autoscalingScale); ok {
				st.Resource().Scale.SetReplicas(obj, sc.Spec.Replicas)
			}
		}}
}
