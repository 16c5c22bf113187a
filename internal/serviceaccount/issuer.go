package serviceaccount

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"
)

// DefaultIssuer is the issuer when --service-account-issuer is not given
// (kube-apiserver requires the flag; this is the value kubeadm and kind
// pass it).
const DefaultIssuer = "https://kubernetes.default.svc.cluster.local"

// Config configures an Issuer.
type Config struct {
	// Issuers (--service-account-issuer): the first one is written in new
	// tokens, all are accepted. Required.
	Issuers []string
	// APIAudiences (--api-audiences) are the audiences of tokens for the
	// API itself; empty means the first issuer.
	APIAudiences []string
	// SigningKey (--service-account-signing-key-file) signs new tokens.
	// Required.
	SigningKey crypto.Signer
	// PublicKeys (--service-account-key-file) verify tokens besides the
	// signing key's public key.
	PublicKeys []crypto.PublicKey
	// MaxExpiration (--service-account-max-token-expiration) caps the
	// lifetime of requested tokens; 0 means none.
	MaxExpiration time.Duration
	// ExtendExpiration (--service-account-extend-token-expiration, on by
	// default upstream) lets pod-bound tokens of 3607 seconds live a year
	// with a warnafter claim.
	ExtendExpiration bool
	// JWKSURI (--service-account-jwks-uri) overrides the jwks_uri of the
	// OIDC discovery document.
	JWKSURI string
	// Getter reads the objects tokens are bound to. Required to
	// authenticate.
	Getter Getter
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long a successful authentication is reused; 0
	// means DefaultCacheTTL, negative none.
	CacheTTL time.Duration
}

// Getter reads the objects a token names: serviceaccounts, pods,
// secrets (namespaced) and nodes. fresh false may answer from a cache (as
// upstream's listers); true reads the latest state.
type Getter interface {
	Get(ctx context.Context, resource, namespace, name string, fresh bool) (Object, error)
}

// Object is what the authenticator needs of an object.
type Object struct {
	UID string
	// Deleted is the deletion timestamp; zero when none.
	Deleted time.Time
	// Token and InvalidSince are a service account token secret's token
	// and its kubernetes.io/legacy-token-invalid-since label.
	Token, InvalidSince string
}

// Issuer issues and verifies service account tokens.
type Issuer struct {
	cfg     Config
	signer  *signer
	keys    []verifyKey
	issuers map[string]bool
	// jwks and oidc are the discovery documents.
	jwks, oidc []byte
	cache      *cache // nil: none
}

// New returns an Issuer for c.
func New(c Config) (*Issuer, error) {
	if len(c.Issuers) == 0 {
		return nil, errors.New("service-account-issuer is a required flag")
	}
	if c.SigningKey == nil {
		return nil, errors.New("a service account signing key is required")
	}
	if len(c.APIAudiences) == 0 {
		c.APIAudiences = []string{c.Issuers[0]}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	s, err := newSigner(c.SigningKey)
	if err != nil {
		return nil, err
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	iss := &Issuer{cfg: c, signer: s, issuers: map[string]bool{}, cache: newCache(c.CacheTTL)}
	for _, i := range c.Issuers {
		iss.issuers[i] = true
	}
	pubs := append([]crypto.PublicKey{c.SigningKey.Public()}, c.PublicKeys...)
	for _, p := range pubs {
		kid, err := KeyID(p)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(iss.keys, func(k verifyKey) bool { return k.kid == kid }) {
			continue
		}
		iss.keys = append(iss.keys, verifyKey{kid: kid, pub: p})
	}
	if iss.jwks, iss.oidc, err = discoveryDocs(iss); err != nil {
		return nil, err
	}
	return iss, nil
}

// APIAudiences are the audiences of tokens for the API.
func (i *Issuer) APIAudiences() []string { return slices.Clone(i.cfg.APIAudiences) }

// Token is what Issue makes a token of.
type Token struct {
	Namespace, Name, UID string // the service account
	// Pod, Secret and Node are the bound objects (Node with a Pod: the
	// pod's node).
	Pod, Secret, Node *Ref
	Audiences         []string
	// Expiration is the lifetime; WarnAfter, when not 0, the warnafter
	// claim's offset.
	Expiration, WarnAfter time.Duration
	// Now is the issue time; zero means the Issuer's clock.
	Now time.Time
}

// Issue signs a token with upstream's claims.
func (i *Issuer) Issue(t Token) (string, *Claims, error) {
	now := t.Now
	if now.IsZero() {
		now = i.cfg.Now()
	}
	c := &Claims{
		Issuer:    i.cfg.Issuers[0],
		Subject:   MakeUsername(t.Namespace, t.Name),
		Audience:  Audience(t.Audiences),
		IssuedAt:  NewNumericDate(now),
		NotBefore: NewNumericDate(now),
		Expiry:    NewNumericDate(now.Add(t.Expiration)),
		ID:        string(uuid.NewUUID()),
		Kubernetes: &Private{Namespace: t.Namespace, ServiceAccount: Ref{Name: t.Name, UID: t.UID},
			Pod: t.Pod, Secret: t.Secret, Node: t.Node},
	}
	if t.Pod != nil && t.Secret != nil {
		return "", nil, errors.New("internal error, token can only be bound to one object type")
	}
	if t.WarnAfter != 0 {
		c.Kubernetes.WarnAfter = NewNumericDate(now.Add(t.WarnAfter))
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", nil, err
	}
	tok, err := i.signer.sign(payload)
	if err != nil {
		return "", nil, fmt.Errorf("failed to generate token: %v", err)
	}
	return tok, c, nil
}
