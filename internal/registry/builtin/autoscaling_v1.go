package builtin

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The conversion of autoscaling/v1 autoscalers to and from the stored
// autoscaling/v2 ones, after k8s.io/kubernetes pkg/apis/autoscaling/v1/
// conversion.go: what v1 cannot say (metrics other than a CPU utilization,
// metric statuses, conditions, behavior) travels in annotations.

const (
	hpaMetricSpecsAnnotation    = "autoscaling.alpha.kubernetes.io/metrics"
	hpaMetricStatusesAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	hpaConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	hpaBehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
	hpaToleranceDownAnnotation  = "autoscaling.alpha.kubernetes.io/scale-down-tolerance"
	hpaToleranceUpAnnotation    = "autoscaling.alpha.kubernetes.io/scale-up-tolerance"
)

var hpaRoundTripAnnotations = []string{hpaMetricSpecsAnnotation, hpaMetricStatusesAnnotation, hpaConditionsAnnotation,
	hpaBehaviorAnnotation, hpaToleranceDownAnnotation, hpaToleranceUpAnnotation}

// dropHPAAnnotations returns the annotations without the round-trip ones,
// copied when it removes any.
func dropHPAAnnotations(in map[string]string) map[string]string {
	found := false
	for _, k := range hpaRoundTripAnnotations {
		_, ok := in[k]
		found = found || ok
	}
	if !found {
		return in
	}
	out := copyMap(in)
	for _, k := range hpaRoundTripAnnotations {
		delete(out, k)
	}
	return out
}

func isCPUUtilization(m autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == "cpu" &&
		m.Resource.Target.AverageUtilization != nil
}

// hpaToV1 converts a stored autoscaler to autoscaling/v1.
func hpaToV1(in *autoscalingv2.HorizontalPodAutoscaler) (*autoscalingv1.HorizontalPodAutoscaler, error) {
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   typeMeta("autoscaling/v1", "HorizontalPodAutoscaler"),
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    in.Spec.MinReplicas, MaxReplicas: in.Spec.MaxReplicas,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration, LastScaleTime: in.Status.LastScaleTime,
			CurrentReplicas: in.Status.CurrentReplicas, DesiredReplicas: in.Status.DesiredReplicas,
		},
	}
	out.Annotations = dropHPAAnnotations(out.Annotations)
	var other []autoscalingv1.MetricSpec
	for _, m := range in.Spec.Metrics {
		if isCPUUtilization(m) {
			if out.Spec.TargetCPUUtilizationPercentage == nil {
				out.Spec.TargetCPUUtilizationPercentage = ptr(*m.Resource.Target.AverageUtilization)
			}
			continue
		}
		other = append(other, metricSpecToV1(m))
	}
	for _, m := range in.Status.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == "cpu" &&
			m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = ptr(*m.Resource.Current.AverageUtilization)
		}
	}
	set := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[key] = string(b)
		return nil
	}
	var statuses []autoscalingv1.MetricStatus
	for _, m := range in.Status.CurrentMetrics {
		statuses = append(statuses, metricStatusToV1(m))
	}
	var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
	for _, c := range in.Status.Conditions {
		conditions = append(conditions, autoscalingv1.HorizontalPodAutoscalerCondition{Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type),
			Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}
	for _, a := range []struct {
		key  string
		v    any
		emit bool
	}{
		{hpaMetricSpecsAnnotation, other, len(other) > 0},
		{hpaMetricStatusesAnnotation, statuses, len(statuses) > 0},
		{hpaBehaviorAnnotation, internalBehavior(in.Spec.Behavior), in.Spec.Behavior != nil},
		{hpaConditionsAnnotation, conditions, len(conditions) > 0},
	} {
		if a.emit {
			if err := set(a.key, a.v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// hpaToV2 converts an autoscaling/v1 autoscaler to the stored version.
func hpaToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   typeMeta("autoscaling/v2", "HorizontalPodAutoscaler"),
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    in.Spec.MinReplicas, MaxReplicas: in.Spec.MaxReplicas,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: in.Status.ObservedGeneration, LastScaleTime: in.Status.LastScaleTime,
			CurrentReplicas: in.Status.CurrentReplicas, DesiredReplicas: in.Status.DesiredReplicas,
		},
	}
	if p := in.Spec.TargetCPUUtilizationPercentage; p != nil {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilizationMetric(*p)}
	}
	if p := in.Status.CurrentCPUUtilizationPercentage; p != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: "cpu",
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr(*p)}}}}
	}
	ann := in.Annotations
	var other []autoscalingv1.MetricSpec
	if s, ok := ann[hpaMetricSpecsAnnotation]; ok && json.Unmarshal([]byte(s), &other) == nil {
		metrics := make([]autoscalingv2.MetricSpec, 0, len(other)+1)
		for _, m := range other {
			metrics = append(metrics, metricSpecToV2(m))
		}
		out.Spec.Metrics = append(metrics, out.Spec.Metrics...)
	}
	var b behaviorInternal
	if s, ok := ann[hpaBehaviorAnnotation]; ok && json.Unmarshal([]byte(s), &b) == nil && (b.ScaleUp != nil || b.ScaleDown != nil) {
		out.Spec.Behavior = b.toV2()
	}
	var statuses []autoscalingv1.MetricStatus
	if s, ok := ann[hpaMetricStatusesAnnotation]; ok && json.Unmarshal([]byte(s), &statuses) == nil {
		out.Status.CurrentMetrics = make([]autoscalingv2.MetricStatus, len(statuses))
		for i, m := range statuses {
			out.Status.CurrentMetrics[i] = metricStatusToV2(m)
		}
	}
	if len(out.Spec.Metrics) == 0 {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilizationMetric(defaultCPUUtilization)}
	}
	var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
	if s, ok := ann[hpaConditionsAnnotation]; ok && json.Unmarshal([]byte(s), &conditions) == nil {
		out.Status.Conditions = make([]autoscalingv2.HorizontalPodAutoscalerCondition, len(conditions))
		for i, c := range conditions {
			out.Status.Conditions[i] = autoscalingv2.HorizontalPodAutoscalerCondition{Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type),
				Status: c.Status, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message}
		}
	}
	out.Annotations = dropHPAAnnotations(out.Annotations)
	return out
}

