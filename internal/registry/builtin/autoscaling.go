package builtin

import (
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// autoscalingRows are horizontal pod autoscalers: one stored resource,
// kept at autoscaling/v2 under /registry/horizontalpodautoscalers, served
// at v2 (the preferred version, listed first) and at v1 through a
// conversion. HPAGeneration is on in 1.37: the generation starts at 1 and
// follows the spec.
func autoscalingRows() []*registry.Resource {
	v2 := &registry.Resource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers",
		Kind: "HorizontalPodAutoscaler", Namespaced: true, ShortNames: []string{"hpa"}, Categories: []string{"all"},
		New: newFn[autoscalingv2.HorizontalPodAutoscaler], NewList: newFn[autoscalingv2.HorizontalPodAutoscalerList],
		Status: true, Generation: true, Default: defaultHPA,
		Columns: hpaColumns(func(o runtime.Object) *autoscalingv2.HorizontalPodAutoscaler {
			return o.(*autoscalingv2.HorizontalPodAutoscaler)
		})}
	v1 := *v2
	v1.Version = "v1"
	v1.StorageVersion = schema.GroupVersion{Group: "autoscaling", Version: "v2"}
	v1.New, v1.NewList = newFn[autoscalingv1.HorizontalPodAutoscaler], newFn[autoscalingv1.HorizontalPodAutoscalerList]
	v1.Default = func(o runtime.Object) {
		h := o.(*autoscalingv1.HorizontalPodAutoscaler)
		if h.Spec.MinReplicas == nil {
			h.Spec.MinReplicas = ptr(int32(1))
		}
	}
	v1.Columns = hpaColumns(func(o runtime.Object) *autoscalingv2.HorizontalPodAutoscaler {
		return hpaToV2(o.(*autoscalingv1.HorizontalPodAutoscaler))
	})
	v1.Convert = &registry.Conversion{
		ToStorage: func(o runtime.Object) (runtime.Object, error) {
			return hpaToV2(o.(*autoscalingv1.HorizontalPodAutoscaler)), nil
		},
		FromStorage: func(o runtime.Object) (runtime.Object, error) {
			return hpaToV1(o.(*autoscalingv2.HorizontalPodAutoscaler))
		},
		NewStored: newFn[autoscalingv2.HorizontalPodAutoscaler], NewStoredList: newFn[autoscalingv2.HorizontalPodAutoscalerList],
	}
	return []*registry.Resource{v2, &v1}
}

// defaultCPUUtilization is the target of an autoscaler without metrics.
const defaultCPUUtilization = 80

func cpuUtilizationMetric(target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu",
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(target)}}}
}

// defaultHPA is k8s.io/kubernetes pkg/apis/autoscaling/v2/defaults.go.
func defaultHPA(o runtime.Object) {
	s := &o.(*autoscalingv2.HorizontalPodAutoscaler).Spec
	if s.MinReplicas == nil {
		s.MinReplicas = ptr(int32(1))
	}
	if len(s.Metrics) == 0 {
		s.Metrics = []autoscalingv2.MetricSpec{cpuUtilizationMetric(defaultCPUUtilization)}
	}
	if b := s.Behavior; b != nil {
		maxPolicy := autoscalingv2.MaxChangePolicySelect
		up := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(0)), SelectPolicy: &maxPolicy,
			Policies: []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
				{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
			}}
		down := &autoscalingv2.HPAScalingRules{SelectPolicy: ptr(maxPolicy),
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
		b.ScaleUp = mergeScalingRules(b.ScaleUp, up)
		b.ScaleDown = mergeScalingRules(b.ScaleDown, down)
	}
}

func mergeScalingRules(from, to *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if from == nil {
		return to
	}
	if from.SelectPolicy != nil {
		to.SelectPolicy = from.SelectPolicy
	}
	if from.StabilizationWindowSeconds != nil {
		to.StabilizationWindowSeconds = from.StabilizationWindowSeconds
	}
	if from.Policies != nil {
		to.Policies = from.Policies
	}
	if from.Tolerance != nil {
		to.Tolerance = from.Tolerance
	}
	return to
}

func hpaColumns(v2 func(runtime.Object) *autoscalingv2.HorizontalPodAutoscaler) []registry.Column {
	spec := autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()
	return []registry.Column{
		{Name: "Reference", Type: "string", Description: spec["scaleTargetRef"],
			Cell: func(o runtime.Object) any {
				r := v2(o).Spec.ScaleTargetRef
				return r.Kind + "/" + r.Name
			}},
		{Name: "Targets", Type: "string", Description: spec["metrics"],
			Cell: func(o runtime.Object) any { h := v2(o); return hpaMetrics(h.Spec.Metrics, h.Status.CurrentMetrics) }},
		{Name: "MinPods", Type: "string", Description: spec["minReplicas"],
			Cell: func(o runtime.Object) any {
				if m := v2(o).Spec.MinReplicas; m != nil {
					return fmt.Sprintf("%d", *m)
				}
				return "<unset>"
			}},
		{Name: "MaxPods", Type: "string", Description: spec["maxReplicas"],
			Cell: func(o runtime.Object) any { return int64(v2(o).Spec.MaxReplicas) }},
		{Name: "Replicas", Type: "string", Description: autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"],
			Cell: func(o runtime.Object) any { return int64(v2(o).Status.CurrentReplicas) }},
		registry.AgeColumn,
	}
}

// hpaMetrics is the TARGETS column: formatHPAMetrics of kubectl's printers.
func hpaMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	var list []string
	for i, spec := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list = append(list, hpaMetric(spec, st))
	}
	if len(list) > 2 {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:2], ", "), len(list)-2)
	}
	return strings.Join(list, ", ")
}

func hpaMetric(spec autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	current := "<unknown>"
	switch spec.Type {
	case autoscalingv2.ExternalMetricSourceType:
		t := spec.External.Target
		if t.AverageValue != nil {
			if st != nil && st.External != nil && st.External.Current.AverageValue != nil {
				current = st.External.Current.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", current, t.AverageValue.String())
		}
		if st != nil && st.External != nil {
			current = st.External.Current.Value.String()
		}
		return fmt.Sprintf("%s/%s", current, t.Value.String())
	case autoscalingv2.PodsMetricSourceType:
		if st != nil && st.Pods != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s", current, spec.Pods.Target.AverageValue.String())
	case autoscalingv2.ObjectMetricSourceType:
		t := spec.Object.Target
		if t.AverageValue != nil {
			if st != nil && st.Object != nil && st.Object.Current.AverageValue != nil {
				current = st.Object.Current.AverageValue.String()
			}
			return fmt.Sprintf("%s/%s (avg)", current, t.AverageValue.String())
		}
		if st != nil && st.Object != nil {
			current = st.Object.Current.Value.String()
		}
		return fmt.Sprintf("%s/%s", current, t.Value.String())
	case autoscalingv2.ResourceMetricSourceType:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return string(spec.Resource.Name) + ": " + resourceTarget(spec.Resource.Target, cur)
	case autoscalingv2.ContainerResourceMetricSourceType:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return string(spec.ContainerResource.Name) + ": " + resourceTarget(spec.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

func resourceTarget(t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if t.AverageValue != nil {
		if cur != nil {
			current = cur.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s", current, t.AverageValue.String())
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	target := "<auto>"
	if t.AverageUtilization != nil {
		target = fmt.Sprintf("%d%%", *t.AverageUtilization)
	}
	return fmt.Sprintf("%s/%s", current, target)
}
