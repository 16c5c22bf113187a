package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/regis-dev/regis/internal/authz"
	"github.com/regis-dev/regis/internal/serviceaccount"
)

// impersonated is the identity the impersonation headers ask for.
type impersonated struct {
	Name, UID string
	Groups    []string
	Extra     map[string][]string
}

// Impersonation (Impersonate-User, -Group, -Uid, -Extra-*), as
// kube-apiserver 1.37 serves it: its ConstrainedImpersonation filter
// (beta, on by default) tries the constrained modes (arbitrary-node,
// serviceaccount, user-info: the "impersonate-on:<mode>:<verb>" check on
// the request, then "impersonate:<mode>" on the wanted identity), then the
// legacy "impersonate" verb; the first error met is the answer. The
// associated-node mode (a node's service account impersonating its node)
// is not served.

// maxImpersonationHeaders bounds the groups and extra values a request
// may ask for (each is an authorization check).
const maxImpersonationHeaders = 100

// impersonationHeaders reads the wanted user; nil when the request asks
// for no impersonation. The headers are removed from r, as upstream.
func impersonationHeaders(h http.Header) (*impersonated, error) {
	wanted := &impersonated{Name: h.Get(authenticationv1.ImpersonateUserHeader), UID: h.Get(authenticationv1.ImpersonateUIDHeader)}
	hasUser, hasUID := wanted.Name != "", wanted.UID != ""
	wanted.Groups = append(wanted.Groups, h[authenticationv1.ImpersonateGroupHeader]...)
	hasExtra := false
	n := len(wanted.Groups)
	for name, values := range h {
		if !strings.HasPrefix(name, authenticationv1.ImpersonateUserExtraHeaderPrefix) {
			continue
		}
		hasExtra = true
		if len(values) == 0 {
			continue
		}
		key := strings.ToLower(name[len(authenticationv1.ImpersonateUserExtraHeaderPrefix):])
		if k, err := url.PathUnescape(key); err == nil {
			key = k
		}
		if wanted.Extra == nil {
			wanted.Extra = map[string][]string{}
		}
		wanted.Extra[key] = append(wanted.Extra[key], values...)
		n += len(values)
	}
	if !hasUser && (hasUID || len(wanted.Groups) > 0 || hasExtra) {
		// upstream prints its user.DefaultInfo with %#v
		return nil, apierrors.NewBadRequest(fmt.Sprintf("requested &user.DefaultInfo{Name:%q, UID:%q, Groups:%#v, Extra:%#v} without impersonating a user name",
			wanted.Name, wanted.UID, wanted.Groups, wanted.Extra))
	}
	if !hasUser {
		return nil, nil
	}
	if n > maxImpersonationHeaders {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("too many impersonated groups and extra values: %d (at most %d)", n, maxImpersonationHeaders))
	}
	h.Del(authenticationv1.ImpersonateUserHeader)
	h.Del(authenticationv1.ImpersonateUIDHeader)
	h.Del(authenticationv1.ImpersonateGroupHeader)
	for name := range h {
		if strings.HasPrefix(name, authenticationv1.ImpersonateUserExtraHeaderPrefix) {
			h.Del(name)
		}
	}
	return wanted, nil
}

// impersonationModes are the modes in upstream's order.
var impersonationModes = []struct {
	mode string
	fits func(*impersonated) bool
}{
	{"arbitrary-node", func(u *impersonated) bool { _, ok := nodeUsername(u.Name); return onlyUsername(u) && ok }},
	{"serviceaccount", func(u *impersonated) bool { _, _, ok := saUsername(u.Name); return onlyUsername(u) && ok }},
	{"user-info", func(u *impersonated) bool {
		_, node := nodeUsername(u.Name)
		_, _, sa := saUsername(u.Name)
		return !node && !sa
	}},
	{"", func(*impersonated) bool { return true }}, // legacy
}

// maxModeCache bounds the remembered modes (upstream's LRU of 10,000).
const maxModeCache = 10000

// modeCache remembers, per requestor name, the mode that last allowed
// it to impersonate: upstream tries it first, so its error is the one
// answered when every mode fails.
type modeCache struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *modeCache) get(name string) (int, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.m[name]
	return i, ok
}

