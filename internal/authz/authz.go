// Package authz decides whether a user may do what a request asks:
// kube-apiserver's authorizers (the system:masters bypass, RBAC,
// AlwaysAllow) with upstream's semantics and messages, the rule
// resolution behind SelfSubjectRulesReview, and the escalation checks of
// role and binding writes. It reads RBAC objects through a Lister, which
// the server backs with its watch cache: a check reads no etcd.
package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Decision is an authorizer's answer, with upstream's values.
type Decision int

const (
	// DecisionDeny refuses the request; no later authorizer is asked.
	DecisionDeny Decision = iota
	// DecisionAllow allows the request; no later authorizer is asked.
	DecisionAllow
	// DecisionNoOpinion leaves the request to the next authorizer; the
	// request is refused when no authorizer allows it.
	DecisionNoOpinion
)

// String names the decision.
func (d Decision) String() string {
	switch d {
	case DecisionAllow:
		return "allow"
	case DecisionDeny:
		return "deny"
	default:
		return "no-opinion"
	}
}

// SystemPrivilegedGroup is the group whose members may do everything
// (upstream's user.SystemPrivilegedGroup).
const SystemPrivilegedGroup = "system:masters"

// User is an authenticated user (upstream's user.Info).
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// InGroup tells whether the user is a member of group.
func (u *User) InGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// Attributes are what a request asks (upstream's AttributesRecord).
type Attributes struct {
	User *User
	// Verb is the API verb of a resource request (get, list, watch,
	// create, update, patch, delete, deletecollection, or a special
	// verb such as bind, escalate, impersonate, use) or the lower-case
	// HTTP method of a non-resource request.
	Verb string
	// ResourceRequest is true for requests of API resources; false for
	// non-resource paths (/healthz, /api, /version ...).
	ResourceRequest bool
	// Path is the URL path of a non-resource request.
	Path string

	Namespace   string
	APIGroup    string
	APIVersion  string
	Resource    string
	Subresource string
	Name        string
}

// Authorizer decides a request. The reason explains the decision (for
// logs and, on denial, the 403's message); err reports an evaluation
// error, which does not change the decision.
type Authorizer interface {
	Authorize(ctx context.Context, a *Attributes) (Decision, string, error)
}

// Modes of --authorization-mode that regis serves.
const (
	ModeRBAC        = "RBAC"
	ModeAlwaysAllow = "AlwaysAllow"
	ModeAlwaysDeny  = "AlwaysDeny"
	// ModeNode is accepted so that kube-apiserver's usual
	// "Node,RBAC" works, but regis has no node authorizer: it has no
	// opinion, and kubelets get only what RBAC grants them.
	ModeNode = "Node"
)

// DefaultModes is --authorization-mode's default.
var DefaultModes = []string{ModeRBAC}

// ParseModes checks the values of --authorization-mode (a comma-separated
// list, as upstream) and returns them in order.
func ParseModes(values []string) ([]string, error) {
	var modes []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, m := range strings.Split(v, ",") {
			m = strings.TrimSpace(m)
			switch m {
			case ModeRBAC, ModeAlwaysAllow, ModeAlwaysDeny, ModeNode:
			case "ABAC", "Webhook":
				return nil, fmt.Errorf("authorization-mode %q is not supported by regis (supported: RBAC, Node, AlwaysAllow, AlwaysDeny)", m)
			default:
				return nil, fmt.Errorf("authorization-mode %q is not a valid mode", m)
			}
			if seen[m] {
				return nil, fmt.Errorf("authorization-mode %q has mode specified more than once", values)
			}
			seen[m] = true
			modes = append(modes, m)
		}
	}
	if len(modes) == 0 {
		return nil, errors.New("at least one authorization-mode must be passed")
	}
	return modes, nil
}
