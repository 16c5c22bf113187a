package server

// Authorization: the authorizer chain of --authorization-mode over an
// RBAC lister fed from the watch caches (a check reads no etcd), the
// privilege-escalation checks of the RBAC rows, the clusterrole
// aggregation controller, and the bootstrap policy reconciled at start
// (upstream's poststarthook/rbac/bootstrap-roles).

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regis-dev/regis/internal/apiserver"
	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/authz/bootstrap"
	"github.com/regis-dev/regis/internal/authz/regstore"
	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/registry/builtin"
)

// bootstrapRolesHook is upstream's post-start hook name, in /readyz,
// /livez and /healthz as poststarthook/rbac/bootstrap-roles.
const bootstrapRolesHook = "rbac/bootstrap-roles"

// authorization is the server's authorizer and what keeps it current.
type authorization struct {
	modes      []string
	lister     *authz.MemoryLister
	authorizer *authz.Union
	escalation *authz.Escalation
	// bootstrapped is set once the bootstrap policy is reconciled.
	bootstrapped atomic.Bool
}

// newAuthorization builds the chain of modes (authz.DefaultModes when
// empty) over an empty lister, which run feeds.
func newAuthorization(modes []string) (*authorization, error) {
	if len(modes) == 0 {
		modes = authz.DefaultModes
	}
	modes, err := authz.ParseModes(modes)
	if err != nil {
		return nil, err
	}
	l := authz.NewMemoryLister()
	a, err := authz.New(authz.Config{Modes: modes, Lister: l})
	if err != nil {
		return nil, err
	}
	return &authorization{modes: modes, lister: l, authorizer: a,
		escalation: &authz.Escalation{Authorizer: a, Resolver: authz.NewRuleResolver(l)}}, nil
}

// rbac tells whether RBAC is one of the modes: the bootstrap policy is
// reconciled only then, as upstream disables its hook otherwise.
func (a *authorization) rbac() bool { return slices.Contains(a.modes, authz.ModeRBAC) }

// guard makes the RBAC rows of rs check privilege escalation.
func (a *authorization) guard(rs []*registry.Resource) { builtin.GuardRBAC(rs, a.escalation) }

// run feeds the lister from reg's RBAC stores (their watch caches), runs
// the aggregation controller, and reconciles the bootstrap policy
// (retrying until it succeeds), each in a goroutine of wg until ctx
// ends. The controller and the bootstrap write through loopback, a
// client of the server as system:masters, as upstream's (the controller
// applies the rules as the field manager
// clusterrole-aggregation-controller; the bootstrap's writes are
// kube-apiserver's).
func (a *authorization) run(ctx context.Context, reg *registry.Registry, loopback *rest.Config, wg *sync.WaitGroup, log *slog.Logger) error {
	sources, err := regstore.Sources(reg)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(loopback)
	if err != nil {
		return err
	}
	stores := bootstrap.ClientStores(client)
	ctrl := authz.NewAggregationController(a.lister, authz.ApplyRulesWriter{Client: client}, log)
	wg.Go(func() { a.lister.Feed(ctx, sources, ctrl.Changed, time.Second) })
	wg.Go(func() { _ = ctrl.Run(ctx) })
	if !a.rbac() {
		a.bootstrapped.Store(true)
		return nil
	}
	wg.Go(func() { a.ensureBootstrap(ctx, stores, log) })
	return nil
}

// ensureBootstrap reconciles upstream's bootstrap roles and bindings,
// retrying (every second, then less often) until it succeeds or ctx ends.
func (a *authorization) ensureBootstrap(ctx context.Context, stores bootstrap.Stores, log *slog.Logger) {
	policy := bootstrap.Default()
	start := time.Now()
	wait := time.Second
	for attempt := 1; ; attempt++ {
		err := bootstrap.Ensure(ctx, policy, stores, log)
		if err == nil {
			a.bootstrapped.Store(true)
			log.Info("bootstrap RBAC policy reconciled", "attempts", attempt, "took", time.Since(start).Round(time.Millisecond))
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= 3 {
			log.Warn("unable to initialize the bootstrap RBAC policy; retrying", "err", err, "attempt", attempt)
			wait = min(2*wait, 30*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// checks are the health checks of authorization: the post-start hook,
// in /livez, /readyz and /healthz as upstream's, and (in /readyz) the
// RBAC objects listed once, without which a check could miss a binding.
func (a *authorization) checks() []apiserver.Check {
	return []apiserver.Check{
		{Name: "poststarthook/" + bootstrapRolesHook, Livez: true, Readyz: true, Func: func(context.Context) error {
			if !a.bootstrapped.Load() {
				return errors.New("not finished")
			}
			return nil
		}},
		{Name: "informer-sync", Readyz: true, Func: func(context.Context) error {
			if !a.lister.Synced() {
				return errors.New("RBAC objects not yet listed")
			}
			return nil
		}},
	}
}

// waitReady waits until the bootstrap policy is reconciled and the RBAC
// objects are listed (so that the first requests of users other than
// system:masters, anonymous health checks among them, are answered as
// they will be), at most limit or until ctx ends; it reports whether
// authorization is ready.
func (a *authorization) waitReady(ctx context.Context, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !a.bootstrapped.Load() || !a.lister.Synced() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return true
}
