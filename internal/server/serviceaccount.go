package server

import (
	"crypto"
	"fmt"
	"log/slog"

	"github.com/regis-dev/regis/internal/registry"
	"github.com/regis-dev/regis/internal/serviceaccount"
)

// serviceAccounts are the server's service account tokens: the issuer
// (--service-account-* flags) and the registry it reads accounts from.
type serviceAccounts struct {
	issuer *serviceaccount.Issuer
	getter *serviceaccount.RegistryGetter
}

// newServiceAccounts loads or generates the signing key, loads the
// verification keys and adds serviceaccounts/token (TokenRequest) to the
// serviceaccounts row of rs.
func newServiceAccounts(o Options, rs []*registry.Resource) (*serviceAccounts, error) {
	var key crypto.Signer
	var err error
	if o.ServiceAccountSigningKeyFile != "" {
		if key, err = serviceaccount.LoadSigningKey(o.ServiceAccountSigningKeyFile); err != nil {
			return nil, fmt.Errorf("--service-account-signing-key-file: %w", err)
		}
	} else if key, err = serviceaccount.EnsureSigningKey(o.pkiDir()); err != nil {
		return nil, fmt.Errorf("service account signing key in %s: %w", o.pkiDir(), err)
	}
	var pubs []crypto.PublicKey
	for _, f := range o.ServiceAccountKeyFiles {
		keys, err := serviceaccount.LoadPublicKeys(f)
		if err != nil {
			return nil, fmt.Errorf("--service-account-key-file %s: %w", f, err)
		}
		pubs = append(pubs, keys...)
	}
	issuers := o.ServiceAccountIssuers
	if len(issuers) == 0 {
		issuers = []string{serviceaccount.DefaultIssuer}
	}
	sa := &serviceAccounts{getter: &serviceaccount.RegistryGetter{}}
	sa.issuer, err = serviceaccount.New(serviceaccount.Config{
		Issuers: issuers, APIAudiences: o.APIAudiences, SigningKey: key, PublicKeys: pubs,
		MaxExpiration: o.ServiceAccountMaxTokenExpiration, ExtendExpiration: o.ServiceAccountExtendTokenExpiration,
		JWKSURI: o.ServiceAccountJWKSURI, Getter: sa.getter,
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Group == "" && r.Resource == "serviceaccounts" {
			r.Subresources = append(r.Subresources, sa.issuer.TokenRequestRule())
		}
	}
	return sa, nil
}

// use makes the issuer read accounts from reg and returns it as the
// token authenticator.
func (sa *serviceAccounts) use(reg *registry.Registry) *serviceaccount.Issuer {
	sa.getter.Registry = reg
	return sa.issuer
}

// legacyTokens is the controller that fills in service account token
// secrets (with rootCA as their ca.crt).
func (sa *serviceAccounts) legacyTokens(reg *registry.Registry, rootCA []byte, log *slog.Logger) *serviceaccount.LegacyTokens {
	return serviceaccount.NewLegacyTokens(reg, sa.issuer, rootCA, log)
}
