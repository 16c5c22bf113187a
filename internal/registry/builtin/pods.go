package builtin

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// DefaultTerminationGracePeriodSeconds is the grace period of a pod that
// names none (upstream's v1.DefaultTerminationGracePeriodSeconds).
const DefaultTerminationGracePeriodSeconds = 30

// podGracePeriod is upstream's podStrategy.CheckGracefulDelete: the
// request's gracePeriodSeconds, else the pod's
// terminationGracePeriodSeconds, else 30; 0 for a pod no node runs (not
// scheduled, or finished).
func podGracePeriod(obj runtime.Object, o *metav1.DeleteOptions) int64 {
	pod := obj.(*corev1.Pod)
	period := int64(DefaultTerminationGracePeriodSeconds)
	switch {
	case o.GracePeriodSeconds != nil:
		period = *o.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	return period
}
