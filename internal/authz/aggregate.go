package authz

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// AggregatedRules are the rules an aggregated cluster role should hold
// (upstream's clusterrole-aggregation controller): for each selector of
// its aggregationRule in order, the rules of the other cluster roles it
// selects, by name, without duplicates. ok is false for a role without
// an aggregationRule.
func AggregatedRules(role *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) (rules []rbacv1.PolicyRule, ok bool, err error) {
	if role.AggregationRule == nil {
		return nil, false, nil
	}
	rules = []rbacv1.PolicyRule{}
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, true, err
		}
		var picked []*rbacv1.ClusterRole
		for _, c := range all {
			if c.Name != role.Name && sel.Matches(labels.Set(c.Labels)) {
				picked = append(picked, c)
			}
		}
		sort.Slice(picked, func(i, j int) bool { return picked[i].Name < picked[j].Name })
		for _, c := range picked {
			for _, r := range c.Rules {
				if !ruleExists(rules, r) {
					rules = append(rules, r)
				}
			}
		}
	}
	return rules, true, nil
}

func ruleExists(rules []rbacv1.PolicyRule, r rbacv1.PolicyRule) bool {
	for _, x := range rules {
		if equality.Semantic.DeepEqual(x, r) {
			return true
		}
	}
	return false
}

// ClusterRoleLister lists every cluster role (MemoryLister does).
type ClusterRoleLister interface {
	ListClusterRoles() []*rbacv1.ClusterRole
}

// RulesWriter stores the aggregated rules of a cluster role (upstream
// applies them with the field manager "clusterrole-aggregation-controller",
// forcing conflicts).
type RulesWriter interface {
	SetClusterRoleRules(ctx context.Context, name string, rules []rbacv1.PolicyRule) error
}

// AggregationController keeps aggregated cluster roles' rules current.
// Changed is called on every cluster role event; Run does the work in
// its caller's goroutine until ctx ends.
type AggregationController struct {
	roles  ClusterRoleLister
	writer RulesWriter
	log    *slog.Logger
	kick   chan struct{}
	// Retry is the wait before a failed pass is tried again.
	Retry time.Duration
}

// NewAggregationController returns a controller reading roles and
// writing through w; log may be nil.
func NewAggregationController(roles ClusterRoleLister, w RulesWriter, log *slog.Logger) *AggregationController {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AggregationController{roles: roles, writer: w, log: log, kick: make(chan struct{}, 1), Retry: time.Second}
}

// Changed asks for a pass; it never blocks.
func (c *AggregationController) Changed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run makes a pass now and after each Changed, until ctx ends. Like
// upstream, every pass looks at every aggregated role: the set is small
// and aggregation chains (view → edit → admin) settle over passes, since
// each write is itself a change.
func (c *AggregationController) Run(ctx context.Context) error {
	c.Changed()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		case <-retry:
		}
		retry = nil
		if err := c.Sync(ctx); err != nil {
			c.log.Warn("clusterrole aggregation", "err", err)
			retry = time.After(c.Retry)
		}
	}
}

// Sync makes one pass: each aggregated role whose rules differ from
// what its selectors pick is written. It returns the first error, after
// trying every role.
func (c *AggregationController) Sync(ctx context.Context) error {
	all := c.roles.ListClusterRoles()
	var first error
	for _, r := range all {
		rules, ok, err := AggregatedRules(r, all)
		if !ok {
			continue
		}
		if err == nil && equality.Semantic.DeepEqual(rules, r.Rules) {
			continue
		}
		if err == nil {
			err = c.writer.SetClusterRoleRules(ctx, r.Name, rules)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("clusterrole %s: %w", r.Name, err)
		}
	}
	return first
}