// behaviorInternal is the internal type upstream marshals into the
// behavior annotation: Go field names, no JSON tags.
type behaviorInternal struct {
	ScaleUp, ScaleDown *rulesInternal
}

type rulesInternal struct {
	StabilizationWindowSeconds *int32
	SelectPolicy               *autoscalingv2.ScalingPolicySelect
	Policies                   []policyInternal
	Tolerance                  *resource.Quantity
}

type policyInternal struct {
	Type          autoscalingv2.HPAScalingPolicyType
	Value         int32
	PeriodSeconds int32
}

func internalBehavior(b *autoscalingv2.HorizontalPodAutoscalerBehavior) *behaviorInternal {
	if b == nil {
		return nil
	}
	conv := func(r *autoscalingv2.HPAScalingRules) *rulesInternal {
		if r == nil {
			return nil
		}
		out := &rulesInternal{StabilizationWindowSeconds: r.StabilizationWindowSeconds, SelectPolicy: r.SelectPolicy,
			Tolerance: r.Tolerance}
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, policyInternal(p))
		}
		return out
	}
	return &behaviorInternal{ScaleUp: conv(b.ScaleUp), ScaleDown: conv(b.ScaleDown)}
}

func (b *behaviorInternal) toV2() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	conv := func(r *rulesInternal) *autoscalingv2.HPAScalingRules {
		if r == nil {
			return nil
		}
		out := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: r.StabilizationWindowSeconds,
			SelectPolicy: r.SelectPolicy, Tolerance: r.Tolerance}
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, autoscalingv2.HPAScalingPolicy(p))
		}
		return out
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: conv(b.ScaleUp), ScaleDown: conv(b.ScaleDown)}
}
