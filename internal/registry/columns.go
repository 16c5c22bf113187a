package registry

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Column is one printer column of Table output.
type Column struct {
	// Name, Type, Format, Description and Priority are those of a
	// metav1.TableColumnDefinition. Priority 0 columns are always shown;
	// 1 only with -o wide.
	Name, Type, Format, Description string
	Priority                        int32
	// Cell returns the value of the column for obj.
	Cell func(obj runtime.Object) any
}

// AgeColumn is the AGE column every table ends with unless it has one.
var AgeColumn = Column{Name: "Age", Type: "string",
	Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"],
	Cell:        func(o runtime.Object) any { return age(o) }}

func age(o runtime.Object) string {
	m, ok := o.(metav1.Object)
	if !ok {
		return "<unknown>"
	}
	return HumanAge(m.GetCreationTimestamp())
}

// HumanAge prints the time since t as kubectl does ("5m", "<unknown>").
func HumanAge(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}