func (c *modeCache) set(name string, i int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	if _, ok := c.m[name]; !ok && len(c.m) >= maxModeCache {
		for k := range c.m { // one out, at random (upstream's evicts the least recent)
			delete(c.m, k)
			break
		}
	}
	c.m[name] = i
}

// impersonate returns the user r acts as: requestor itself when r asks
// for no impersonation, else the wanted user once requestor may
// impersonate it (upstream's 400 or 403 otherwise).
func impersonate(ctx context.Context, a authz.Authorizer, modes *modeCache, r *http.Request, info requestInfo, requestor *authz.User) (*authz.User, error) {
	wanted, err := impersonationHeaders(r.Header)
	if err != nil || wanted == nil {
		return requestor, err
	}
	request := authzAttributes(r, info, requestor)
	try := func(i int) (*authz.User, error) {
		m := impersonationModes[i]
		if !m.fits(wanted) {
			return nil, nil
		}
		if m.mode != "" {
			on := *request
			on.Verb = "impersonate-on:" + m.mode + ":" + request.Verb
			if err := checkImpersonation(ctx, a, &on); err != nil {
				return nil, err
			}
		}
		return impersonationMode{a: a, mode: m.mode}.check(ctx, requestor, wanted)
	}
	var first error
	last, cached := modes.get(requestor.Name)
	if cached {
		u, err := try(last)
		if err == nil && u != nil {
			return u, nil
		}
		first = err
	}
	for i := range impersonationModes {
		if cached && i == last {
			continue
		}
		u, err := try(i)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if u != nil {
			modes.set(requestor.Name, i)
			return u, nil
		}
	}
	if first == nil {
		first = errors.New("all impersonation modes failed")
	}
	return nil, first
}

func onlyUsername(u *impersonated) bool {
	return u.UID == "" && len(u.Groups) == 0 && len(u.Extra) == 0
}

func saUsername(name string) (namespace, sa string, ok bool) {
	namespace, sa, err := serviceaccount.SplitUsername(name)
	return namespace, sa, err == nil
}

func nodeUsername(name string) (string, bool) {
	node, ok := strings.CutPrefix(name, "system:node:")
	if !ok || len(validation.NameIsDNSSubdomain(node, false)) != 0 {
		return "", false
	}
	return node, true
}

// impersonationMode checks the wanted identity with the mode's verb:
// "impersonate:<mode>" on authentication.k8s.io's resources, or the
// legacy "impersonate" (users and groups in the core group).
type impersonationMode struct {
	a    authz.Authorizer
	mode string // "" for the legacy mode
}

func (m impersonationMode) attrs(requestor *authz.User, resource, name string) *authz.Attributes {
	a := &authz.Attributes{User: requestor, Verb: "impersonate", APIGroup: "", APIVersion: "v1", Resource: resource, Name: name, ResourceRequest: true}
	if m.mode != "" {
		a.Verb = "impersonate:" + m.mode
		a.APIGroup, a.APIVersion = authenticationv1.GroupName, "v1"
	}
	return a
}

func (m impersonationMode) check(ctx context.Context, requestor *authz.User, wanted *impersonated) (*authz.User, error) {
	constrained := m.mode != ""
	out := &authz.User{Name: wanted.Name, UID: wanted.UID, Groups: slices.Clone(wanted.Groups), Extra: wanted.Extra}
	ua := m.attrs(requestor, "users", wanted.Name)
	if node, ok := nodeUsername(wanted.Name); constrained && ok {
		ua.Resource, ua.Name = "nodes", node
		if len(wanted.Groups) != 0 {
			return nil, authz.Forbidden(ua, fmt.Sprintf("when impersonating a node, cannot impersonate groups %q", wanted.Groups))
		}
		out.Groups = []string{"system:nodes"}
	}
	if ns, name, ok := saUsername(wanted.Name); ok {
		ua.Resource, ua.Namespace, ua.Name = "serviceaccounts", ns, name
		if constrained && len(wanted.Groups) != 0 {
			return nil, authz.Forbidden(ua, fmt.Sprintf("when impersonating a service account, cannot impersonate groups %q", wanted.Groups))
		}
		if len(wanted.Groups) == 0 {
			out.Groups = serviceaccount.GroupNames(ns)
		}
	}
	if err := checkImpersonation(ctx, m.a, ua); err != nil {
		return nil, err
	}
	if wanted.UID != "" {
		ida := m.attrs(requestor, "uids", wanted.UID)
		ida.APIGroup, ida.APIVersion = authenticationv1.GroupName, "v1"
		if err := checkImpersonation(ctx, m.a, ida); err != nil {
			return nil, err
		}
	}
	if err := m.checkGroups(ctx, requestor, wanted.Groups); err != nil {
		return nil, err
	}
	if err := m.checkExtra(ctx, requestor, wanted.Extra); err != nil {
		return nil, err
	}
	switch {
	case out.Name == "system:anonymous":
		if !slices.Contains(out.Groups, "system:unauthenticated") {
			out.Groups = append(out.Groups, "system:unauthenticated")
		}
	case !slices.Contains(out.Groups, "system:unauthenticated") && !slices.Contains(out.Groups, "system:authenticated"):
		out.Groups = append(out.Groups, "system:authenticated")
	}
	return out, nil
}

