// Package admission is regis's dynamic admission: the mutating and
// validating webhooks of Mutating/ValidatingWebhookConfigurations, called
// over HTTPS with AdmissionReview v1, and ValidatingAdmissionPolicies
// with their bindings, evaluated with CEL, as kube-apiserver v1.37's
// MutatingAdmissionWebhook, ValidatingAdmissionPolicy and
// ValidatingAdmissionWebhook plugins (in that order), with
// MutatingAdmissionPolicies before the mutating webhooks. The registry calls
// it on every write (registry.Admission).
package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regis-dev/regis/internal/registry"
)

// Config configures a Chain.
type Config struct {
	// Registry is where the configurations, namespaces, params, services
	// and endpoint slices are read. Required.
	Registry *registry.Registry
	// Logf logs what goes wrong in the background (nil: nothing).
	Logf func(format string, args ...any)
	// ReadyTimeout is how long a request waits for the first list of the
	// configurations (upstream's WaitForReady: 10s) before it is refused.
	ReadyTimeout time.Duration
}

// Chain is the dynamic admission chain; it implements registry.Admission.
type Chain struct {
	reg          *registry.Registry
	logf         func(string, ...any)
	readyTimeout time.Duration
	state        state
	snap         atomic.Pointer[snapshot]
	ready        chan struct{}
	env          *celEnv
}

var _ registry.Admission = (*Chain)(nil)

// New returns a chain; Run keeps its configuration current.
func New(c Config) (*Chain, error) {
	if c.Registry == nil {
		return nil, errors.New("admission: Registry is required")
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 10 * time.Second
	}
	env, err := newCELEnv()
	if err != nil {
		return nil, err
	}
	ch := &Chain{reg: c.Registry, logf: c.Logf, readyTimeout: c.ReadyTimeout, ready: make(chan struct{}), env: env}
	ch.state.mirrors = map[schema.GroupVersionResource]mirror{}
	return ch, nil
}

func (c *Chain) log(format string, args ...any) {
	if c.logf != nil {
		c.logf(format, args...)
	}
}

// Run lists and watches the configurations until ctx is done; requests
// wait for the first list of each.
func (c *Chain) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		if s := c.snap.Load(); s != nil {
			s.closeIdle()
		}
	}()
	done := make(chan struct{}, len(sources))
	for _, gvr := range sources {
		wg.Go(func() { c.mirror(ctx, gvr, func() { done <- struct{}{} }) })
	}
	for range sources {
		select {
		case <-done:
		case <-ctx.Done():
			return nil
		}
	}
	close(c.ready)
	<-ctx.Done()
	return nil
}

// current returns the snapshot, waiting for the first one.
func (c *Chain) current(ctx context.Context, a *registry.Attributes) (*snapshot, error) {
	if s := c.snap.Load(); s != nil {
		select {
		case <-c.ready:
			return s, nil
		default:
		}
	}
	t := time.NewTimer(c.readyTimeout)
	defer t.Stop()
	select {
	case <-c.ready:
		return c.snap.Load(), nil
	case <-ctx.Done():
		return nil, forbidden(a, errors.New("not yet ready to handle request"))
	case <-t.C:
		return nil, forbidden(a, errors.New("not yet ready to handle request"))
	}
}

// exempt reports the configuration of admission itself, which no webhook
// or policy sees (upstream's IsExemptAdmissionConfigurationResource).
func exempt(a *registry.Attributes) bool {
	if a.Kind.Group != group {
		return false
	}
	switch a.Kind.Kind {
	case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
		"ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding":
		return true
	}
	return false
}

// Admit runs the mutating webhooks.
func (c *Chain) Admit(ctx context.Context, a *registry.Attributes) error {
	if exempt(a) {
		return nil
	}
	s, err := c.current(ctx, a)
	if err != nil || len(s.mutating) == 0 && len(s.mpolicies) == 0 {
		return err
	}
	// MutatingAdmissionPolicy, then MutatingAdmissionWebhook (upstream's
	// order); the policies with reinvocationPolicy IfNeeded run again
	// when a webhook changed the object after them.
	var again []string
	if len(s.mpolicies) > 0 {
		if again, err = c.mutatePolicies(ctx, s, a, nil); err != nil {
			return err
		}
	}
	if len(s.mutating) == 0 {
		return nil
	}
	before := a.Mutated
	a.Mutated = false
	err = c.mutate(ctx, s, a)
	changed := a.Mutated
	a.Mutated = a.Mutated || before
	if err != nil || !changed || len(again) == 0 {
		return err
	}
	only := map[string]bool{}
	for _, k := range again {
		only[k] = true
	}
	_, err = c.mutatePolicies(ctx, s, a, only)
	return err
}

// Validate runs the validating admission policies, then the validating
// webhooks.
func (c *Chain) Validate(ctx context.Context, a *registry.Attributes) error {
	if exempt(a) {
		return nil
	}
	s, err := c.current(ctx, a)
	if err != nil || len(s.policies) == 0 && len(s.validating) == 0 {
		return err
	}
	if len(s.policies) > 0 {
		if err := c.validatePolicies(ctx, s, a); err != nil {
			return err
		}
	}
	if len(s.validating) > 0 {
		return c.validateWebhooks(ctx, s, a)
	}
	return nil
}

// forbidden is upstream's admission.NewForbidden: 403 on the request's
// resource and name (the object's name or generateName when the request
// has none, else "Unknown").
func forbidden(a *registry.Attributes, err error) *apierrors.StatusError {
	var st *apierrors.StatusError
	if errors.As(err, &st) && apierrors.IsForbidden(st) {
		return st
	}
	return apierrors.NewForbidden(a.Resource.GroupResource(), requestName(a), err)
}

func requestName(a *registry.Attributes) string {
	if a.Name != "" {
		return a.Name
	}
	if a.Object == nil {
		return "Unknown"
	}
	m, err := meta.Accessor(a.Object)
	if err != nil {
		return "Unknown/errorGettingName"
	}
	if m.GetName() != "" {
		return m.GetName()
	}
	if m.GetGenerateName() != "" {
		return m.GetGenerateName()
	}
	return "Unknown"
}

// internalError is upstream's NewInternalError of a message.
func internalError(format string, args ...any) error {
	return apierrors.NewInternalError(fmt.Errorf(format, args...))
}
