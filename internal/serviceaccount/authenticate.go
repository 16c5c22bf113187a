package serviceaccount

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/regis-dev/regis/internal/authz"
)

// Result is an authenticated token: its user and the audiences it was
// accepted for.
type Result struct {
	User      *authz.User
	Audiences []string
}

// AuthenticateToken validates a token for audiences (nil: the API
// audiences), as upstream's JWT token authenticator with its
// service-account validator: handled is false for a token that is no
// JWT of one of the issuers (another authenticator's), err says why a
// token of theirs is refused.
func (i *Issuer) AuthenticateToken(ctx context.Context, token string, audiences []string) (res *Result, handled bool, err error) {
	now := i.cfg.Now()
	key := cacheKey(token, audiences)
	if res, ok := i.cache.get(key, now); ok {
		return res, true, nil
	}
	if !i.hasIssuer(token) {
		return nil, false, nil
	}
	p, err := parse(token)
	if err != nil {
		return nil, false, nil
	}
	if err := p.verify(i.keys); err != nil {
		return nil, true, err
	}
	legacy := i.legacyIssuer(p.payload)
	var c Claims
	if err := json.Unmarshal(p.payload, &c); err != nil {
		return nil, true, err
	}
	if !i.issuers[c.Issuer] && !legacy {
		return nil, true, fmt.Errorf("token issuer %q is invalid", c.Issuer)
	}
	tokenAuds := []string(c.Audience)
	if len(tokenAuds) == 0 {
		tokenAuds = i.cfg.APIAudiences // a legacy token: the API's audiences
	}
	requested := audiences
	if len(requested) == 0 {
		requested = i.cfg.APIAudiences
	}
	var auds []string
	for _, a := range tokenAuds {
		if slices.Contains(requested, a) && !slices.Contains(auds, a) {
			auds = append(auds, a)
		}
	}
	if len(auds) == 0 {
		return nil, true, fmt.Errorf("token audiences %q is invalid for the target audiences %q", tokenAuds, requested)
	}
	var info *accountInfo
	if legacy {
		info, err = i.validateLegacy(ctx, token, p.payload)
	} else {
		info, err = i.validate(ctx, &c)
	}
	if err != nil {
		return nil, true, err
	}
	res = &Result{User: info.user(), Audiences: auds}
	var exp time.Time
	if c.Expiry != nil {
		exp = c.Expiry.Time().Add(leeway)
	}
	i.cache.put(key, res, now, exp)
	return res, true, nil
}