// manyChecks is upstream's threshold past which a wildcard check is tried
// first.
const manyChecks = 4

func (m impersonationMode) checkGroups(ctx context.Context, requestor *authz.User, groups []string) error {
	if len(groups) == 0 {
		return nil
	}
	ga := m.attrs(requestor, "groups", "")
	if m.mode != "" {
		if slices.Contains(groups, "") {
			return authz.Forbidden(ga, "impersonating the empty string group is not allowed")
		}
		if slices.Contains(groups, authz.SystemPrivilegedGroup) {
			ga.Name = authz.SystemPrivilegedGroup
			return authz.Forbidden(ga, "impersonating the system:masters group is not allowed")
		}
		if len(groups) >= manyChecks {
			ga.Name = "*"
			if checkImpersonation(ctx, m.a, ga) == nil {
				return nil
			}
		}
	}
	for _, g := range groups {
		ga.Name = g
		if err := checkImpersonation(ctx, m.a, ga); err != nil {
			return err
		}
	}
	return nil
}

func (m impersonationMode) checkExtra(ctx context.Context, requestor *authz.User, extra map[string][]string) error {
	if len(extra) == 0 {
		return nil
	}
	ea := m.attrs(requestor, "userextras", "")
	ea.APIGroup, ea.APIVersion = authenticationv1.GroupName, "v1"
	if m.mode != "" {
		if err := validateExtra(extra); err != nil {
			return authz.Forbidden(ea, err.Error())
		}
		count := 0
		for _, v := range extra {
			count += len(v)
		}
		if len(extra) >= manyChecks || count >= manyChecks {
			ea.Subresource, ea.Name = "*", "*"
			if checkImpersonation(ctx, m.a, ea) == nil {
				return nil
			}
		}
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ea.Subresource = k
		for _, v := range extra[k] {
			ea.Name = v
			if err := checkImpersonation(ctx, m.a, ea); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateExtra(extra map[string][]string) error {
	fp := field.NewPath("extra", "key")
	for key, values := range extra {
		if key == "" {
			return errors.New("impersonating the empty string key in extra is not allowed")
		}
		if err := utilvalidation.IsDomainPrefixedPath(fp, key).ToAggregate(); err != nil {
			return fmt.Errorf("impersonating an invalid key in extra is not allowed: %w", err)
		}
		if key != strings.ToLower(key) {
			return fmt.Errorf("impersonating a non-lowercase key in extra is not allowed: %q", key)
		}
		if len(values) == 0 {
			return errors.New("impersonating empty values in extra is not allowed")
		}
		if slices.Contains(values, "") {
			return errors.New("impersonating the empty string value in extra is not allowed")
		}
	}
	return nil
}

// checkImpersonation is upstream's checkAuthorization: nil when allowed,
// else the 403 of attrs with the authorizer's reason and error.
func checkImpersonation(ctx context.Context, a authz.Authorizer, attrs *authz.Attributes) error {
	d, reason, err := a.Authorize(ctx, attrs)
	if d == authz.DecisionAllow {
		return nil
	}
	if apierrors.IsForbidden(err) {
		return err
	}
	msg := reason
	switch {
	case err != nil && reason != "":
		msg = fmt.Sprintf("%v: %s", err, reason)
	case err != nil:
		msg = err.Error()
	}
	return authz.Forbidden(attrs, msg)
}
