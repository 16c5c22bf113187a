package builtin

import (
	"cmp"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// flowcontrolRows are flowcontrol.apiserver.k8s.io/v1: flow schemas and
// priority levels, cluster-scoped, with a status and a generation.
func flowcontrolRows() []*registry.Resource {
	const g, v = "flowcontrol.apiserver.k8s.io", "v1"
	return []*registry.Resource{
		{Group: g, Version: v, Resource: "flowschemas", Kind: "FlowSchema",
			New: newFn[flowcontrolv1.FlowSchema], NewList: newFn[flowcontrolv1.FlowSchemaList],
			Status: true, Generation: true, Default: defaultFlowSchema, Columns: flowSchemaColumns,
			TableOrder: func(a, b runtime.Object) int {
				x, y := a.(*flowcontrolv1.FlowSchema), b.(*flowcontrolv1.FlowSchema)
				if c := cmp.Compare(x.Spec.MatchingPrecedence, y.Spec.MatchingPrecedence); c != 0 {
					return c
				}
				return cmp.Compare(x.Name, y.Name)
			}},
		{Group: g, Version: v, Resource: "prioritylevelconfigurations", Kind: "PriorityLevelConfiguration",
			New: newFn[flowcontrolv1.PriorityLevelConfiguration], NewList: newFn[flowcontrolv1.PriorityLevelConfigurationList],
			Status: true, Generation: true, Default: defaultPriorityLevel, Columns: priorityLevelColumns},
	}
}

// The defaults of k8s.io/kubernetes pkg/apis/flowcontrol/v1/defaults.go.
const (
	flowSchemaDefaultMatchingPrecedence = 1000
	priorityLevelDefaultHandSize        = 8
	priorityLevelDefaultQueues          = 64
	priorityLevelDefaultQueueLength     = 50
	priorityLevelDefaultShares          = 30
)

func defaultFlowSchema(o runtime.Object) {
	fs := o.(*flowcontrolv1.FlowSchema)
	if fs.Spec.MatchingPrecedence == 0 {
		fs.Spec.MatchingPrecedence = flowSchemaDefaultMatchingPrecedence
	}
}

func defaultPriorityLevel(o runtime.Object) {
	s := &o.(*flowcontrolv1.PriorityLevelConfiguration).Spec
	if l := s.Limited; l != nil {
		if l.NominalConcurrencyShares == nil {
			l.NominalConcurrencyShares = ptr(int32(priorityLevelDefaultShares))
		}
		if l.LendablePercent == nil {
			l.LendablePercent = ptr(int32(0))
		}
		if q := l.LimitResponse.Queuing; q != nil {
			if q.HandSize == 0 {
				q.HandSize = priorityLevelDefaultHandSize
			}
			if q.Queues == 0 {
				q.Queues = priorityLevelDefaultQueues
			}
			if q.QueueLengthLimit == 0 {
				q.QueueLengthLimit = priorityLevelDefaultQueueLength
			}
		}
	}
	if e := s.Exempt; e != nil {
		if e.NominalConcurrencyShares == nil {
			e.NominalConcurrencyShares = ptr(int32(0))
		}
		if e.LendablePercent == nil {
			e.LendablePercent = ptr(int32(0))
		}
	}
}

var flowSchemaColumns = []registry.Column{
	{Name: "PriorityLevel", Type: "string", Description: flowcontrolv1.PriorityLevelConfigurationReference{}.SwaggerDoc()["name"],
		Cell: func(o runtime.Object) any { return o.(*flowcontrolv1.FlowSchema).Spec.PriorityLevelConfiguration.Name }},
	{Name: "MatchingPrecedence", Type: "string", Description: flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["matchingPrecedence"],
		Cell: func(o runtime.Object) any { return int64(o.(*flowcontrolv1.FlowSchema).Spec.MatchingPrecedence) }},
	{Name: "DistinguisherMethod", Type: "string", Description: flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["distinguisherMethod"],
		Cell: func(o runtime.Object) any {
			if d := o.(*flowcontrolv1.FlowSchema).Spec.DistinguisherMethod; d != nil {
				return string(d.Type)
			}
			return "<none>"
		}},
	registry.AgeColumn,
	{Name: "MissingPL", Type: "string", Description: "references a broken or non-existent PriorityLevelConfiguration",
		Cell: func(o runtime.Object) any {
			for _, c := range o.(*flowcontrolv1.FlowSchema).Status.Conditions {
				if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
					return string(c.Status)
				}
			}
			return "?"
		}},
}

// priorityLevelCell returns a cell of a limited priority level, "<none>"
// for the others.
func priorityLevelCell(f func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) any) func(runtime.Object) any {
	return func(o runtime.Object) any {
		if l := o.(*flowcontrolv1.PriorityLevelConfiguration).Spec.Limited; l != nil {
			if v := f(l); v != nil {
				return v
			}
		}
		return "<none>"
	}
}

func queuingCell(f func(q *flowcontrolv1.QueuingConfiguration) int32) func(runtime.Object) any {
	return priorityLevelCell(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) any {
		if q := l.LimitResponse.Queuing; q != nil {
			return int64(f(q))
		}
		return nil
	})
}

var priorityLevelColumns = []registry.Column{
	{Name: "Type", Type: "string", Description: flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"],
		Cell: func(o runtime.Object) any { return string(o.(*flowcontrolv1.PriorityLevelConfiguration).Spec.Type) }},
	{Name: "NominalConcurrencyShares", Type: "string",
		Description: flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"],
		Cell: priorityLevelCell(func(l *flowcontrolv1.LimitedPriorityLevelConfiguration) any {
			return int64(derefOr(l.NominalConcurrencyShares, 0))
		})},
	{Name: "Queues", Type: "string", Description: flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queues"],
		Cell: queuingCell(func(q *flowcontrolv1.QueuingConfiguration) int32 { return q.Queues })},
	{Name: "HandSize", Type: "string", Description: flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["handSize"],
		Cell: queuingCell(func(q *flowcontrolv1.QueuingConfiguration) int32 { return q.HandSize })},
	{Name: "QueueLengthLimit", Type: "string", Description: flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queueLengthLimit"],
		Cell: queuingCell(func(q *flowcontrolv1.QueuingConfiguration) int32 { return q.QueueLengthLimit })},
	registry.AgeColumn,
}