// hasIssuer reports whether token looks like a JWT whose iss is one of
// the issuers (upstream's cheap check before the signature).
func (i *Issuer) hasIssuer(token string) bool {
	if len(token) > maxTokenBytes {
		return false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	iss := issuerOf(payload)
	return i.issuers[iss] || iss == LegacyIssuer
}

// legacyIssuer reports a legacy token (unless the legacy issuer is one
// of the configured ones).
func (i *Issuer) legacyIssuer(payload []byte) bool {
	iss := issuerOf(payload)
	return iss == LegacyIssuer && !i.issuers[iss]
}

func issuerOf(payload []byte) string {
	var claims struct {
		Issuer string `json:"iss"`
	}
	if err := json.NewDecoder(bytes.NewReader(payload)).Decode(&claims); err != nil {
		return ""
	}
	return claims.Issuer
}

// validate is upstream's service account validator: the times, then the
// service account and the bound objects still there with their uids.
func (i *Issuer) validate(ctx context.Context, c *Claims) (*accountInfo, error) {
	now := i.cfg.Now()
	if err := c.checkTime(now); err != nil {
		return nil, err
	}
	k := c.Kubernetes
	if k == nil {
		return nil, fmt.Errorf("service account token claims could not be validated due to unexpected private claim")
	}
	// Objects deleted before now-leeway are gone.
	deletedBefore := now.Add(-leeway)
	gone := func(o Object) bool { return !o.Deleted.IsZero() && o.Deleted.Before(deletedBefore) }
	ns := k.Namespace
	sa, err := i.get(ctx, "serviceaccounts", ns, k.ServiceAccount.Name, k.ServiceAccount.UID)
	if err != nil {
		return nil, err
	}
	if gone(sa) {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, k.ServiceAccount.Name)
	}
	if sa.UID != k.ServiceAccount.UID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, k.ServiceAccount.UID)
	}
	if ref := k.Secret; ref != nil {
		s, err := i.get(ctx, "secrets", ns, ref.Name, ref.UID)
		if err != nil || gone(s) {
			return nil, ErrInvalidated
		}
		if s.UID != ref.UID {
			return nil, fmt.Errorf("secret UID (%s) does not match service account secret ref claim (%s)", s.UID, ref.UID)
		}
	}
	info := &accountInfo{Namespace: ns, Name: k.ServiceAccount.Name, UID: k.ServiceAccount.UID,
		CredentialID: credentialIDForJTI(c.ID)}
	if ref := k.Pod; ref != nil {
		p, err := i.get(ctx, "pods", ns, ref.Name, ref.UID)
		if err != nil || gone(p) {
			return nil, ErrInvalidated
		}
		if p.UID != ref.UID {
			return nil, fmt.Errorf("pod UID (%s) does not match service account pod ref claim (%s)", p.UID, ref.UID)
		}
		info.PodName, info.PodUID = ref.Name, ref.UID
	}
	if ref := k.Node; ref != nil {
		if k.Pod != nil {
			// A pod-bound token names its pod's node: only reported.
			info.NodeName, info.NodeUID = ref.Name, ref.UID
		} else {
			n, err := i.get(ctx, "nodes", "", ref.Name, ref.UID)
			if err != nil || gone(n) {
				return nil, ErrInvalidated
			}
			if n.UID != ref.UID {
				return nil, fmt.Errorf("node UID (%s) does not match service account node ref claim (%s)", n.UID, ref.UID)
			}
			info.NodeName, info.NodeUID = ref.Name, ref.UID
		}
	}
	return info, nil
}

// get reads an object from the cache, and again fresh when the cache
// does not have it or has another uid than uid (it may lag a re-create).
// Upstream's getter (clientGetter) reads its informers' listers, and the
// API only when they do not have the object: a bound object's deletion
// refuses its tokens once the cache has it, milliseconds later, and a
// token accepted just before is reused for the token cache's 10 s, as
// upstream's.
func (i *Issuer) get(ctx context.Context, resource, namespace, name, uid string) (Object, error) {
	o, err := i.cfg.Getter.Get(ctx, resource, namespace, name, false)
	if err == nil && o.UID == uid {
		return o, nil
	}
	return i.cfg.Getter.Get(ctx, resource, namespace, name, true)
}

// BearerToken is the token of an "Authorization: Bearer" header, as
// upstream's bearer token authenticator reads it.
func BearerToken(r *http.Request) string {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	parts := strings.SplitN(auth, " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "bearer") {
		return ""
	}
	return parts[1]
}

// AuthenticateUser authenticates a request's bearer token for the API
// audiences, or those of the Review in its context
// (apiserver.UserAuthenticator).
func (i *Issuer) AuthenticateUser(r *http.Request) (*authz.User, bool) {
	token := BearerToken(r)
	if token == "" {
		return nil, false
	}
	rv := reviewFrom(r.Context())
	var auds []string
	if rv != nil {
		auds = rv.Audiences
	}
	res, _, err := i.AuthenticateToken(r.Context(), token, auds)
	if rv != nil {
		rv.Err = err
		if res != nil {
			rv.Accepted = res.Audiences
		}
	}
	if err != nil || res == nil {
		return nil, false
	}
	return res.User, true
}

// Authenticate returns the user name of AuthenticateUser.
func (i *Issuer) Authenticate(r *http.Request) (string, bool) {
	u, ok := i.AuthenticateUser(r)
	if !ok {
		return "", false
	}
	return u.Name, true
}

// credentialIDForJTI is upstream's jwt.CredentialIDForJTI: the
// authentication.kubernetes.io/credential-id extra of a token with a jti.
func credentialIDForJTI(jti string) string {
	if jti == "" {
		return ""
	}
	return "JTI=" + jti
}
