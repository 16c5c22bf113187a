package controller_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regis-dev/regis/internal/controller"
	"github.com/regis-dev/regis/internal/registry"
)

// The names of upstream's bootstrap configuration.
var (
	bootstrapLevels  = []string{"catch-all", "exempt", "global-default", "leader-election", "node-high", "system", "workload-high", "workload-low"}
	bootstrapSchemas = []string{"catch-all", "exempt", "global-default", "kube-controller-manager", "kube-scheduler",
		"kube-system-service-accounts", "probes", "service-accounts", "system-leader-election", "system-node-high", "system-nodes"}
)

// fcEnv is a registry with its APF configuration controller.
type fcEnv struct {
	ctl            *controller.FlowControl
	schemas, level *registry.Store
}

// newFlowControl returns a controller over a new registry, not started,
// ensuring every resync.
func newFlowControl(t *testing.T, resync time.Duration) *fcEnv {
	t.Helper()
	reg := newRegistry(t)
	c := controller.NewFlowControl(reg, testLog(t))
	c.Resync, c.Retry = resync, 20*time.Millisecond
	return &fcEnv{ctl: c, schemas: storeOf(t, reg, "flowcontrol.apiserver.k8s.io/v1", "flowschemas"),
		level: storeOf(t, reg, "flowcontrol.apiserver.k8s.io/v1", "prioritylevelconfigurations")}
}

func names(t *testing.T, s *registry.Store) []string {
	t.Helper()
	list, err := s.List(t.Context(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	switch l := list.(type) {
	case *flowcontrolv1.FlowSchemaList:
		for _, it := range l.Items {
			out = append(out, it.Name)
		}
	case *flowcontrolv1.PriorityLevelConfigurationList:
		for _, it := range l.Items {
			out = append(out, it.Name)
		}
	}
	return out
}

// waitNames waits until s holds exactly want (sorted).
func waitNames(t *testing.T, s *registry.Store, want []string) {
	t.Helper()
	waitFor(t, func() bool { return slices.Equal(names(t, s), want) },
		func() string { return fmt.Sprintf("%s: %v, want %v", s.Resource().Resource, names(t, s), want) })
}

// dangling returns the Dangling condition of a flow schema as
// "status reason: message", "" if it has none.
func dangling(t *testing.T, s *registry.Store, name string) string {
	t.Helper()
	fs, _ := get(t, s, "", name).(*flowcontrolv1.FlowSchema)
	if fs == nil {
		return "(gone)"
	}
	for _, c := range fs.Status.Conditions {
		if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
			if c.LastTransitionTime.IsZero() {
				return "no lastTransitionTime"
			}
			return fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
		}
	}
	return ""
}

func waitDangling(t *testing.T, s *registry.Store, name, want string) {
	t.Helper()
	waitFor(t, func() bool { return dangling(t, s, name) == want },
		func() string {
			return fmt.Sprintf("flow schema %s: Dangling %q, want %q", name, dangling(t, s, name), want)
		})
}

func found(level string) string {
	return fmt.Sprintf("False Found: This FlowSchema references the PriorityLevelConfiguration object named %q and it exists", level)
}

func notFound(level string) string {
	return fmt.Sprintf("True NotFound: This FlowSchema references the PriorityLevelConfiguration object named %q but there is no such object", level)
}

// The bootstrap configuration appears, as upstream's: annotated
// autoupdate-spec "true", with upstream's specs, every flow schema with a
// Dangling condition that is False.
func TestFlowControlCreatesConfiguration(t *testing.T) {
	e := newFlowControl(t, time.Hour)
	start(t, e.ctl)
	waitNames(t, e.level, bootstrapLevels)
	waitNames(t, e.schemas, bootstrapSchemas)
	for _, name := range bootstrapSchemas {
		fs := mustGet[*flowcontrolv1.FlowSchema](t, e.schemas, "", name)
		if fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] != "true" || fs.Generation != 1 {
			t.Errorf("flow schema %s: annotations %v, generation %d", name, fs.Annotations, fs.Generation)
		}
		waitDangling(t, e.schemas, name, found(fs.Spec.PriorityLevelConfiguration.Name))
	}
	low := mustGet[*flowcontrolv1.PriorityLevelConfiguration](t, e.level, "", "workload-low")
	if l := low.Spec.Limited; l == nil || *l.NominalConcurrencyShares != 100 || *l.LendablePercent != 90 ||
		*l.LimitResponse.Queuing != (flowcontrolv1.QueuingConfiguration{Queues: 128, HandSize: 6, QueueLengthLimit: 50}) {
		t.Errorf("workload-low: %+v", low.Spec)
	}
	exempt := mustGet[*flowcontrolv1.PriorityLevelConfiguration](t, e.level, "", "exempt")
	if exempt.Spec.Type != flowcontrolv1.PriorityLevelEnablementExempt || exempt.Spec.Exempt == nil {
		t.Errorf("exempt: %+v", exempt.Spec)
	}
	probes := mustGet[*flowcontrolv1.FlowSchema](t, e.schemas, "", "probes")
	if p := probes.Spec; p.MatchingPrecedence != 2 || p.DistinguisherMethod != nil ||
		!slices.Equal(p.Rules[0].NonResourceRules[0].NonResourceURLs, []string{"/healthz", "/readyz", "/livez"}) {
		t.Errorf("probes: %+v", p)
	}
}

