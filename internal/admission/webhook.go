package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/regis-dev/regis/internal/registry"
)

// The webhooks of Mutating/ValidatingWebhookConfigurations, as upstream's
// webhook/generic (matching), webhook/mutating and webhook/validating
// (dispatch) and webhook/request (AdmissionReview v1).

// hook is one compiled webhook.
type hook struct {
	name, config string
	uid          string // identifies the webhook for reinvocation
	rules        []admissionregv1.RuleWithOperations
	nsSel        labels.Selector
	objSel       labels.Selector
	selErr       error
	failOpen     bool
	sideEffects  *admissionregv1.SideEffectClass
	timeout      time.Duration
	versions     []string
	reinvoke     bool
	client       admissionregv1.WebhookClientConfig
	transport    *http.Transport
	clientErr    error
	conds        []namedProgram
	condErr      error
}

func (c *Chain) newHook(config string, i int, name string, client admissionregv1.WebhookClientConfig, rules []admissionregv1.RuleWithOperations,
	fp *admissionregv1.FailurePolicyType, side *admissionregv1.SideEffectClass,
	timeout *int32, versions []string, conds []admissionregv1.MatchCondition) *hook {
	h := &hook{name: name, config: config, uid: config + "/" + strconv.Itoa(i), rules: rules, sideEffects: side,
		versions: versions, client: client, timeout: 10 * time.Second}
	h.failOpen = fp != nil && *fp == admissionregv1.Ignore
	if timeout != nil {
		h.timeout = time.Duration(*timeout) * time.Second
	}
	for _, m := range conds {
		prog, err := c.env.compile(m.Expression, true)
		if err != nil {
			h.condErr = fmt.Errorf("matchConditions[%s]: %v", m.Name, err)
			break
		}
		h.conds = append(h.conds, namedProgram{name: m.Name, prog: prog})
	}
	h.transport, h.clientErr = newTransport(client)
	return h
}

func (c *Chain) newMutatingHook(cfg *admissionregv1.MutatingWebhookConfiguration, i int) *hook {
	w := &cfg.Webhooks[i]
	h := c.newHook(cfg.Name, i, w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions)
	h.reinvoke = w.ReinvocationPolicy != nil && *w.ReinvocationPolicy == admissionregv1.IfNeededReinvocationPolicy
	h.setSelectors(w.NamespaceSelector, w.ObjectSelector)
	return h
}

func (c *Chain) newValidatingHook(cfg *admissionregv1.ValidatingWebhookConfiguration, i int) *hook {
	w := &cfg.Webhooks[i]
	h := c.newHook(cfg.Name, i, w.Name, w.ClientConfig, w.Rules, w.FailurePolicy, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.MatchConditions)
	h.setSelectors(w.NamespaceSelector, w.ObjectSelector)
	return h
}

func (h *hook) setSelectors(ns, obj *metav1.LabelSelector) {
	var err error
	if h.nsSel, err = selector(ns); err != nil && h.selErr == nil {
		h.selErr = err
	}
	if h.objSel, err = selector(obj); err != nil && h.selErr == nil {
		h.selErr = err
	}
	if h.nsSel == nil {
		h.nsSel = labels.Nothing()
	}
	if h.objSel == nil {
		h.objSel = labels.Nothing()
	}
}

// shouldCall is upstream's ShouldCallHook: selectors, rules, then the
// match conditions. A nil error and false mean the hook is skipped.
func (c *Chain) shouldCall(ctx context.Context, h *hook, a *registry.Attributes) (bool, error) {
	if h.selErr != nil {
		return false, apierrors.NewInternalError(h.selErr)
	}
	nsOK, nsErr := c.namespaceMatches(ctx, h.nsSel, a)
	if !nsOK && nsErr == nil {
		return false, nil
	}
	if !objectMatches(h.objSel, a) {
		return false, nil
	}
	matched := false
	for _, r := range h.rules {
		if ruleMatches(r, a) {
			matched = true
			break
		}
	}
	if !matched {
		return false, nil
	}
	if nsErr != nil {
		return false, nsErr
	}
	if h.condErr != nil {
		return false, apierrors.NewForbidden(a.Resource.GroupResource(), a.Name, h.condErr)
	}
	if len(h.conds) == 0 {
		return true, nil
	}
	act, err := newActivation(a, a.Resource, a.Kind, nil, nil, nil)
	if err != nil {
		return false, apierrors.NewInternalError(err)
	}
	ok, err := matchConditions(ctx, h.conds, act)
	if err != nil {
		return false, apierrors.NewForbidden(a.Resource.GroupResource(), a.Name, err)
	}
	return ok, nil
}

// callError is upstream's ErrCallingWebhook: the webhook could not be
// asked, or answered nonsense.
type callError struct {
	name   string
	reason error
}

func (e *callError) Error() string {
	return fmt.Sprintf("failed calling webhook %q: %v", e.name, e.reason)
}

// rejection is upstream's ErrWebhookRejection.
type rejection struct{ status *apierrors.StatusError }

func (e *rejection) Error() string { return e.status.Error() }

// failure turns a hook's error into the request's, or nil when the hook
// fails open.
func failure(h *hook, err error) error {
	var ce *callError
	if errors.As(err, &ce) {
		if h.failOpen {
			return nil
		}
		return apierrors.NewInternalError(ce)
	}
	var rj *rejection
	if errors.As(err, &rj) {
		return rj.status
	}
	return err
}

// validateWebhooks calls the matching validating webhooks at once and
// returns the first error, as upstream's validating dispatcher.
func (c *Chain) validateWebhooks(ctx context.Context, s *snapshot, a *registry.Attributes) error {
	var call []*hook
	for _, h := range s.validating {
		ok, err := c.shouldCall(ctx, h, a)
		if err != nil {
			return err
		}
		if ok {
			call = append(call, h)
		}
	}
	if len(call) == 0 {
		return nil
	}
	// The webhooks' warnings are gathered, then recorded from this
	// goroutine: the request's recorder is not made for several.
	var (
		mu    sync.Mutex
		warns []string
	)
	hctx := registry.WithWarnings(ctx, func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warns = append(warns, msg)
	})
	errs := make(chan error, len(call))
	var wg sync.WaitGroup
	for _, h := range call {
		wg.Go(func() {
			_, err := c.call(hctx, h, a, false)
			if err = failure(h, err); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for _, w := range warns {
		registry.AddWarning(ctx, w)
	}
	return <-errs // nil when none failed
}

// mutate calls the matching mutating webhooks in order, applying their
// patches, then once more those with reinvocationPolicy IfNeeded that a
// later webhook's change followed (upstream's reinvocation).
func (c *Chain) mutate(ctx context.Context, s *snapshot, a *registry.Attributes) error {
	invoked := map[string]bool{} // reinvocable webhooks called so far
	again := map[string]bool{}   // to call in the second round
	for round := 0; round < 2; round++ {
		for _, h := range s.mutating {
			if round == 1 && !again[h.uid] {
				continue
			}
			ok, err := c.shouldCall(ctx, h, a)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			changed, err := c.call(ctx, h, a, true)
			if changed && round == 0 {
				for uid := range invoked {
					again[uid] = true
				}
			}
			if h.reinvoke && round == 0 {
				invoked[h.uid] = true
			}
			if err = failure(h, err); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return apierrors.NewTimeoutError("request did not complete within requested timeout", 0)
			}
		}
		if len(again) == 0 {
			break
		}
	}
	return nil
}
