package serviceaccount

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// LegacyIssuer is the issuer of the tokens of kubernetes.io/service-account-token
// secrets (upstream's legacy tokens: no audience, no expiry).
const LegacyIssuer = "kubernetes/serviceaccount"

// legacyClaims are a legacy token's claims, in go-jose's order.
type legacyClaims struct {
	Issuer             string `json:"iss"`
	Namespace          string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName         string `json:"kubernetes.io/serviceaccount/secret.name"`
	ServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name"`
	ServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid"`
	Subject            string `json:"sub"`
}

// IssueLegacy signs the token of a service account token secret
// (upstream's LegacyClaims).
func (i *Issuer) IssueLegacy(sa *corev1.ServiceAccount, secretName string) (string, error) {
	payload, err := json.Marshal(legacyClaims{Issuer: LegacyIssuer, Namespace: sa.Namespace, SecretName: secretName,
		ServiceAccountName: sa.Name, ServiceAccountUID: string(sa.UID), Subject: MakeUsername(sa.Namespace, sa.Name)})
	if err != nil {
		return "", err
	}
	return i.signer.sign(payload)
}

// validateLegacy is upstream's legacy validator with lookups: the
// secret must still hold the token, the account exist with its uid.
func (i *Issuer) validateLegacy(ctx context.Context, token string, payload []byte) (*accountInfo, error) {
	var c legacyClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	switch {
	case c.Subject == "":
		return nil, errors.New("sub claim is missing")
	case c.Namespace == "":
		return nil, errors.New("namespace claim is missing")
	case c.SecretName == "":
		return nil, errors.New("secretName claim is missing")
	case c.ServiceAccountName == "":
		return nil, errors.New("serviceAccountName claim is missing")
	case c.ServiceAccountUID == "":
		return nil, errors.New("serviceAccountUID claim is missing")
	}
	ns, name, err := SplitUsername(c.Subject)
	if err != nil || ns != c.Namespace || name != c.ServiceAccountName {
		return nil, errors.New("sub claim is invalid")
	}
	secret, err := i.cfg.Getter.Get(ctx, "secrets", ns, c.SecretName, false)
	if err == nil && secret.Token != token {
		secret, err = i.cfg.Getter.Get(ctx, "secrets", ns, c.SecretName, true)
	}
	if err != nil || !secret.Deleted.IsZero() || secret.InvalidSince != "" {
		return nil, errors.New("token has been invalidated")
	}
	if secret.Token != token {
		return nil, errors.New("token does not match server's copy")
	}
	sa, err := i.get(ctx, "serviceaccounts", ns, name, c.ServiceAccountUID)
	if err != nil {
		return nil, err
	}
	if !sa.Deleted.IsZero() {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, name)
	}
	if sa.UID != c.ServiceAccountUID {
		return nil, fmt.Errorf("service account UID (%s) does not match claim (%s)", sa.UID, c.ServiceAccountUID)
	}
	return &accountInfo{Namespace: ns, Name: name, UID: c.ServiceAccountUID}, nil
}
