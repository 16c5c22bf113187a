package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/regis-dev/regis/internal/registry"
)

var (
	flowSchemasGVR    = flowcontrolv1.SchemeGroupVersion.WithResource("flowschemas")
	priorityLevelsGVR = flowcontrolv1.SchemeGroupVersion.WithResource("prioritylevelconfigurations")
)

// FlowControl keeps the API Priority and Fairness configuration objects
// as kube-apiserver does with two of its parts:
//   - the post-start hook "priority-and-fairness-config-producer"
//     (k8s.io/kubernetes pkg/registry/flowcontrol/rest and ensurer): the
//     mandatory and suggested priority levels and flow schemas are
//     created when missing, their specs put back (mandatory ones always,
//     suggested ones while autoupdate-spec is "true"), and the
//     autoupdated ones no longer wanted are deleted: every second until
//     a pass succeeds, then every Resync;
//   - the status writer of the APF config controller (k8s.io/apiserver
//     pkg/util/flowcontrol apf_controller.go): each flow schema's
//     Dangling condition tells whether its priority level exists, kept
//     up to date as either kind changes.
type FlowControl struct {
	reg *registry.Registry
	log *slog.Logger
	// Resync is the period of the ensurer once a pass has succeeded
	// (upstream's one minute); Retry is its period until then (one
	// second), and the wait after a failed status pass.
	Resync, Retry time.Duration

	mandatoryLevels, suggestedLevels   []*flowcontrolv1.PriorityLevelConfiguration
	mandatorySchemas, suggestedSchemas []*flowcontrolv1.FlowSchema

	// Owned by Run's goroutine.
	ensured    bool
	nextEnsure time.Time
	recent     map[string][]time.Time // Dangling writes per flow schema, for the rate limit
}

// NewFlowControl returns the controller over reg; Run runs it.
func NewFlowControl(reg *registry.Registry, log *slog.Logger) *FlowControl {
	if log == nil {
		log = slog.Default()
	}
	return &FlowControl{reg: reg, log: log, Resync: time.Minute, Retry: time.Second,
		mandatoryLevels: mandatoryPriorityLevels(), suggestedLevels: suggestedPriorityLevels(),
		mandatorySchemas: mandatoryFlowSchemas(), suggestedSchemas: suggestedFlowSchemas(),
		recent: map[string][]time.Time{}}
}

// EnsureFlowControl runs one pass of the ensurer over reg: the first pass
// of upstream's post-start hook, which kube-apiserver's /readyz waits
// for. A caller that runs it before serving has the configuration there
// from the first request on; FlowControl keeps it after.
func EnsureFlowControl(ctx context.Context, reg *registry.Registry) error {
	schemas, ok := reg.Lookup(flowSchemasGVR)
	levels, ok2 := reg.Lookup(priorityLevelsGVR)
	if !ok || !ok2 {
		return nil
	}
	return NewFlowControl(reg, nil).ensure(ctx, schemas, levels)
}

// Run keeps the configuration until ctx ends and returns nil then, once
// its goroutines have stopped. A registry without flowcontrol has
// nothing to keep.
func (c *FlowControl) Run(ctx context.Context) error {
	schemas, ok := c.reg.Lookup(flowSchemasGVR)
	levels, ok2 := c.reg.Lookup(priorityLevelsGVR)
	if !ok || !ok2 {
		<-ctx.Done()
		return nil
	}
	kick := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, st := range []*registry.Store{schemas, levels} {
		wg.Go(func() { c.watch(ctx, st, kick) })
	}
	return loop(ctx, kick, func(ctx context.Context) time.Duration {
		return c.step(ctx, schemas, levels)
	})
}

// step runs the ensurer when it is due, then the status pass, and
// returns how long to sleep.
func (c *FlowControl) step(ctx context.Context, schemas, levels *registry.Store) time.Duration {
	if now := time.Now(); !now.Before(c.nextEnsure) {
		err := c.ensure(ctx, schemas, levels)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("APF bootstrap ensurer ran into error, will retry later", "err", err)
		case err == nil:
			c.ensured = true
		}
		c.nextEnsure = now.Add(c.Resync)
		if !c.ensured {
			c.nextEnsure = now.Add(c.Retry)
		}
	}
	wait := time.Until(c.nextEnsure)
	delay, err := c.syncDangling(ctx, schemas, levels)
	if err != nil && ctx.Err() == nil {
		c.log.Warn("flow schema status", "err", err)
		delay = c.Retry
	}
	if delay > 0 && delay < wait {
		wait = delay
	}
	return max(wait, time.Millisecond)
}

// watch kicks the loop on every change of st's objects, re-watching after
// errors until ctx ends; each new watch kicks once, for what it missed.
func (c *FlowControl) watch(ctx context.Context, st *registry.Store, kick chan<- struct{}) {
	open := st.Watching("", &metainternalversion.ListOptions{})
	registry.Follow(ctx, c.Retry, func(ctx context.Context) (watch.Interface, error) {
		w, err := open(ctx)
		if err == nil {
			poke(kick)
		}
		return w, err
	}, func(t watch.EventType, _ runtime.Object) {
		if t != watch.Error { // the end of a watch: the next one kicks
			poke(kick)
		}
	})
}

// poke signals kick without blocking: one pending kick is enough.
func poke(kick chan<- struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}
