package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/regis-dev/regis/internal/registry"
)

// maxDanglingWrites is how many times a minute the condition of one flow
// schema is written before the writer waits (upstream's
// shouldDelayUpdate: more than five in the past minute).
const maxDanglingWrites = 5

// errUnchanged stops an update whose object already is as wanted (another
// server wrote the same condition first). It is a status error so that
// the registry hands it back as it is rather than as an internal error.
var errUnchanged error = &apierrors.StatusError{ErrStatus: metav1.Status{
	Status: metav1.StatusFailure, Reason: "Unchanged", Message: "unchanged"}}

// syncDangling sets the Dangling condition of every flow schema, as
// upstream's presyncFlowSchemaStatus and digestConfigObjects: True
// (NotFound) when its priority level does not exist, False (Found) when
// it does. It returns how long to wait before a write it held back, if
// one was (rate limited).
func (c *FlowControl) syncDangling(ctx context.Context, schemas, levels *registry.Store) (time.Duration, error) {
	plList, err := levels.List(ctx, "", nil)
	if err != nil {
		return 0, err
	}
	exists := map[string]bool{}
	for _, pl := range plList.(*flowcontrolv1.PriorityLevelConfigurationList).Items {
		exists[pl.Name] = true
	}
	fsList, err := schemas.List(ctx, "", nil)
	if err != nil {
		return 0, err
	}
	c.forgetOldWrites(time.Now())
	var delay time.Duration
	var errs []error
	for i := range fsList.(*flowcontrolv1.FlowSchemaList).Items {
		fs := &fsList.(*flowcontrolv1.FlowSchemaList).Items[i]
		want := danglingCondition(fs.Spec.PriorityLevelConfiguration.Name, exists[fs.Spec.PriorityLevelConfiguration.Name])
		if sameCondition(danglingOf(fs), want) {
			continue
		}
		now := time.Now()
		if c.tooOften(fs.Name, now) {
			if delay == 0 {
				delay = time.Duration(30+rand.IntN(45)) * time.Second
			}
			continue
		}
		c.recent[fs.Name] = append(c.recent[fs.Name], now)
		want.LastTransitionTime = metav1.NewTime(c.reg.Now())
		if err := writeDangling(ctx, schemas, fs.Name, want); err != nil {
			errs = append(errs, fmt.Errorf("failed to set a status.condition for FlowSchema %s: %w", fs.Name, err))
		}
	}
	return delay, errors.Join(errs...)
}

// writeDangling puts cond in the status of the flow schema name, in place
// of its Dangling condition, as upstream's server-side apply of the
// status does. A flow schema deleted meanwhile needs nothing.
func writeDangling(ctx context.Context, schemas *registry.Store, name string, cond flowcontrolv1.FlowSchemaCondition) error {
	_, _, err := schemas.Update(ctx, "", name, func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
		if existing == nil {
			return nil, apierrors.NewNotFound(schemas.Resource().GroupResource(), name)
		}
		fs := existing.(*flowcontrolv1.FlowSchema)
		if sameCondition(danglingOf(fs), cond) {
			return nil, errUnchanged
		}
		setDangling(fs, cond)
		return fs, nil
	}, registry.UpdateOptions{Subresource: registry.StatusSubresource})
	if err == nil || errors.Is(err, errUnchanged) || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// danglingCondition is the condition upstream writes (without its time).
func danglingCondition(level string, found bool) flowcontrolv1.FlowSchemaCondition {
	if !found {
		return flowcontrolv1.FlowSchemaCondition{Type: flowcontrolv1.FlowSchemaConditionDangling,
			Status: flowcontrolv1.ConditionTrue, Reason: "NotFound",
			Message: fmt.Sprintf("This FlowSchema references the PriorityLevelConfiguration object named %q but there is no such object", level)}
	}
	return flowcontrolv1.FlowSchemaCondition{Type: flowcontrolv1.FlowSchemaConditionDangling,
		Status: flowcontrolv1.ConditionFalse, Reason: "Found",
		Message: fmt.Sprintf("This FlowSchema references the PriorityLevelConfiguration object named %q and it exists", level)}
}

// sameCondition compares what upstream compares: status, reason and
// message.
func sameCondition(have *flowcontrolv1.FlowSchemaCondition, want flowcontrolv1.FlowSchemaCondition) bool {
	return have != nil && have.Status == want.Status && have.Reason == want.Reason && have.Message == want.Message
}

func danglingOf(fs *flowcontrolv1.FlowSchema) *flowcontrolv1.FlowSchemaCondition {
	for i := range fs.Status.Conditions {
		if fs.Status.Conditions[i].Type == flowcontrolv1.FlowSchemaConditionDangling {
			return &fs.Status.Conditions[i]
		}
	}
	return nil
}

func setDangling(fs *flowcontrolv1.FlowSchema, cond flowcontrolv1.FlowSchemaCondition) {
	if c := danglingOf(fs); c != nil {
		*c = cond
		return
	}
	fs.Status.Conditions = append(fs.Status.Conditions, cond)
}

// tooOften tells whether the condition of name was written more than
// maxDanglingWrites times in the minute before now.
func (c *FlowControl) tooOften(name string, now time.Time) bool {
	n := 0
	for _, t := range c.recent[name] {
		if now.Sub(t) < time.Minute {
			n++
		}
	}
	return n > maxDanglingWrites
}

// forgetOldWrites drops the writes older than a minute.
func (c *FlowControl) forgetOldWrites(now time.Time) {
	for name, times := range c.recent {
		i := 0
		for i < len(times) && now.Sub(times[i]) >= time.Minute {
			i++
		}
		if i == len(times) {
			delete(c.recent, name)
		} else {
			c.recent[name] = times[i:]
		}
	}
}
