package builtin

import (
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// eventsV1 is events.k8s.io/v1 events: kube-apiserver serves them from the
// core event storage, so they are stored as core v1 Events under
// /registry/events and both APIs see the same objects.
func eventsV1() *registry.Resource {
	return &registry.Resource{
		Group: "events.k8s.io", Version: "v1", Resource: "events", Kind: "Event", Namespaced: true,
		ShortNames: []string{"ev"}, Prefix: "events", StorageVersion: schema.GroupVersion{Version: "v1"},
		New: newFn[eventsv1.Event], NewList: newFn[eventsv1.EventList],
		AllowCreateOnUpdate: true, TTL: EventTTL, NameValidation: pathSegmentName,
		Fields: func(o runtime.Object) fields.Set {
			e := o.(*eventsv1.Event)
			return fields.Set{
				"regarding.kind": e.Regarding.Kind, "regarding.namespace": e.Regarding.Namespace,
				"regarding.name": e.Regarding.Name, "regarding.uid": string(e.Regarding.UID),
				"regarding.apiVersion": e.Regarding.APIVersion, "regarding.resourceVersion": e.Regarding.ResourceVersion,
				"regarding.fieldPath": e.Regarding.FieldPath, "reason": e.Reason,
				"reportingController": e.ReportingController, "type": e.Type,
			}
		},
		Convert: &registry.Conversion{
			ToStorage: func(o runtime.Object) (runtime.Object, error) {
				return eventToCore(o.(*eventsv1.Event)), nil
			},
			FromStorage: func(o runtime.Object) (runtime.Object, error) {
				return eventFromCore(o.(*corev1.Event)), nil
			},
			NewStored: newFn[corev1.Event], NewStoredList: newFn[corev1.EventList],
		},
	}
}

// eventToCore converts an events.k8s.io/v1 Event to a core v1 Event, as
// upstream's conversion through the internal type does.
func eventToCore(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		TypeMeta:            metaTypeCoreEvent,
		ObjectMeta:          *e.ObjectMeta.DeepCopy(),
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Related != nil {
		r := *e.Related
		out.Related = &r
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

// eventFromCore converts a core v1 Event to an events.k8s.io/v1 Event.
func eventFromCore(e *corev1.Event) *eventsv1.Event {
	out := &eventsv1.Event{
		TypeMeta:                 metaTypeEventsEvent,
		ObjectMeta:               *e.ObjectMeta.DeepCopy(),
		EventTime:                e.EventTime,
		ReportingController:      e.ReportingController,
		ReportingInstance:        e.ReportingInstance,
		Action:                   e.Action,
		Reason:                   e.Reason,
		Regarding:                e.InvolvedObject,
		Note:                     e.Message,
		Type:                     e.Type,
		DeprecatedSource:         e.Source,
		DeprecatedFirstTimestamp: e.FirstTimestamp,
		DeprecatedLastTimestamp:  e.LastTimestamp,
		DeprecatedCount:          e.Count,
	}
	if e.Related != nil {
		r := *e.Related
		out.Related = &r
	}
	if e.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

var (
	metaTypeCoreEvent   = typeMeta("v1", "Event")
	metaTypeEventsEvent = typeMeta("events.k8s.io/v1", "Event")
)