// Mandatory objects come back when deleted and get their spec back when
// changed; a suggested one comes back too, but one whose autoupdate-spec
// is "false" keeps its change; an autoupdated object no longer wanted is
// deleted, an operator's is not.
func TestFlowControlKeepsConfiguration(t *testing.T) {
	e := newFlowControl(t, 50*time.Millisecond)
	start(t, e.ctl)
	waitNames(t, e.schemas, bootstrapSchemas)
	waitNames(t, e.level, bootstrapLevels)

	del(t, e.schemas, "", "exempt", metav1.DeleteOptions{})
	del(t, e.level, "", "catch-all", metav1.DeleteOptions{})
	del(t, e.level, "", "workload-low", metav1.DeleteOptions{})
	waitNames(t, e.schemas, bootstrapSchemas)
	waitNames(t, e.level, bootstrapLevels)

	update(t, e.schemas, "", "catch-all", func(fs *flowcontrolv1.FlowSchema) {
		fs.Spec.MatchingPrecedence = 5000
		fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] = "false"
	})
	waitFor(t, func() bool {
		fs := mustGet[*flowcontrolv1.FlowSchema](t, e.schemas, "", "catch-all")
		return fs.Spec.MatchingPrecedence == 10000 && fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] == "true"
	}, func() string { return "the mandatory catch-all flow schema keeps its change" })

	update(t, e.schemas, "", "global-default", func(fs *flowcontrolv1.FlowSchema) {
		fs.Spec.MatchingPrecedence = 9800
		fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] = "false"
	})
	update(t, e.schemas, "", "probes", func(fs *flowcontrolv1.FlowSchema) { fs.Spec.MatchingPrecedence = 3 })
	waitFor(t, func() bool {
		return mustGet[*flowcontrolv1.FlowSchema](t, e.schemas, "", "probes").Spec.MatchingPrecedence == 2
	}, func() string { return "the suggested probes flow schema keeps its change" })
	if p := mustGet[*flowcontrolv1.FlowSchema](t, e.schemas, "", "global-default").Spec.MatchingPrecedence; p != 9800 {
		t.Errorf("global-default, not autoupdated: matchingPrecedence %d, want the operator's 9800", p)
	}

	level := func(name, auto string) *flowcontrolv1.PriorityLevelConfiguration {
		pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
				Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
					LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}}}}
		if auto != "" {
			pl.Annotations = map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: auto}
		}
		return pl
	}
	create(t, e.level, "", level("retired", "true"))
	create(t, e.level, "", level("operators", ""))
	create(t, e.level, "", level("kept", "false"))
	waitGone(t, e.level, "", "retired")
	for _, name := range []string{"operators", "kept"} {
		mustGet[*flowcontrolv1.PriorityLevelConfiguration](t, e.level, "", name)
	}
}

// The Dangling condition of a flow schema follows its priority level:
// True once the level is deleted, False again once it is back.
func TestFlowControlDangling(t *testing.T) {
	e := newFlowControl(t, time.Hour)
	start(t, e.ctl)
	waitNames(t, e.level, bootstrapLevels)
	create(t, e.level, "", &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt,
			Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{}}})
	create(t, e.schemas, "", &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
		Spec: flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "mine"}}})
	waitDangling(t, e.schemas, "mine", found("mine"))

	del(t, e.level, "", "mine", metav1.DeleteOptions{})
	waitDangling(t, e.schemas, "mine", notFound("mine"))
	// The level of a bootstrap schema, gone until the next resync.
	del(t, e.level, "", "workload-low", metav1.DeleteOptions{})
	waitDangling(t, e.schemas, "service-accounts", notFound("workload-low"))

	update(t, e.schemas, "", "mine", func(fs *flowcontrolv1.FlowSchema) {
		fs.Spec.PriorityLevelConfiguration.Name = "global-default"
	})
	waitDangling(t, e.schemas, "mine", found("global-default"))
}

// One pass of the ensurer, before any controller runs, creates the
// configuration; a second pass writes nothing.
func TestEnsureFlowControl(t *testing.T) {
	e := newFlowControl(t, time.Hour)
	reg := e.schemas.Registry()
	versions := func() map[string]string {
		out := map[string]string{}
		for _, st := range []*registry.Store{e.schemas, e.level} {
			for _, name := range names(t, st) {
				out[st.Resource().Resource+"/"+name] = metaOf(t, get(t, st, "", name)).GetResourceVersion()
			}
		}
		return out
	}
	if err := controller.EnsureFlowControl(t.Context(), reg); err != nil {
		t.Fatalf("EnsureFlowControl: %v", err)
	}
	if got := names(t, e.schemas); !slices.Equal(got, bootstrapSchemas) {
		t.Errorf("flow schemas %v, want %v", got, bootstrapSchemas)
	}
	if got := names(t, e.level); !slices.Equal(got, bootstrapLevels) {
		t.Errorf("priority levels %v, want %v", got, bootstrapLevels)
	}
	before := versions()
	if err := controller.EnsureFlowControl(t.Context(), reg); err != nil {
		t.Fatalf("EnsureFlowControl again: %v", err)
	}
	if after := versions(); !maps.Equal(before, after) {
		t.Errorf("a second pass wrote: resource versions %v, then %v", before, after)
	}
}
