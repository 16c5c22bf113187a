package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"net/url"
	"slices"
)

// The OIDC discovery paths and their content types, as upstream's.
const (
	OpenIDConfigPath = "/.well-known/openid-configuration"
	JWKSPath         = "/openid/v1/jwks"
	OpenIDConfigType = "application/json"
	JWKSType         = "application/jwk-set+json"
	// CacheControl is what both documents are served with.
	CacheControl = "public, max-age=3600"
)

// openIDMetadata is upstream's openIDMetadata.
type openIDMetadata struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

// jwk is a public JSON Web Key as go-jose writes it.
type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	Alg string `json:"alg"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// OpenIDConfiguration is the /.well-known/openid-configuration document.
func (i *Issuer) OpenIDConfiguration() []byte { return i.oidc }

// JWKS is the /openid/v1/jwks document.
func (i *Issuer) JWKS() []byte { return i.jwks }

// discoveryDocs builds both documents, as upstream's
// serviceaccount.NewOpenIDMetadataProvider.
func discoveryDocs(i *Issuer) (jwks, oidc []byte, err error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	var algs []string
	for _, k := range i.keys {
		j := jwk{Use: "sig", Kid: k.kid}
		switch pub := k.pub.(type) {
		case *rsa.PublicKey:
			j.Kty, j.Alg = "RSA", "RS256"
			j.N = b64.EncodeToString(pub.N.Bytes())
			j.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			alg, err := ecAlgorithm(pub.Curve)
			if err != nil {
				return nil, nil, err
			}
			size := (pub.Curve.Params().BitSize + 7) / 8
			x, y := make([]byte, size), make([]byte, size)
			pub.X.FillBytes(x)
			pub.Y.FillBytes(y)
			j.Kty, j.Alg, j.Crv = "EC", alg, pub.Curve.Params().Name
			j.X, j.Y = b64.EncodeToString(x), b64.EncodeToString(y)
		}
		set.Keys = append(set.Keys, j)
		if !slices.Contains(algs, j.Alg) {
			algs = append(algs, j.Alg)
		}
	}
	slices.Sort(algs)
	if jwks, err = json.Marshal(set); err != nil {
		return nil, nil, err
	}
	jwksURI := i.cfg.JWKSURI
	if jwksURI == "" {
		u, err := url.Parse(i.cfg.Issuers[0])
		if err != nil {
			return nil, nil, err
		}
		jwksURI = u.ResolveReference(&url.URL{Path: JWKSPath}).String()
	}
	oidc, err = json.Marshal(openIDMetadata{Issuer: i.cfg.Issuers[0], JWKSURI: jwksURI,
		ResponseTypes: []string{"id_token"}, SubjectTypes: []string{"public"}, SigningAlgs: algs})
	return jwks, oidc, err
}
